// Package notify sends Réso's mails: it follows the log like a projection
// (checkpointed, one runner across replicas) and turns each event of a need
// into delivery jobs, which River (github.com/riverqueue/river) runs with
// retries and backoff; periodic River jobs send the day-9 and day-21
// reminders and the weekly digest; admins list failed deliveries and retry
// them; a one-time sign-in link goes out at once.
//
// Exactly-once enqueueing: the jobs an event causes and the notifier's new
// checkpoint are written in one transaction of the queue's database
// (PostgreSQL's own, or on the embedded default a SQLite file of its own,
// notify.db, holding River's tables and the notifier's). Each job is unique
// per (cause, recipient, kind), so a second replica or a retried enqueue
// adds nothing. A job first looks for its NotificationSent in the need's
// notification stream and sends nothing when it is there; a row written
// just before the SMTP transaction's final dot tells a job whose process
// died after handing the mail over to record it rather than send it again
// (docs/notifications.md).
//
// The notifier starts at the head of the log the first time it is enabled:
// replaying, rebuilding, seeding the demo or importing history sends
// nothing (SkipTo moves it past events appended behind its back, and events
// that happened long before they were recorded are history, never
// notified).
//
// Mail never holds a company contact's address outside the sealed capture:
// the notifier opens it through internal/keys when it sends, and sends
// nothing once the contact is erased.
package notify
