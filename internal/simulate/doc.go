// Package simulate drives the domain with a realistic, deterministic
// workload on real communes of Hauts-de-France (région 32): a directory of
// organisations, antennes, referents and users, then needs captured by
// advisors, forwarded to the referents routing suggests, taken in charge,
// declined, closed, reminded and abandoned after realistic delays. Tests,
// benchmarks and the demo use it.
//
// Each need's whole life is decided in memory through domain commands and
// cut into steps, the events of one instant (a capture, a forward, a
// referent's answer, a reminder...). Each step is then its own append, with
// its expected version, and steps are appended in chronological order
// across needs, give or take the skew between concurrent writers. So the
// log is what a live system writes, one command at a time, the needs of
// thousands of companies interleaved, and the projections built from it
// meet rows that change across batches as they would in production; a log
// written need by need would put two months of one need's life side by
// side. The same seed gives the same events with the same ids, however
// the appends interleave.
package simulate
