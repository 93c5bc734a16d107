package bosh

import "errors"

// asError is errors.As for tests.
func asError[T error](err error, target *T) bool {
	return err != nil && errors.As(err, target)
}
