// Package websession keeps what a browser needs to use the web console:
// server-side sessions behind a signed cookie, which an admin or the user
// can revoke; the one-time sign-in links that open them (issued by `reso
// users link` and by the notifier's sign-in mail: see Store.IssueLink); and
// the console's form submissions, so that a form posted twice acts once.
//
// Its tables are created by numbered SQL files, one set per dialect
// (migrations/sqlite, migrations/postgres), recorded in
// websession_migrations.
package websession
