package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/eventstore/sqlite/sqlitetest"
	"github.com/reso-fr/reso/sqldb"
)

// Every way to write through the DB — Exec, WriteTx, a relay's slice, the
// store's appends — waits while the writers are held (the gate), and
// writes once they are let go.
func TestDBWritesTakeTurns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := sqlite.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := db.Exec(ctx, `CREATE TABLE t (x INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	writes := map[string]func() error{
		"exec": func() error { _, err := db.Exec(ctx, `INSERT INTO t VALUES (1)`); return err },
		"tx": func() error {
			return db.WriteTx(ctx, func(tx *sqldb.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (2)`)
				return err
			})
		},
		"relay": func() error {
			r, err := db.Relay(ctx)
			if err != nil {
				return err
			}
			defer r.Close(false)
			if err := r.Write(ctx); err != nil {
				return err
			}
			if _, err := r.Conn().ExecContext(ctx, `INSERT INTO t VALUES (3)`); err != nil {
				return err
			}
			return r.Pause(ctx)
		},
		"append": func() error {
			_, err := st.Append(ctx, "s", eventstore.AnyVersion, eventstore.NewEvent{Type: "Probe", Data: []byte(`{}`)})
			return err
		},
	}
	sqlitetest.MustTakeTurns(t, db, writes)
}
