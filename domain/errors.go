package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the domain. Commands return them (possibly wrapped or
// as the typed errors below); callers test them with errors.Is.
var (
	// ErrNeedNotFound: the command targets a need that was never captured.
	ErrNeedNotFound = errors.New("need not found")
	// ErrAlreadyCaptured: Capture on a need that already exists.
	ErrAlreadyCaptured = errors.New("need already captured")
	// ErrAlreadyMatched: Forward to a referent the need already has a match with.
	ErrAlreadyMatched = errors.New("referent already matched")
	// ErrMatchNotFound: the need has no match with that referent.
	ErrMatchNotFound = errors.New("match not found")
	// ErrInvalidTransition: a match status change outside the transition
	// table; the concrete error is a *TransitionError.
	ErrInvalidTransition = errors.New("invalid match transition")
	// ErrAbandonRefused: Abandon once a match is taking care or closed.
	ErrAbandonRefused = errors.New("abandon refused")
	// ErrAlreadyErased: EraseContact on a contact already erased.
	ErrAlreadyErased = errors.New("contact already erased")
	// ErrNeedAbandoned: a command that an abandoned need no longer accepts.
	ErrNeedAbandoned = errors.New("need abandoned")
	// ErrNotForwarded: Remind on a need that has no match yet.
	ErrNotForwarded = errors.New("need not forwarded")
	// ErrValidation: an input was refused; the concrete error is a
	// *ValidationError naming the field.
	ErrValidation = errors.New("validation failed")
	// ErrUnknownEventType: Unmarshal of a type the domain does not know.
	ErrUnknownEventType = errors.New("unknown event type")
	// ErrUnsupportedVersion: Unmarshal of a known type at a schema version
	// the domain cannot read.
	ErrUnsupportedVersion = errors.New("unsupported event schema version")
	// ErrEventMismatch: Apply of an event that does not fit the state (an
	// event of another need, a match that does not exist, a transition that
	// does not start from the match's status...). It means a corrupted or
	// misrouted stream.
	ErrEventMismatch = errors.New("event does not fit the state")
)

// TransitionError is a refused match status change. errors.Is(err,
// ErrInvalidTransition) is true.
type TransitionError struct {
	From, To MatchStatus
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("cannot go from %s to %s", e.From, e.To)
}

// Is makes errors.Is(err, ErrInvalidTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalidTransition }

// ValidationError says which input field was refused and why. errors.Is(err,
// ErrValidation) is true.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Message)
}

// Is makes errors.Is(err, ErrValidation) true.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ValidationErrors are several refused inputs of one command, reported
// together so that a form can be corrected at once. errors.Is(err,
// ErrValidation) is true, and errors.As finds the first *ValidationError.
type ValidationErrors []*ValidationError

func (es ValidationErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap exposes each refused input to errors.Is and errors.As.
func (es ValidationErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// JoinValidation gathers the validation errors among errs (nil ones are
// skipped): nil when there is none, the *ValidationError itself when there
// is one, ValidationErrors otherwise. A non-validation error wins: it is
// returned alone, since the input cannot be judged past it.
func JoinValidation(errs ...error) error {
	var out ValidationErrors
	for _, err := range errs {
		if err == nil {
			continue
		}
		var ves ValidationErrors
		var ve *ValidationError
		switch {
		case errors.As(err, &ves):
			out = append(out, ves...)
		case errors.As(err, &ve):
			out = append(out, ve)
		default:
			return err
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}
