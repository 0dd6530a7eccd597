// Package mail sends Réso's mails: a Message (French plain text and HTML,
// a stable Message-ID) goes out over SMTP with github.com/wneessen/go-mail
// (STARTTLS when the server offers it, authentication when the URL has
// credentials), or, without a mail server, is written as an .eml file to an
// outbox directory.
//
// A Sender is safe for concurrent use. Send returns the transport's error,
// wrapped; *SMTPError says whether the server refused the message for good
// (a 5xx reply) or the failure may pass (connection, 4xx).
package mail
