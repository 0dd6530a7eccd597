package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/pgtest"
)

// mustOpen opens a store on dsn and closes it at cleanup.
func mustOpen(t testing.TB, dsn string, opts ...Option) *Store {
	t.Helper()
	// Tests read their own appends right after writing them; with the
	// cluster horizon, other test packages' transactions on the shared
	// server hold such reads back, often longer than the default read
	// wait of 1 s. A test's own options come later and override this.
	opts = append([]Option{WithReadWait(15 * time.Second)}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, dsn+"&pool_max_conns=8", opts...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// mustStore opens a store on a fresh schema.
func mustStore(t testing.TB, opts ...Option) (*Store, string) {
	t.Helper()
	dsn := pgtest.MustSchema(t)
	return mustOpen(t, dsn, opts...), dsn
}

func mustEvent(t testing.TB, typ string, n int) eventstore.NewEvent {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.NewEvent{ID: id, Type: typ, SchemaVersion: 1, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
}

func mustAppend(t testing.TB, s eventstore.Store, stream string, expected eventstore.ExpectedVersion, events ...eventstore.NewEvent) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, expected, events...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

func mustReadAll(t testing.TB, s eventstore.Store) []eventstore.Event {
	t.Helper()
	events, err := s.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	return events
}

// mustHoldHorizon opens a transaction that writes an event (stream
// "held", version 1) and stays open, as a slow writer would; release
// commits it.
func mustHoldHorizon(t testing.TB, dsn string) (tx pgx.Tx, release func()) {
	t.Helper()
	tx, release = mustOpenTx(t, dsn)
	if _, err := tx.Exec(context.Background(), `INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data)
		VALUES ($1, 'held', 1, 'held', 1, '{}')`, mustEvent(t, "held", 0).ID); err != nil {
		t.Fatal(err)
	}
	return tx, release
}

// mustOpenTx begins a transaction on its own connection; release commits.
func mustOpenTx(t testing.TB, dsn string) (tx pgx.Tx, release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err = conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if err := tx.Commit(ctx); err != nil {
				t.Errorf("commit holder: %v", err)
			}
			conn.Close(ctx)
		})
	}
	t.Cleanup(release)
	return tx, release
}

