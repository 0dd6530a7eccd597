package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

type codedErr int

func (c codedErr) Error() string { return fmt.Sprintf("code %d", int(c)) }
func (c codedErr) Code() int     { return int(c) }

func TestIsBusy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{codedErr(5), true},
		{fmt.Errorf("begin: %w", codedErr(5|2<<8)), true}, // SQLITE_BUSY_SNAPSHOT
		{codedErr(6), false},                              // SQLITE_LOCKED
		{errors.New("database is locked"), false},
		{nil, false},
	} {
		if got := isBusy(tc.err); got != tc.want {
			t.Errorf("isBusy(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestBeginOutlastsBusyTimeout holds SQLite's write lock for 6 s, longer
// than the driver's busy_timeout (5 s): a BEGIN fails with SQLITE_BUSY (seen
// at once with a 10 ms timeout), the runner's begin keeps trying and gets
// the lock once it is released.
func TestBeginOutlastsBusyTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a lock for 6 s")
	}
	t.Parallel()
	ctx := context.Background()
	handle, err := OpenDB(filepath.Join(t.TempDir(), "busy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer handle.Close()
	db := handle.SQL()
	holder, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	held, err := holder.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	release := time.AfterFunc(6*time.Second, func() { _ = held.Rollback() })
	// Closing holder waits for its transaction: end it even when the test
	// fails early.
	defer func() { release.Stop(); _ = held.Rollback() }()

	plain, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.ExecContext(ctx, "PRAGMA busy_timeout = 10"); err != nil {
		t.Fatal(err)
	}
	if tx, err := plain.BeginTx(ctx, nil); err == nil {
		_ = tx.Rollback()
		t.Fatal("plain BEGIN succeeded while another connection held the write lock")
	} else if !isBusy(err) {
		t.Fatalf("plain BEGIN: %v, want SQLITE_BUSY", err)
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := beginRetryingBusy(ctx, conn)
	if err != nil {
		t.Fatalf("begin retrying busy: %v", err)
	}
	_ = tx.Rollback()
}
