package bosh

import (
	"net/url"
	"strings"
)

// redactURL returns s with the password of its user info and the value of a
// token query parameter replaced, so that it can appear in errors and logs.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid url)"
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if strings.EqualFold(k, "token") {
				q[k] = []string{"REDACTED"}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}

// redactError returns err with the URL of a *url.Error redacted; the
// errors it wraps are kept, so errors.Is and the Timeout method still work.
func redactError(err error) error {
	ue, ok := err.(*url.Error) // what http.Client.Do returns
	if !ok {
		return err
	}
	return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
}
