package draws

import (
	"errors"
	"fmt"
)

// InputError marks an error caused by the caller's input rather than by
// lmmbayes: a missing or unreadable run, draws whose columns do not fit
// the model, a data file that changed since the run. The lmmbayes
// command exits with code 2 on it, 1 on any other error. Test for it
// with errors.As.
type InputError struct{ Err error }

// Error returns the underlying error's message.
func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *InputError) Unwrap() error { return e.Err }

// Inputf returns an *InputError with a formatted message.
func Inputf(format string, args ...any) error {
	return &InputError{fmt.Errorf(format, args...)}
}

// AsInput marks err as an *InputError, keeping its message (nil stays
// nil; an error that already is one is returned as it is).
func AsInput(err error) error {
	if err == nil {
		return nil
	}
	var ie *InputError
	if errors.As(err, &ie) {
		return err
	}
	return &InputError{err}
}