func TestMigrationsIdempotent(t *testing.T) {
	t.Parallel()
	dsn := pgtest.MustSchema(t)
	// Several processes starting at once: the advisory lock makes one
	// migrate and the others find the work done.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), dsn+"&pool_max_conns=2")
			if err != nil {
				errs <- err
				return
			}
			errs <- s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent open: %v", err)
		}
	}
	s := mustOpen(t, dsn)
	applied, err := migrate(context.Background(), s.Pool())
	if err != nil {
		t.Fatal(err)
	}
	if applied != 0 {
		t.Errorf("third migration applied %d files, want 0", applied)
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var recorded int
	if err := s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM eventstore_migrations`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != len(ms) {
		t.Errorf("eventstore_migrations has %d rows, want %d", recorded, len(ms))
	}
}

func TestAppendExpectedVersions(t *testing.T) {
	t.Parallel()
	s, _ := mustStore(t)
	mustAppend(t, s, "need-1", eventstore.NoStream, mustEvent(t, "a", 1), mustEvent(t, "a", 2))
	tests := []struct {
		name     string
		stream   string
		expected eventstore.ExpectedVersion
		wantErr  error
		actual   int64
		first    int64
	}{
		{"no stream on existing", "need-1", eventstore.NoStream, eventstore.ErrConcurrency, 2, 0},
		{"exact but stale", "need-1", eventstore.Exactly(1), eventstore.ErrConcurrency, 2, 0},
		{"exact on missing stream", "need-404", eventstore.Exactly(3), eventstore.ErrConcurrency, 0, 0},
		{"exact right", "need-1", eventstore.Exactly(2), nil, 0, 3},
		{"any", "need-1", eventstore.AnyVersion, nil, 0, 4},
		{"any on new stream", "need-2", eventstore.AnyVersion, nil, 0, 1},
		{"no stream on new", "need-3", eventstore.NoStream, nil, 0, 1},
	}
	for _, tt := range tests {
		// Sequential: each case depends on the versions the previous left.
		res, err := s.Append(context.Background(), tt.stream, tt.expected, mustEvent(t, "b", 0))
		if tt.wantErr != nil {
			var ce *eventstore.ConcurrencyError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &ce) {
				t.Fatalf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
			}
			if ce.Actual != tt.actual {
				t.Errorf("%s: actual = %d, want %d", tt.name, ce.Actual, tt.actual)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if res.FirstVersion != tt.first || res.LastVersion != tt.first {
			t.Errorf("%s: versions %d..%d, want %d", tt.name, res.FirstVersion, res.LastVersion, tt.first)
		}
	}
}

func TestIdempotentRetry(t *testing.T) {
	t.Parallel()
	s, _ := mustStore(t)
	e1, e2 := mustEvent(t, "a", 1), mustEvent(t, "a", 2)
	first := mustAppend(t, s, "s", eventstore.NoStream, e1, e2)
	again := mustAppend(t, s, "s", eventstore.NoStream, e1, e2)
	if again != first {
		t.Errorf("retry result %+v, want original %+v", again, first)
	}
	anyAgain := mustAppend(t, s, "s", eventstore.AnyVersion, e1, e2)
	if anyAgain != first {
		t.Errorf("retry with AnyVersion %+v, want original %+v", anyAgain, first)
	}
	if n := len(mustReadAll(t, s)); n != 2 {
		t.Errorf("log holds %d events after retries, want 2", n)
	}
	changed := e2
	changed.Data = json.RawMessage(`{"n":99}`)
	tests := []struct {
		name     string
		stream   string
		expected eventstore.ExpectedVersion
		events   []eventstore.NewEvent
	}{
		{"other stream", "t", eventstore.AnyVersion, []eventstore.NewEvent{e1, e2}},
		{"other content", "s", eventstore.NoStream, []eventstore.NewEvent{e1, changed}},
		{"partial", "s", eventstore.Exactly(2), []eventstore.NewEvent{e2, mustEvent(t, "a", 3)}},
		{"other versions", "s", eventstore.Exactly(2), []eventstore.NewEvent{e2}},
		{"same id twice in one append", "u", eventstore.NoStream, []eventstore.NewEvent{e1, e1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(context.Background(), tt.stream, tt.expected, tt.events...)
			if !errors.Is(err, eventstore.ErrDuplicateEvent) {
				t.Errorf("err = %v, want ErrDuplicateEvent", err)
			}
		})
	}
}

func TestRefusesWhatPostgresCannotStore(t *testing.T) {
	t.Parallel()
	s, _ := mustStore(t)
	bad := func(mut func(*eventstore.NewEvent)) eventstore.NewEvent {
		e := mustEvent(t, "a", 1)
		mut(&e)
		return e
	}
	tests := []struct {
		name   string
		stream string
		event  eventstore.NewEvent
		field  string
	}{
		{"empty stream", "", mustEvent(t, "a", 1), "stream"},
		{"NUL in stream", "a\x00b", mustEvent(t, "a", 1), "stream"},
		{"bad UTF-8 in type", "s", bad(func(e *eventstore.NewEvent) { e.Type = "\xff" }), "type"},
		{"not JSON", "s", bad(func(e *eventstore.NewEvent) { e.Data = json.RawMessage(`{`) }), "data"},
		{"bad UTF-8 in JSON string", "s", bad(func(e *eventstore.NewEvent) { e.Data = json.RawMessage("\"\xff\"") }), "data"},
		{"over 1 MiB", "s", bad(func(e *eventstore.NewEvent) {
			e.Data = json.RawMessage(`"` + strings.Repeat("x", eventstore.MaxEventSize) + `"`)
		}), "size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(context.Background(), tt.stream, eventstore.AnyVersion, tt.event)
			var ve *eventstore.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, eventstore.ErrInvalidEvent) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			if ve.Field != tt.field {
				t.Errorf("field = %q, want %q", ve.Field, tt.field)
			}
		})
	}
	if n := len(mustReadAll(t, s)); n != 0 {
		t.Errorf("refused appends stored %d events", n)
	}
}

// TestHorizonHoldsBackLateCommits is the reason for the transaction-id
// order: a transaction that took its position first but commits last must
// not be skipped by a reader that already saw later events.
func TestHorizonHoldsBackLateCommits(t *testing.T) {
	// Not parallel: holding the horizon holds back every reader of the
	// cluster, including the other tests of this package.
	// (The cluster horizon is not checked here: on a shared server any
	// other open transaction makes the "before" event late too.) The read
	// wait is short because ReadAll and Head wait all of it for the open
	// slow writer.
	s, dsn := mustStore(t, WithWritersHorizon(), WithReadWait(200*time.Millisecond))
	ctx := context.Background()
	before := mustAppend(t, s, "before", eventstore.NoStream, mustEvent(t, "a", 0))

	// The slow writer inserts its event first thing in its transaction: it
	// takes the smaller global_position but has not committed.
	tx, release := mustOpenTx(t, dsn)
	early := mustEvent(t, "slow", 1)
	if _, err := tx.Exec(ctx, `INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data)
		VALUES ($1, 'slow', 1, 'slow', 1, '{}')`, early.ID); err != nil {
		t.Fatal(err)
	}
	late := mustAppend(t, s, "fast", eventstore.NoStream, mustEvent(t, "fast", 2))

	got := mustReadAll(t, s)
	if len(got) != 1 || got[0].Position != before.Position {
		t.Fatalf("while the slow writer is open, read %d events, want only the one before it", len(got))
	}
	head, err := s.Head(ctx)
	if err != nil || head != before.Position {
		t.Errorf("head = %v, %v; want %v", head, err, before.Position)
	}
	lag, err := s.HorizonLag(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if lag.PendingEvents != 1 {
		t.Errorf("pending events = %d, want 1 (the fast one)", lag.PendingEvents)
	}
	if lag.OldestPID == 0 || lag.OldestXactAge <= 0 {
		t.Errorf("oldest transaction not reported: %+v", lag)
	}
	if lag.Horizon > late.Position.Major {
		t.Errorf("horizon %d is past the held-back event's transaction %d", lag.Horizon, late.Position.Major)
	}

	release()
	got = mustReadAll(t, s)
	if len(got) != 3 {
		t.Fatalf("after commit, read %d events, want 3", len(got))
	}
	if got[1].ID != early.ID {
		t.Errorf("second event is %s, want the slow writer's %s", got[1].Type, early.ID)
	}
	if got[2].Position != late.Position {
		t.Errorf("third event at %v, want the fast writer's %v", got[2].Position, late.Position)
	}
	if got[1].Position.Minor >= got[2].Position.Minor {
		t.Errorf("the slow writer took the smaller global_position: %v vs %v", got[1].Position, got[2].Position)
	}
	if !got[1].Position.Less(got[2].Position) {
		t.Errorf("positions out of order: %v, %v", got[1].Position, got[2].Position)
	}
	lag, err = s.HorizonLag(ctx)
	if err != nil || lag.PendingEvents != 0 {
		t.Errorf("after commit: pending %d, err %v; want 0", lag.PendingEvents, err)
	}
}

// TestUnrelatedTransactionDoesNotHoldReaders: with WithWritersHorizon only
// transactions writing events hold the horizon; with the default cluster
// horizon any writing transaction of the server does.
func TestUnrelatedTransactionDoesNotHoldReaders(t *testing.T) {
	// Not parallel: the open transaction holds back cluster-horizon readers.
	dsn := pgtest.MustSchema(t)
	writers := mustOpen(t, dsn, WithWritersHorizon(), WithReadWait(0))
	cluster := mustOpen(t, dsn, WithReadWait(0))
	ctx := context.Background()
	if _, err := writers.Pool().Exec(ctx, `CREATE TABLE unrelated (n int)`); err != nil {
		t.Fatal(err)
	}
	tx, _ := mustOpenTx(t, dsn)
	if _, err := tx.Exec(ctx, `INSERT INTO unrelated VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	res := mustAppend(t, writers, "s", eventstore.NoStream, mustEvent(t, "a", 1))
	tests := []struct {
		name  string
		store *Store
		want  int
	}{
		{"writers horizon", writers, 1},
		{"cluster horizon", cluster, 0},
	}
	for _, tt := range tests {
		got := mustReadAll(t, tt.store)
		if len(got) != tt.want {
			t.Errorf("%s: read %d events while an unrelated transaction is open, want %d", tt.name, len(got), tt.want)
		}
		lag, err := tt.store.HorizonLag(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if (tt.want == 0) != (lag.PendingEvents == 1 && lag.OldestPID != 0 && lag.Horizon <= res.Position.Major) {
			t.Errorf("%s: horizon lag %+v does not match", tt.name, lag)
		}
	}
}

// TestWritersHorizonWriterWithoutXidLock: a transaction that holds its
// RowExclusiveLock on events but shows no xid lock in pg_locks may have an
// xid already (PostgreSQL assigns it before inserting its lock, and
// pg_locks reads the two non-atomically), so the writers horizon must not
// pass the oldest running xid. Here a LOCK TABLE stands for such a writer
// and an unrelated open transaction for the oldest running xid.
func TestWritersHorizonWriterWithoutXidLock(t *testing.T) {
	// Not parallel: the open transaction holds back cluster-horizon readers.
	dsn := pgtest.MustSchema(t)
	s := mustOpen(t, dsn, WithWritersHorizon())
	ctx := context.Background()
	if _, err := s.Pool().Exec(ctx, `CREATE TABLE unrelated (n int)`); err != nil {
		t.Fatal(err)
	}
	old, releaseOld := mustOpenTx(t, dsn)
	var oldXid uint64
	if err := old.QueryRow(ctx, `INSERT INTO unrelated VALUES (1) RETURNING pg_current_xact_id()::text::bigint`).Scan(&oldXid); err != nil {
		t.Fatal(err)
	}
	w, releaseW := mustOpenTx(t, dsn)
	if _, err := w.Exec(ctx, `LOCK TABLE events IN ROW EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	h, err := s.horizon(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h > oldXid {
		t.Errorf("horizon %d passed xid %d, running while a writer showed no xid lock", h, oldXid)
	}
	releaseW()
	releaseOld()
	// Without such a writer, unrelated transactions do not count.
	if h, err = s.horizon(ctx); err != nil || h <= oldXid {
		t.Errorf("after both ended: horizon %d, %v; want past %d", h, err, oldXid)
	}
}
