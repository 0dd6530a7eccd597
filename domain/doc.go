// Package domain holds the rules of the business-support network: the need
// lifecycle (capture, forward, match transitions, reminders, abandon,
// erasure), the directory of organisations and referents, territories,
// routing and SIRET numbers.
//
// It is pure: it imports only the standard library and uuid, never reads a
// clock (instants come in as arguments) and does no I/O. A command method
// checks the rules and records events; state changes only by applying them.
//
// Errors are sentinels tested with errors.Is (ErrNeedNotFound,
// ErrAlreadyMatched, ...) and two typed errors: *ValidationError, for a
// refused input field (errors.Is ErrValidation), and *TransitionError, for a
// match status change outside DESIGN.md's table (errors.Is
// ErrInvalidTransition). docs/domain.md lists the rules decided here.
package domain
