// Package simulate drives the domain with a realistic, deterministic
// workload on real communes of Hauts-de-France (région 32): a directory of
// organisations, antennes, referents and users, then needs captured by
// advisors, forwarded to the referents routing suggests, taken in charge,
// declined, closed, reminded and abandoned after realistic delays. Tests,
// benchmarks and the demo use it.
//
// Each need's whole life is decided in memory through domain commands, then
// appended to its stream with its expected version; the same seed gives the
// same events with the same ids.
package simulate
