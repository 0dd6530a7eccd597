package projections

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"time"
)

// busyPatience bounds how long a writer keeps retrying BEGIN while another
// connection holds SQLite's write lock.
const busyPatience = 30 * time.Second

// beginRetryingBusy begins a transaction on conn, trying again while SQLite
// answers SQLITE_BUSY. SQLite's own busy handler (busy_timeout) is not fair:
// on a loaded machine one of several waiters — three runners, the event
// store's writer, the keyring — can lose for longer than its timeout, and a
// runner that fails shows as failed until it restarts. The retry is safe
// because read-write transactions begin IMMEDIATE: the write lock is taken
// at BEGIN, so nothing has been written when it is refused. It returns the
// last error once ctx ends or busyPatience has passed.
func beginRetryingBusy(ctx context.Context, conn *sql.Conn) (*sql.Tx, error) {
	deadline := time.Now().Add(busyPatience)
	for {
		tx, err := conn.BeginTx(ctx, nil)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return tx, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (primary code 5),
// through the Code method of the driver's error type, so that this package
// needs not import the driver.
func isBusy(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == 5
}
