package sqlmigrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/reso-fr/reso/sqldb"
)

// Set is the numbered migrations of one component of a database (the
// event store, the projections' checkpoints, the contact keys...), with
// files per dialect; both may be the same file system. Its applied
// versions are recorded in the table <Name>_migrations.
type Set struct {
	Name     string
	SQLite   fs.FS
	Postgres fs.FS
}

// ErrPending means a set has migrations its database has not applied.
var ErrPending = errors.New("migrations not applied")

func (s Set) table() string { return s.Name + "_migrations" }

// load returns the set's migrations for d.
func (s Set) load(d sqldb.Dialect) ([]Migration, error) {
	fsys := s.SQLite
	if d == sqldb.Postgres {
		fsys = s.Postgres
	}
	if fsys == nil {
		return nil, fmt.Errorf("migrations of %s: none for %s", s.Name, d)
	}
	ms, err := Load(fsys)
	if err != nil {
		return nil, fmt.Errorf("migrations of %s: %w", s.Name, err)
	}
	return ms, nil
}

// Apply applies, in version order, the migrations of each set that db has
// not recorded, and records them: the one way Réso creates and changes
// tables. On SQLite each migration runs in a write transaction of its own
// with its record (BEGIN IMMEDIATE serialises processes; in this process
// the DB's gate does), so that a crash leaves none half-applied. On
// PostgreSQL a set's migrations run in one transaction, behind a
// transaction-scoped advisory lock keyed on the schema and the set: a
// second process starting at the same time waits, then finds nothing to
// do. Apply returns how many migrations it applied, and the first error,
// naming the migration.
func Apply(ctx context.Context, db sqldb.DB, sets ...Set) (applied int, err error) {
	for _, s := range sets {
		ms, err := s.load(db.Dialect())
		if err != nil {
			return applied, err
		}
		var n int
		if db.Dialect() == sqldb.Postgres {
			n, err = applyPostgres(ctx, db, s, ms)
		} else {
			n, err = applySQLite(ctx, db, s, ms)
		}
		applied += n
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", s.Name, err)
		}
	}
	return applied, nil
}

func applySQLite(ctx context.Context, db sqldb.DB, s Set, ms []Migration) (int, error) {
	if _, err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+s.table()+` (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return 0, fmt.Errorf("create %s: %w", s.table(), err)
	}
	applied := 0
	for _, m := range ms {
		err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+s.table()+` WHERE version = ?`, m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+s.table()+` (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UTC().UnixNano()); err != nil {
				return err
			}
			applied++
			return nil
		})
		if err != nil {
			return applied, fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	return applied, nil
}

func applyPostgres(ctx context.Context, db sqldb.DB, s Set, ms []Migration) (int, error) {
	applied := 0
	err := db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		applied = 0
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('reso.' || $1::text || '.migrate.' || current_schema(), 0))`, s.Name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+s.table()+` (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create %s: %w", s.table(), err)
		}
		done, err := recorded(ctx, tx, s)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if done[m.Version] {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+s.table()+` (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("record %s: %w", m.Name, err)
			}
			applied++
		}
		return nil
	})
	return applied, err
}

// querier runs queries (*sql.DB, *sql.Tx).
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// recorded returns the versions of s that q's database has applied.
func recorded(ctx context.Context, q querier, s Set) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT version FROM `+s.table())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.table(), err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read %s: %w", s.table(), err)
		}
		done[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", s.table(), err)
	}
	return done, nil
}

// Check returns nil when db has applied every migration of s, and an error
// wrapping ErrPending when it has not (a package opening its tables asks
// before using them, so that a database nobody migrated is a clear error,
// not a missing table later). It returns the database error otherwise.
func Check(ctx context.Context, db sqldb.DB, s Set) error {
	ms, err := s.load(db.Dialect())
	if err != nil {
		return err
	}
	exists := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1`
	if db.Dialect() == sqldb.Postgres {
		exists = `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1`
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, exists, s.table()).Scan(&n); err != nil {
		return fmt.Errorf("check migrations of %s: %w", s.Name, err)
	}
	done := map[int]bool{}
	if n > 0 {
		if done, err = recorded(ctx, db.SQL(), s); err != nil {
			return fmt.Errorf("check migrations of %s: %w", s.Name, err)
		}
	}
	var missing []string
	for _, m := range ms {
		if !done[m.Version] {
			missing = append(missing, m.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: %w: %v (run reso migrate)", s.Name, ErrPending, missing)
	}
	return nil
}

// Dir is the directory dir of fsys (a package's embedded migrations),
// for a Set. It panics when dir is not a valid path, which a constant
// naming an embedded directory always is.
func Dir(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(fmt.Sprintf("sqlmigrate: %v", err))
	}
	return sub
}
