// Package console is Réso's web console: the pages advisors, referents,
// animateurs, funders and admins work in, rendered on the server with
// html/template in French. It is the second door in front of
// internal/app: every page asks the service for what it shows, with the
// signed-in person's principal, and each route declares the action of the
// role matrix it requires (deny by default). Pages work without
// JavaScript; a small script only enhances (commune search, SIRET check as
// typed, a rebuild's progress). Browser sessions live in
// internal/websession.
package console
