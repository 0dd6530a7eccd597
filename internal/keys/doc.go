// Package keys seals company contacts' personal data under a key per data
// subject, kept in a table outside the log, so that deleting the key erases
// the data everywhere the log copied it (crypto-shredding).
//
// A data subject is a contact person of a company: their normalised email
// together with the company's SIRET. Look-up columns hold a keyed hash
// (HMAC-SHA256 with a secret generated once and kept in the same database)
// of the email, never the email itself; the SIRET identifies a company, not
// a person, so it is stored as is.
package keys
