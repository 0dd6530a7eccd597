// Package auth keeps users' credentials outside the log: random bearer
// tokens, shown once and stored only as a hash, each bound to the user's
// principal data (role, organisation, referent, territories).
package auth
