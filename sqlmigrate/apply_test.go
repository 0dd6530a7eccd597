package sqlmigrate_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

func mustDB(t *testing.T, d sqldb.Dialect) sqldb.DB {
	t.Helper()
	if d == sqldb.SQLite {
		db, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "m.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db, err := sql.Open("pgx", pgtest.MustSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return sqldb.NewPostgres(db)
}

// Apply applies each set's files once, in version order, with the
// dialect's own files; Check tells a database that misses some.
func TestApplyAndCheck(t *testing.T) {
	t.Parallel()
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := mustDB(t, d)
			first := fstest.MapFS{"0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER NOT NULL)`)}}
			set := sqlmigrate.Set{Name: "things", SQLite: first, Postgres: first}
			if err := sqlmigrate.Check(ctx, db, set); !errors.Is(err, sqlmigrate.ErrPending) {
				t.Fatalf("Check before Apply: %v, want ErrPending", err)
			}
			if n, err := sqlmigrate.Apply(ctx, db, set); err != nil || n != 1 {
				t.Fatalf("Apply = %d, %v; want 1", n, err)
			}
			if err := sqlmigrate.Check(ctx, db, set); err != nil {
				t.Fatalf("Check after Apply: %v", err)
			}
			// A second file, in each dialect's own form, builds on the first.
			set.SQLite = fstest.MapFS{"0001_a.sql": first["0001_a.sql"],
				"0002_b.sql": {Data: []byte(`ALTER TABLE a ADD COLUMN y BLOB; INSERT INTO a (x) VALUES (2)`)}}
			set.Postgres = fstest.MapFS{"0001_a.sql": first["0001_a.sql"],
				"0002_b.sql": {Data: []byte(`ALTER TABLE a ADD COLUMN y BYTEA; INSERT INTO a (x) VALUES (2)`)}}
			if err := sqlmigrate.Check(ctx, db, set); !errors.Is(err, sqlmigrate.ErrPending) {
				t.Fatalf("Check with a new file: %v, want ErrPending", err)
			}
			for want := 1; want >= 0; want-- { // the second time finds nothing to do
				if n, err := sqlmigrate.Apply(ctx, db, set); err != nil || n != want {
					t.Fatalf("Apply = %d, %v; want %d", n, err, want)
				}
			}
			var rows, recorded int
			if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM a WHERE y IS NULL`).Scan(&rows); err != nil || rows != 1 {
				t.Fatalf("table a: %d rows, %v", rows, err)
			}
			if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM things_migrations`).Scan(&recorded); err != nil || recorded != 2 {
				t.Fatalf("things_migrations: %d rows, %v; want 2", recorded, err)
			}
		})
	}
}

// A migration that fails is not recorded and leaves nothing behind; the
// ones before it stay applied, and Apply says which file failed.
func TestApplyStopsAtAFailingMigration(t *testing.T) {
	t.Parallel()
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := mustDB(t, d)
			files := fstest.MapFS{
				"0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER)`)},
				"0002_b.sql": {Data: []byte(`CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1)`)},
			}
			set := sqlmigrate.Set{Name: "things", SQLite: files, Postgres: files}
			_, err := sqlmigrate.Apply(ctx, db, set)
			if err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
				t.Fatalf("Apply = %v, want the failure of 0002_b.sql", err)
			}
			if _, err := db.SQL().ExecContext(ctx, `SELECT 1 FROM b`); err == nil {
				t.Fatal("the failed migration left its table")
			}
			if err := sqlmigrate.Check(ctx, db, set); !errors.Is(err, sqlmigrate.ErrPending) {
				t.Fatalf("Check after a failure: %v, want ErrPending", err)
			}
		})
	}
}
