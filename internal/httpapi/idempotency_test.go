package httpapi

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/idempotency"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/testwait"
	"github.com/reso-fr/reso/sqldb"
)

// mustIdemAPI returns an api whose only working part is the idempotency
// middleware, on a real database of the given dialect, and that database.
func mustIdemAPI(t *testing.T, dialect sqldb.Dialect) (*api, sqldb.DB) {
	t.Helper()
	var db sqldb.DB
	switch dialect {
	case sqldb.SQLite:
		file, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "idem.db"))
		if err != nil {
			t.Fatal(err)
		}
		db = file
	case sqldb.Postgres:
		pg, err := sql.Open("pgx", pgtest.MustSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		db = sqldb.NewPostgres(pg)
	}
	t.Cleanup(func() { _ = db.SQL().Close() })
	if err := idempotency.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return idemAPIOn(t, db), db
}

// idemAPIOn returns an api keeping its idempotency keys in db, migrated.
func idemAPIOn(t *testing.T, db sqldb.DB) *api {
	t.Helper()
	store, err := idempotency.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return &api{d: Deps{Idempotency: store, Logger: slog.New(slog.DiscardHandler), Now: time.Now}, idem: store}
}

// counting is a handler that creates a numbered thing per call; with a
// gate, each call waits until the gate closes.
type counting struct {
	calls  atomic.Int64
	status int
	gate   chan struct{}
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.calls.Add(1)
	body, _ := io.ReadAll(r.Body)
	if c.gate != nil {
		<-c.gate
	}
	w.Header().Set(positionHeader, fmt.Sprintf("pos-%d", n))
	w.Header().Set("X-Not-Replayed", "x")
	writeJSON(w, c.status, map[string]any{"call": n, "echo": string(body)})
}

