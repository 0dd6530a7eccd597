// Package layering holds no code: its test checks that the module's
// dependencies point down (docs/projections.md, "Layout"). Store adapters
// import nothing under internal/, internal/backend does not reach the HTTP
// API, and the projections runtime knows no read model.
package layering
