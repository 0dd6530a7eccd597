// Package projectionstest opens what the tests of the read models need:
// a log and a read-model database on SQLite or PostgreSQL, an engine
// running Réso's read models on them, simulated workloads, and dumps of
// every read-model table to compare a live one with a rebuild.
package projectionstest

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/postgres"
	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections/readmodels"
	"github.com/reso-fr/reso/sqldb"
)

// Backend is a log and a read-model database, as a deployment has them.
type Backend struct {
	Name   string
	Handle sqldb.DB // what the engine writes through
	DB     *sql.DB  // Handle's pool, for the tests' own SQL
	Store  eventstore.Store
	DSN    string // PostgreSQL only
}

// Backends names the backends a test runs on (MustBackend).
var Backends = []string{"sqlite", "postgres"}

// MustBackend opens the backend called name (one of Backends) for the
// test; PostgreSQL in a schema of its own.
func MustBackend(t *testing.T, name string) Backend {
	t.Helper()
	if name == "sqlite" {
		return MustSQLite(t)
	}
	return MustPostgres(t)
}

// MustSQLite opens a SQLite backend in a file of the test's.
func MustSQLite(t testing.TB) Backend {
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
	return Backend{Name: "sqlite", Handle: db, DB: db.SQL(), Store: st}
}

// MustPostgres opens a PostgreSQL backend in a schema of the test's; it
// skips the test without a server (see internal/pgtest).
func MustPostgres(t testing.TB) Backend {
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
	return Backend{Name: "postgres", Handle: sqldb.NewPostgres(db), DB: db, Store: st, DSN: dsn}
}

// FastOptions shortens the pauses of o that tests would wait for.
func FastOptions(o readmodels.Options) readmodels.Options {
	if o.RetryDelay == 0 {
		o.RetryDelay = 10 * time.Millisecond
	}
	if o.StandbyRetry == 0 {
		o.StandbyRetry = 50 * time.Millisecond
	}
	return o
}

// MustEngine returns a migrated engine of Réso's read models on b, with
// o made fast.
func MustEngine(t testing.TB, b Backend, o readmodels.Options) *readmodels.Engine {
	t.Helper()
	e, err := readmodels.New(b.Handle, b.Store, FastOptions(o))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// MustRun runs the engine until the test ends, or stop.
func MustRun(t testing.TB, e *readmodels.Engine) (stop func()) {
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

// MustWait waits (a minute at most) until every projection of e has
// folded pos.
func MustWait(t testing.TB, e *readmodels.Engine, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := e.WaitFor(ctx, pos); err != nil {
		st, _ := e.Status(context.Background())
		t.Fatalf("wait for %s: %v (status %+v)", pos, err, st)
	}
}

// MustSimulate appends a simulated workload to st.
func MustSimulate(t testing.TB, st eventstore.Store, o simulate.Options) simulate.Result {
	t.Helper()
	res, err := simulate.Run(context.Background(), st, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ReadModelTables are the tables of every read model.
var ReadModelTables = []string{"dir_organisations", "dir_antennes", "dir_referents", "dir_users",
	"needs", "matches", "stats_needs", "stats_cells", "sf_imports", "sf_lines", "sf_needs", "sf_need_flags", "sf_companies"}

// MustDump reads every read-model table, rows sorted, as text.
func MustDump(t testing.TB, db *sql.DB) map[string][]string {
	t.Helper()
	out := make(map[string][]string)
	for _, table := range ReadModelTables {
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
		slices.Sort(lines)
		out[table] = lines
	}
	return out
}

// MustMatchRebuild rebuilds every read model with e and fails unless the
// tables come out as they were.
func MustMatchRebuild(t testing.TB, e *readmodels.Engine, db *sql.DB) {
	t.Helper()
	live := MustDump(t, db)
	if err := e.RebuildAll(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	MustEqualDumps(t, live, MustDump(t, db))
}

// MustEqualDumps fails unless two dumps (MustDump) hold the same rows.
func MustEqualDumps(t testing.TB, live, rebuilt map[string][]string) {
	t.Helper()
	for _, table := range ReadModelTables {
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

// MustFoldNeeds folds every need of the log with the domain, in the order
// they were captured: what the read models' figures are checked against,
// computed without their code.
func MustFoldNeeds(t testing.TB, st eventstore.Store) []*domain.Need {
	t.Helper()
	evs, err := st.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	byStream := map[string][]domain.Event{}
	var order []string
	for _, ev := range evs {
		if domain.StreamKind(ev.StreamID) != domain.KindNeedStream {
			continue
		}
		e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := byStream[ev.StreamID]; !ok {
			order = append(order, ev.StreamID)
		}
		byStream[ev.StreamID] = append(byStream[ev.StreamID], e)
	}
	var out []*domain.Need
	for _, s := range order {
		_, id, err := domain.ParseStream(s)
		if err != nil {
			t.Fatal(err)
		}
		n, err := domain.FoldNeed(id, byStream[s])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// MustAppend appends evs to stream with expected, with new ids, and
// returns the position of the last one.
func MustAppend(t testing.TB, st eventstore.Store, stream string, expected eventstore.ExpectedVersion, evs ...domain.Event) eventstore.Position {
	t.Helper()
	news := make([]eventstore.NewEvent, len(evs))
	for i, e := range evs {
		typ, v, data, err := domain.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		id, err := uuid.NewV7()
		if err != nil {
			t.Fatal(err)
		}
		news[i] = eventstore.NewEvent{ID: id, Type: typ, SchemaVersion: v, Data: data}
	}
	res, err := st.Append(context.Background(), stream, expected, news...)
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

// MustEvents reads the whole log and decodes it with the domain, in log
// order.
func MustEvents(t testing.TB, st eventstore.Store) []domain.Event {
	t.Helper()
	evs, err := st.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]domain.Event, len(evs))
	for i, ev := range evs {
		if out[i], err = domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
