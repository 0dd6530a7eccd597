package app

import "errors"

// Errors of the application layer. Domain errors (domain.ValidationError,
// domain.TransitionError, domain.ErrAbandonRefused, ...) pass through
// wrapped, so callers test both with errors.Is / errors.As.
var (
	// ErrForbidden: the principal's role does not allow the action. The
	// service returns it as a *ForbiddenError that says why.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: the need, referent or organisation does not exist, or
	// lies outside the principal's scope.
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated: no valid token.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrConflict: the command kept losing to concurrent writers.
	ErrConflict = errors.New("too many concurrent changes")
)

// UnauthenticatedError is a refused credential with the reason its holder
// may know (unknown, expired on a date, revoked). errors.Is(err,
// ErrUnauthenticated) holds.
type UnauthenticatedError struct{ Reason string }

func (e *UnauthenticatedError) Error() string { return "unauthenticated: " + e.Reason }

// Is makes errors.Is(err, ErrUnauthenticated) hold.
func (e *UnauthenticatedError) Is(target error) bool { return target == ErrUnauthenticated }

// ErrUnavailable: the storage cannot serve now (PostgreSQL down,
// restarting or unreachable); a later attempt may succeed.
var ErrUnavailable = errors.New("storage unavailable")

// Errors of the read side.
var (
	// ErrLagging: the read models did not reach the position asked for in
	// time; retry.
	ErrLagging = errors.New("read models behind")
	// ErrRebuildRunning: a rebuild runs already; one at a time.
	ErrRebuildRunning = errors.New("a rebuild is already running")
)
