// Package app is Réso's application layer: it authorises a principal, loads a
// need's stream from the log, lets the domain decide, seals and opens contact
// data, and appends the resulting events with the expected version, retrying
// when a concurrent writer got there first. The HTTP layer only translates.
package app
