package websession_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore/sqlite"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/websession"
	"github.com/reso-fr/reso/sqldb"
	"github.com/reso-fr/reso/sqlmigrate"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// stores runs f on a Store over each dialect (PostgreSQL when it answers).
func stores(t *testing.T, f func(t *testing.T, s *websession.Store, c *clock, db sqldb.DB)) {
	for _, dialect := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(string(dialect), func(t *testing.T) {
			t.Parallel()
			var db sqldb.DB
			if dialect == sqldb.SQLite {
				file, err := sqlite.OpenDB(filepath.Join(t.TempDir(), "w.db"))
				if err != nil {
					t.Fatal(err)
				}
				db = file
			} else {
				pg, err := sql.Open("pgx", pgtest.MustSchema(t))
				if err != nil {
					t.Fatal(err)
				}
				db = sqldb.NewPostgres(pg)
			}
			t.Cleanup(func() { db.SQL().Close() })
			ctx := context.Background()
			if _, err := websession.New(ctx, db, websession.Options{}); !errors.Is(err, sqlmigrate.ErrPending) {
				t.Fatalf("a store on an unmigrated database: %v, want ErrPending", err)
			}
			if err := websession.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			c := &clock{now: time.Date(2026, 3, 12, 14, 5, 0, 0, time.UTC)}
			s, err := websession.New(ctx, db, websession.Options{Now: c.Now, Idle: time.Hour, Max: 4 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			f(t, s, c, db)
		})
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, s *websession.Store, c *clock, db sqldb.DB) {
		ctx := context.Background()
		p := app.Principal{UserID: uuid.New(), Name: "Fanny", Role: domain.RoleAnimateur,
			Territories: []domain.Zone{{Level: domain.LevelDepartement, Code: "59"}}}
		sess, err := s.Open(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		id, err := s.FromCookie(s.Cookie(sess.ID))
		if err != nil || id != sess.ID {
			t.Fatalf("cookie round trip: %q %v", id, err)
		}
		if _, err := s.FromCookie(sess.ID + ".forged"); !errors.Is(err, websession.ErrNoSession) {
			t.Errorf("forged cookie: %v", err)
		}
		got, err := s.Get(ctx, sess.ID)
		if err != nil || got.Principal.Name != "Fanny" || len(got.Principal.Territories) != 1 {
			t.Fatalf("get: %+v %v", got, err)
		}
		// Used every 50 minutes, it lives until its maximum age (4 h).
		for i := 0; i < 4; i++ {
			c.add(50 * time.Minute)
			if _, err := s.Get(ctx, sess.ID); err != nil {
				t.Fatalf("after %d uses: %v", i+1, err)
			}
		}
		c.add(50 * time.Minute) // 4 h 10 after it opened
		if _, err := s.Get(ctx, sess.ID); !errors.Is(err, websession.ErrExpired) {
			t.Errorf("past its maximum age: %v", err)
		}
		// Idle for an hour: ended.
		idle, _ := s.Open(ctx, p)
		c.add(time.Hour)
		if _, err := s.Get(ctx, idle.ID); !errors.Is(err, websession.ErrExpired) {
			t.Errorf("idle: %v", err)
		}
		// Revoked: ended at once.
		rev, _ := s.Open(ctx, p)
		if n, err := s.RevokeUser(ctx, p.UserID); err != nil || n < 1 {
			t.Fatalf("revoke user: %d %v", n, err)
		}
		if _, err := s.Get(ctx, rev.ID); !errors.Is(err, websession.ErrExpired) {
			t.Errorf("revoked: %v", err)
		}
		if _, err := s.Get(ctx, "unknown"); !errors.Is(err, websession.ErrNoSession) {
			t.Errorf("unknown: %v", err)
		}
		// The table holds no session id, only hashes.
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM websession_sessions WHERE id_hash = $1`, sess.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("a session id is stored in clear: %d %v", n, err)
		}
		// A second Store on the same database signs cookies the same way.
		s2, err := websession.New(ctx, db, websession.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s2.Cookie("x") != s.Cookie("x") {
			t.Error("replicas sign cookies differently")
		}
	})
}

func TestLinks(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, s *websession.Store, c *clock, _ sqldb.DB) {
		ctx := context.Background()
		user := uuid.New()
		tok, exp, err := s.IssueLink(ctx, user)
		if err != nil || exp.Sub(c.Now()) != websession.LinkTTL {
			t.Fatalf("issue: %v, expires %s", err, exp)
		}
		if u := websession.LinkURL("https://reso.example.fr/", tok); u != "https://reso.example.fr/connexion/lien?jeton="+tok {
			t.Errorf("link URL %q", u)
		}
		got, err := s.ConsumeLink(ctx, tok)
		if err != nil || got != user {
			t.Fatalf("consume: %s %v", got, err)
		}
		if _, err := s.ConsumeLink(ctx, tok); !errors.Is(err, websession.ErrLinkUsed) {
			t.Errorf("second use: %v", err)
		}
		late, _, _ := s.IssueLink(ctx, user)
		c.add(websession.LinkTTL)
		if _, err := s.ConsumeLink(ctx, late); !errors.Is(err, websession.ErrLinkExpired) {
			t.Errorf("after 15 minutes: %v", err)
		}
		if _, err := s.ConsumeLink(ctx, "nope"); !errors.Is(err, websession.ErrLinkUnknown) {
			t.Errorf("unknown: %v", err)
		}
	})
}

func TestSubmissions(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, s *websession.Store, c *clock, _ sqldb.DB) {
		ctx := context.Background()
		user := uuid.New()
		if ok, err := s.Reserve(ctx, user, "k"); !ok || err != nil {
			t.Fatalf("first reserve: %v %v", ok, err)
		}
		if ok, _ := s.Reserve(ctx, user, "k"); ok {
			t.Error("the key was taken twice")
		}
		if ok, _ := s.Reserve(ctx, uuid.New(), "k"); !ok {
			t.Error("keys are per user")
		}
		if err := s.Release(ctx, user, "k"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.Reserve(ctx, user, "k"); !ok {
			t.Error("a released key cannot be taken again")
		}
		if err := s.Complete(ctx, user, "k", "/besoins/1"); err != nil {
			t.Fatal(err)
		}
		sub, ok, err := s.Lookup(ctx, user, "k")
		if err != nil || !ok || !sub.Done || sub.Location != "/besoins/1" {
			t.Errorf("lookup: %+v %v %v", sub, ok, err)
		}
		if err := s.Release(ctx, user, "k"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Lookup(ctx, user, "k"); !ok {
			t.Error("a completed key was released")
		}
		c.add(48 * time.Hour)
		if err := s.Purge(ctx, c.Now().Add(-24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Lookup(ctx, user, "k"); ok {
			t.Error("purge kept an old submission")
		}
	})
}
