package verify_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/internal/verify"
	"github.com/reso-fr/reso/projections/readmodels"
)

var ctx = context.Background()

// mustStore opens a store of kind ("sqlite" or "postgres") holding 40
// simulated needs.
func mustStore(t *testing.T, kind string) (*backend.Backend, backend.Config) {
	t.Helper()
	cfg := backend.Config{DataDir: filepath.Join(t.TempDir(), "data"),
		Projections: readmodels.Options{RetryDelay: 20 * time.Millisecond, StandbyRetry: 50 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	if kind == "postgres" {
		cfg.DatabaseURL = pgtest.MustSchema(t)
	}
	b, err := backend.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if _, err := simulate.Run(ctx, b.Events, simulate.Options{Seed: 3, Months: 2, TotalNeeds: 40}); err != nil {
		t.Fatal(err)
	}
	return b, cfg
}

func mustRun(t *testing.T, b *backend.Backend) *verify.Report {
	t.Helper()
	r, err := verify.Run(ctx, b, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantProblem fails unless r has a problem containing each of words.
func wantProblem(t *testing.T, r *verify.Report, words ...string) {
	t.Helper()
	for _, p := range r.Problems {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(p, w)
		}
		if ok {
			return
		}
	}
	t.Errorf("no problem saying %q among %q", words, r.Problems)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		// Each case damages a fresh store with SQL; "" is the store as is.
		for _, c := range []struct {
			name   string
			damage func(kind string) string
			words  []string
		}{
			{"sound", nil, nil},
			{"event deleted", func(kind string) string {
				if kind == "sqlite" {
					return `DELETE FROM eventstore_events WHERE position = (SELECT position FROM eventstore_events WHERE version = 2 AND stream_id LIKE 'need-%' ORDER BY position LIMIT 1)`
				}
				return `DELETE FROM events WHERE global_position = (SELECT global_position FROM events WHERE stream_version = 2 AND stream_id LIKE 'need-%' ORDER BY global_position LIMIT 1)`
			}, []string{"version 3 follows version 1"}},
			{"event unreadable", func(kind string) string {
				if kind == "sqlite" {
					return `UPDATE eventstore_events SET type = 'NeedTeleported' WHERE position = (SELECT max(position) FROM eventstore_events WHERE stream_id LIKE 'need-%')`
				}
				return `UPDATE events SET event_type = 'NeedTeleported' WHERE global_position = (SELECT max(global_position) FROM events WHERE stream_id LIKE 'need-%')`
			}, []string{"NeedTeleported", "unknown event type"}},
			{"event filed in another stream", func(kind string) string {
				if kind == "sqlite" {
					return `UPDATE eventstore_events SET stream_id = 'need-0190d5a2-0000-7000-8000-000000000001', version = 1 WHERE position = (SELECT max(position) FROM eventstore_events WHERE stream_id LIKE 'need-%' AND version > 1)`
				}
				return `UPDATE events SET stream_id = 'need-0190d5a2-0000-7000-8000-000000000001', stream_version = 1 WHERE global_position = (SELECT max(global_position) FROM events WHERE stream_id LIKE 'need-%' AND stream_version > 1)`
			}, []string{"need-0190d5a2-0000-7000-8000-000000000001", "of stream"}},
			{"read model row changed", func(string) string {
				return `UPDATE needs SET status = 'done' WHERE id = (SELECT id FROM needs WHERE status <> 'done' ORDER BY id LIMIT 1)`
			}, []string{"read model needs", "1 live rows the rebuild does not have, 1 rebuilt rows"}},
			{"read model row lost", func(string) string {
				return `DELETE FROM matches WHERE need_id = (SELECT need_id FROM matches ORDER BY need_id LIMIT 1)`
			}, []string{"read model matches"}},
		} {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				b, _ := mustStore(t, kind)
				if c.damage != nil {
					if strings.HasPrefix(c.name, "read model") {
						// Damage the read models once they are built.
						mustCatchUp(t, b)
					}
					if _, err := b.DB.SQL().ExecContext(ctx, c.damage(kind)); err != nil {
						t.Fatal(err)
					}
				}
				r := mustRun(t, b)
				if c.damage == nil {
					if !r.OK() || r.Needs != 40 || r.Tables["needs"] != 40 {
						t.Fatalf("a sound store: %+v", r)
					}
					return
				}
				if r.OK() {
					t.Fatalf("damage %q not found", c.name)
				}
				wantProblem(t, r, c.words...)
			})
		}
	}
}

func mustCatchUp(t *testing.T, b *backend.Backend) {
	t.Helper()
	head, err := b.Events.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Projections.Run(runCtx) }()
	waitCtx, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()
	err = b.Projections.WaitFor(waitCtx, head)
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
}

// On SQLite, Open verifies a copy: the live file is never written, and a
// damage made to the live file after the copy is not seen.
func TestOpenCopiesSQLite(t *testing.T) {
	t.Parallel()
	b, cfg := mustStore(t, "sqlite")
	head, _ := b.Events.Head(ctx)
	vb, done, err := verify.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	if vb.Path == b.Path || !strings.HasPrefix(filepath.Base(filepath.Dir(vb.Path)), "reso-verify-") {
		t.Fatalf("verify opened %s, the live file is %s", vb.Path, b.Path)
	}
	r := mustRun(t, vb)
	if !r.OK() || r.Head != head {
		t.Fatalf("copy: %+v, head %s", r, head)
	}
	var checkpoints int
	if err := b.DB.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM projection_checkpoints WHERE position <> ''`).Scan(&checkpoints); err != nil {
		t.Fatal(err)
	}
	if checkpoints != 0 {
		t.Errorf("the live file's read models moved: %d checkpoints set", checkpoints)
	}
}
