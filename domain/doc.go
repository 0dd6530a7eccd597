// Package domain holds the rules of the business-support network: the need
// lifecycle (capture, forward, match transitions, reminders, abandon,
// erasure), the directory of organisations and referents, territories,
// routing and SIRET numbers.
//
// It is pure: it imports only the standard library and uuid, never reads a
// clock (instants come in as arguments) and does no I/O. A command method
// checks the rules and records events; state changes only by applying them.
package domain
