// Package httpapi is Réso's JSON API over HTTP: routes (chi), request
// decoding, authentication, problem+json errors, Idempotency-Key replay,
// read-your-writes waiting (min_position), statistics exports, health and
// Prometheus metrics, and the OpenAPI 3.1 document of all of it.
//
// Authorization is decided by the application service (internal/app); this
// package only translates HTTP to service calls and errors to statuses.
package httpapi
