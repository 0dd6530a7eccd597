package projections_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/postgres"
	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections"
)

// backend is a log and a read-model database, as a deployment has them.
type backend struct {
	name    string
	db      *sql.DB
	dialect projections.Dialect
	store   eventstore.Store
	dsn     string // PostgreSQL only
}

var backends = []string{"sqlite", "postgres"}

func mustBackend(t *testing.T, name string) backend {
	t.Helper()
	if name == "sqlite" {
		return mustSQLite(t)
	}
	return mustPostgres(t)
}

func mustSQLite(t *testing.T) backend {
	t.Helper()
	return mustSQLiteB(t)
}

func mustSQLiteB(t testing.TB) backend {
	t.Helper()
	db, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "reso.db"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); db.Close() })
	return backend{name: "sqlite", db: db, dialect: projections.DialectSQLite, store: st}
}

func mustPostgres(t *testing.T) backend {
	t.Helper()
	return mustPostgresB(t)
}

func mustPostgresB(t testing.TB) backend {
	t.Helper()
	dsn := pgtest.MustSchema(t)
	// The engine holds a connection per projection for its advisory lock,
	// beside batches, subscriptions and appends: more than pgxpool's default.
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.New(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { st.Close(); db.Close(); pool.Close() })
	return backend{name: "postgres", db: db, dialect: projections.DialectPostgres, store: st, dsn: dsn}
}

func fastOptions(o projections.Options) projections.Options {
	if o.RetryDelay == 0 {
		o.RetryDelay = 10 * time.Millisecond
	}
	if o.StandbyRetry == 0 {
		o.StandbyRetry = 50 * time.Millisecond
	}
	return o
}

func mustEngine(t *testing.T, b backend, o projections.Options) *projections.Engine {
	t.Helper()
	e, err := projections.New(b.db, b.dialect, b.store, fastOptions(o))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// mustRun runs the engine until the test ends.
func mustRun(t *testing.T, e *projections.Engine) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.Run(ctx)
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func mustWait(t *testing.T, e *projections.Engine, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := e.WaitFor(ctx, pos); err != nil {
		st, _ := e.Status(context.Background())
		t.Fatalf("wait for %s: %v (status %+v)", pos, err, st)
	}
}

func mustSimulate(t *testing.T, st eventstore.Store, o simulate.Options) simulate.Result {
	t.Helper()
	res, err := simulate.Run(context.Background(), st, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var readModelTables = []string{"dir_organisations", "dir_antennes", "dir_referents", "dir_users",
	"needs", "matches", "stats_needs", "stats_cells"}

// mustDump reads every read-model table, rows sorted, as text.
func mustDump(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	out := make(map[string][]string)
	for _, table := range readModelTables {
		rows, err := db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				parts[i] = fmt.Sprint(v)
			}
			lines = append(lines, strings.Join(parts, "|"))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		sortStrings(lines)
		out[table] = lines
	}
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// mustMatchRebuild rebuilds every read model with e and fails unless the
// tables come out as they were.
func mustMatchRebuild(t *testing.T, e *projections.Engine, db *sql.DB) {
	t.Helper()
	live := mustDump(t, db)
	if err := e.RebuildAll(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	mustEqualDumps(t, live, mustDump(t, db))
}

func mustEqualDumps(t *testing.T, live, rebuilt map[string][]string) {
	t.Helper()
	for _, table := range readModelTables {
		a, b := live[table], rebuilt[table]
		if len(a) != len(b) {
			t.Errorf("%s: live has %d rows, rebuild %d", table, len(a), len(b))
			continue
		}
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("%s row %d:\n live    %s\n rebuilt %s", table, i, a[i], b[i])
				break
			}
		}
	}
}