func mustPost(t *testing.T, h http.Handler, user uuid.UUID, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/api/things", strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer token-of-"+user.String())
	if key != "" {
		r.Header.Set(idempotencyHeader, key)
	}
	r = r.WithContext(context.WithValue(r.Context(), principalKey{}, app.Principal{UserID: user}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	for _, dialect := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			t.Parallel()
			a, db := mustIdemAPI(t, dialect)
			alice, bob := uuid.New(), uuid.New()

			t.Run("repeat replays", func(t *testing.T) {
				h := &counting{status: http.StatusCreated}
				mw := a.idempotent(h)
				first := mustPost(t, mw, alice, "k-repeat", `{"a":1}`)
				second := mustPost(t, mw, alice, "k-repeat", `{"a":1}`)
				if h.calls.Load() != 1 {
					t.Fatalf("handler ran %d times", h.calls.Load())
				}
				if second.Code != first.Code || second.Body.String() != first.Body.String() {
					t.Fatalf("replay %d %q, first %d %q", second.Code, second.Body, first.Code, first.Body)
				}
				if got := second.Header().Get(positionHeader); got != "pos-1" {
					t.Fatalf("replayed position %q", got)
				}
				if second.Header().Get("X-Not-Replayed") != "" || second.Header().Get("Idempotent-Replayed") != "true" {
					t.Fatalf("replayed headers %v", second.Header())
				}
			})
			t.Run("other body is 422", func(t *testing.T) {
				h := &counting{status: http.StatusOK}
				mw := a.idempotent(h)
				mustPost(t, mw, alice, "k-body", `{"a":1}`)
				w := mustPost(t, mw, alice, "k-body", `{"a":2}`)
				if w.Code != http.StatusUnprocessableEntity || h.calls.Load() != 1 {
					t.Fatalf("status %d after %d calls", w.Code, h.calls.Load())
				}
			})
			t.Run("keyed per principal", func(t *testing.T) {
				h := &counting{status: http.StatusOK}
				mw := a.idempotent(h)
				mustPost(t, mw, alice, "k-shared", `{}`)
				w := mustPost(t, mw, bob, "k-shared", `{}`)
				if w.Code != http.StatusOK || h.calls.Load() != 2 {
					t.Fatalf("status %d after %d calls", w.Code, h.calls.Load())
				}
			})
			t.Run("server errors are not kept", func(t *testing.T) {
				h := &counting{status: http.StatusInternalServerError}
				mw := a.idempotent(h)
				mustPost(t, mw, alice, "k-500", `{}`)
				mustPost(t, mw, alice, "k-500", `{}`)
				if h.calls.Load() != 2 {
					t.Fatalf("handler ran %d times, want a retry after a 500", h.calls.Load())
				}
			})
			t.Run("no key runs every time", func(t *testing.T) {
				h := &counting{status: http.StatusOK}
				mw := a.idempotent(h)
				mustPost(t, mw, alice, "", `{}`)
				mustPost(t, mw, alice, "", `{}`)
				if h.calls.Load() != 2 {
					t.Fatalf("handler ran %d times", h.calls.Load())
				}
			})
			t.Run("concurrent repeats run once", func(t *testing.T) {
				// The first run holds the gate until every other request
				// waits for it.
				h := &counting{status: http.StatusCreated, gate: make(chan struct{})}
				busy := make(chan struct{}, 8)
				waiter := &api{d: a.d, idem: a.idem, onKeyBusy: func() { busy <- struct{}{} }}
				mw := waiter.idempotent(h)
				release := sync.OnceFunc(func() { close(h.gate) })
				defer release()
				var wg sync.WaitGroup
				bodies := make([]string, 8)
				for i := range bodies {
					wg.Add(1)
					go func() {
						defer wg.Done()
						bodies[i] = mustPost(t, mw, alice, "k-race", `{"x":true}`).Body.String()
					}()
				}
				for range len(bodies) - 1 {
					select {
					case <-busy:
					case <-time.After(testwait.Scale(10 * time.Second)):
						t.Fatal("the repeats did not all wait for the first run")
					}
				}
				release()
				wg.Wait()
				if h.calls.Load() != 1 {
					t.Fatalf("handler ran %d times", h.calls.Load())
				}
				for _, b := range bodies {
					if b != bodies[0] {
						t.Fatalf("bodies differ: %q vs %q", b, bodies[0])
					}
				}
			})
			t.Run("body is sealed at rest", func(t *testing.T) {
				h := &counting{status: http.StatusOK}
				mustPost(t, a.idempotent(h), alice, "k-sealed", `{"secret":"tok-ABCDEF"}`)
				var body []byte
				err := db.SQL().QueryRow(`SELECT body FROM http_idempotency WHERE idem_key = 'k-sealed'`).Scan(&body)
				if err != nil {
					t.Fatal(err)
				}
				if len(body) == 0 || strings.Contains(string(body), "tok-ABCDEF") {
					t.Fatalf("stored body %q holds plaintext", body)
				}
			})
			t.Run("a day later the key is free", func(t *testing.T) {
				h := &counting{status: http.StatusOK}
				first := mustPost(t, a.idempotent(h), alice, "k-old", `{"a":1}`)
				later := &api{d: a.d, idem: a.idem}
				later.d.Now = func() time.Time { return time.Now().Add(idempotency.TTL + time.Minute) }
				again := mustPost(t, later.idempotent(h), alice, "k-old", `{"a":2}`)
				if again.Code != http.StatusOK || h.calls.Load() != 2 || again.Body.String() == first.Body.String() {
					t.Fatalf("a day later: status %d after %d calls, body %q", again.Code, h.calls.Load(), again.Body)
				}
				if again.Header().Get("Idempotent-Replayed") != "" {
					t.Fatal("an expired response was replayed")
				}
			})
			t.Run("oversize body is 413", func(t *testing.T) {
				h := &counting{status: http.StatusOK}
				w := mustPost(t, a.idempotent(h), alice, "k-big", strings.Repeat("x", MaxBodyBytes+1))
				if w.Code != http.StatusRequestEntityTooLarge || h.calls.Load() != 0 {
					t.Fatalf("status %d after %d calls", w.Code, h.calls.Load())
				}
			})
		})
	}
}

