package postgres

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

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

// IsUnavailable reports whether err, from this store or from any other use
// of pgx on the same server (read models, keys, credentials share its
// pool), means the PostgreSQL server cannot serve now: down or
// unreachable, starting up or shutting down, out of connections, or the
// connection broke during the call. A later attempt may succeed: the HTTP
// API answers 503 with Retry-After. Other server errors (a refused
// password, a bad statement) are not: retrying cannot help.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
			"53300": // too_many_connections
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection_exception
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
