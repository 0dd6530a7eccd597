package app

import "errors"

// Errors of the application layer. Domain errors (domain.ValidationError,
// domain.TransitionError, domain.ErrAbandonRefused, ...) pass through
// wrapped, so callers test both with errors.Is / errors.As.
var (
	// ErrForbidden: the principal's role or scope does not allow the action.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: the need, referent or organisation does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated: no valid token.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrConflict: the command kept losing to concurrent writers.
	ErrConflict = errors.New("too many concurrent changes")
)