func TestWithContact(t *testing.T) {
	t.Parallel()
	in := []byte(`{"id":"x","contact":{"name":"Jeanne","email":"j@x.fr"},"version":3}`)
	out, err := withContact(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "Jeanne") || !strings.Contains(string(out), `"contact":null`) || !strings.Contains(string(out), `"version":3`) {
		t.Fatalf("stripped %s", out)
	}
	back, err := withContact(out, app.ContactView{Erased: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(back), `"erased":true`) {
		t.Fatalf("spliced %s", back)
	}
	// Putting the same contact back gives the first bytes, key order and
	// all (a map round trip would sort the keys).
	first := []byte(`{"id":"x","version":3,"contact":{"name":"Jeanne"},"status":"quo","matches":[{"a":1}]}` + "\n")
	stripped, err := withContact(first, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := withContact(stripped, map[string]string{"name": "Jeanne"})
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(first) {
		t.Fatalf("replayed %s, want %s", again, first)
	}
	for _, bad := range []string{`[1]`, `{"id":"x"}`, `{"id":`, `"contact"`} {
		if _, err := withContact([]byte(bad), nil); !errors.Is(err, errNotNeedBody) {
			t.Errorf("%s: %v, want errNotNeedBody", bad, err)
		}
	}
}

// A key left pending by a process that died (reserved before this process
// started, never completed) does not hold its repeat back: the repeat runs
// at once (the service recognises an effect the dead run had).
func TestIdempotencyKeyOfADeadProcess(t *testing.T) {
	t.Parallel()
	for _, dialect := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			t.Parallel()
			a, _ := mustIdemAPI(t, dialect)
			alice := uuid.New()
			body := `{"a":1}`
			sum := sha256.Sum256([]byte("POST /api/things\n" + body))
			dead := time.Now().Add(-time.Second)
			if ok, err := a.idem.Reserve(context.Background(), alice.String(), "k-dead", hex.EncodeToString(sum[:]), dead); err != nil || !ok {
				t.Fatalf("reserve: %v %v", ok, err)
			}
			a.started = time.UnixMilli(time.Now().UnixMilli())
			h := &counting{status: http.StatusCreated}
			start := time.Now()
			w := mustPost(t, a.idempotent(h), alice, "k-dead", body)
			if w.Code != http.StatusCreated || h.calls.Load() != 1 {
				t.Fatalf("repeat of a dead process's key: %d after %d calls: %s", w.Code, h.calls.Load(), w.Body)
			}
			if d := time.Since(start); d > idemWait/2 {
				t.Errorf("the repeat waited %s", d)
			}
			if again := mustPost(t, a.idempotent(h), alice, "k-dead", body); again.Code != http.StatusCreated || h.calls.Load() != 1 {
				t.Fatalf("then a replay: %d after %d calls", again.Code, h.calls.Load())
			}
		})
	}
}

// lossy is a database whose idempotency reservations commit but whose
// answer is lost, as when PostgreSQL stops between its commit and its
// reply: lose says how many more to lose.
type lossy struct {
	sqldb.DB
	lose atomic.Int32
}

var errAnswerLost = errors.New("connection lost before the answer")

func (l *lossy) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	res, err := l.DB.Exec(ctx, q, args...)
	if err == nil && strings.HasPrefix(q, "INSERT INTO http_idempotency") && l.lose.Add(-1) >= 0 {
		return nil, errAnswerLost
	}
	return res, err
}

// A reservation whose answer was lost is taken back, so that the repeat
// runs at once instead of finding the key in progress until it goes stale
// (TestPostgresOutage met it: one command answered 409 for its whole
// minute). Another request's reservation of the same key stays.
func TestIdempotencyReservationAnswerLost(t *testing.T) {
	t.Parallel()
	for _, dialect := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			t.Parallel()
			_, db := mustIdemAPI(t, dialect)
			l := &lossy{DB: db}
			a := idemAPIOn(t, l)
			store := a.idem
			alice := uuid.New()
			body := `{"a":1}`
			h := &counting{status: http.StatusCreated}

			l.lose.Store(1)
			if w := mustPost(t, a.idempotent(h), alice, "k-lost", body); w.Code < 500 || h.calls.Load() != 0 {
				t.Fatalf("lost reservation: %d after %d calls, want a 5xx and none", w.Code, h.calls.Load())
			}
			start := time.Now()
			if w := mustPost(t, a.idempotent(h), alice, "k-lost", body); w.Code != http.StatusCreated || h.calls.Load() != 1 {
				t.Fatalf("repeat: %d after %d calls: %s", w.Code, h.calls.Load(), w.Body)
			}
			if d := time.Since(start); d > idemWait/2 {
				t.Errorf("the repeat waited %s", d)
			}

			// Another request holds k-held; a reservation of ours that
			// inserted nothing and lost its answer leaves it be.
			sum := sha256.Sum256([]byte("POST /api/things\n" + body))
			if ok, err := store.Reserve(context.Background(), alice.String(), "k-held", hex.EncodeToString(sum[:]), time.Now().Add(-time.Second)); err != nil || !ok {
				t.Fatalf("reserve: %v %v", ok, err)
			}
			l.lose.Store(1)
			if w := mustPost(t, a.idempotent(h), alice, "k-held", body); w.Code < 500 {
				t.Fatalf("lost reservation of a held key: %d", w.Code)
			}
			if rec, err := store.Get(context.Background(), alice.String(), "k-held"); err != nil || rec.Done {
				t.Fatalf("the other request's reservation: %+v, %v; want it pending", rec, err)
			}
		})
	}
}
