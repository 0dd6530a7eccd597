package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// errKind classifies a driver error for the store's decisions.
type errKind int

const (
	errOther        errKind = iota
	errDuplicateID          // unique violation on events.event_id
	errVersionTaken         // unique violation on (stream_id, stream_version)
	errRetryable            // serialization failure or deadlock: run again
	errInvalidInput         // the server refused the text (encoding, JSON)
)

// classify is the one place that reads PostgreSQL error codes.
func classify(err error) errKind {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return errOther
	}
	switch pgErr.Code {
	case "23505": // unique_violation
		switch pgErr.ConstraintName {
		case "events_event_id_key":
			return errDuplicateID
		case "events_stream_version_key":
			return errVersionTaken
		}
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return errRetryable
	case "22P02", "22021", "22P05", "54000": // invalid text/JSON, bad encoding, untranslatable character, too long
		return errInvalidInput
	}
	return errOther
}

// pgMessage returns the server's message for err, or err's text.
func pgMessage(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Message
	}
	return err.Error()
}

// pgDetail returns the server's detail (which key collided), or its message.
func pgDetail(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Detail != "" {
		return pgErr.Detail
	}
	return pgMessage(err)
}
