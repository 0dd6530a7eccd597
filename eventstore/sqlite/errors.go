package sqlite

import (
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/reso-fr/reso/eventstore"
)

// errBusy marks a driver error worth retrying: another connection holds the
// write lock past busy_timeout, or a read snapshot went stale.
var errBusy = errors.New("sqlite busy")

// translate is the one place that reads driver errors: it maps them to the
// store's sentinels (wrapped with the driver's message) and returns other
// errors unchanged. nil stays nil.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("%w: %v", errBusy, err)
	case sqlite3.SQLITE_CONSTRAINT:
		msg := se.Error()
		switch {
		case strings.Contains(msg, "eventstore_events.event_id"):
			return fmt.Errorf("%w: %v", eventstore.ErrDuplicateEvent, err)
		case strings.Contains(msg, "eventstore_events.stream_id"):
			// Writers are serialised, so only a writer that ignored the
			// lock could get here; report it as the conflict it is.
			return fmt.Errorf("%w: %v", eventstore.ErrConcurrency, err)
		}
	}
	return err
}
