package events

// Error returns the error type and the reason, as in
// "connection.passwordRequired: not-authorized". Without a reason it uses the
// cause's text, and without either the error type alone. An empty Err counts
// as OtherError here and in Is.
func (f Failed) Error() string {
	name := string(f.errorType())
	switch {
	case f.Reason != "":
		return name + ": " + f.Reason
	case f.Cause != nil:
		return name + ": " + f.Cause.Error()
	}
	return name
}

// Unwrap returns Cause, so that errors.Is and errors.As reach the underlying
// error.
func (f Failed) Unwrap() error { return f.Cause }

// Is reports whether target is the ErrorType of f, so that
// errors.Is(err, PasswordRequired) holds for a Failed of that type.
func (f Failed) Is(target error) bool {
	t, ok := target.(ErrorType)
	return ok && t == f.errorType()
}

// errorType returns f.Err, or OtherError when it is empty.
func (f Failed) errorType() ErrorType {
	if f.Err == "" {
		return OtherError
	}
	return f.Err
}
