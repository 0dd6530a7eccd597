package demo_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/demo"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/testwait"
)

func mustBackend(t *testing.T, cfg backend.Config) (*backend.Backend, *app.Service) {
	t.Helper()
	b, err := backend.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	svc, err := app.New(app.Config{Store: b.Events, Keys: b.Keys, Auth: b.Auth, Suggester: b.Projections})
	if err != nil {
		t.Fatal(err)
	}
	return b, svc
}

func TestRun(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			// On PostgreSQL the tokens file goes to a directory that does
			// not exist yet.
			dir := filepath.Join(t.TempDir(), "data")
			cfg := backend.Config{DataDir: dir, Masters: mustMasters(t)}
			if kind == "postgres" {
				cfg.DatabaseURL = pgtest.MustSchema(t)
			}
			testRun(t, cfg, dir)
		})
	}
}

func testRun(t *testing.T, cfg backend.Config, dir string) {
	ctx := context.Background()
	b, svc := mustBackend(t, cfg)
	var out bytes.Buffer
	// Two months: the last whole one gives ~300 needs whatever today's
	// date (one month ending today has few needs on the 2nd).
	res, err := demo.Run(ctx, b, svc, dir, demo.Options{Seed: 7, Months: 2, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Seeded || res.Needs < 100 || res.Events < res.Needs {
		t.Errorf("result = %+v", res)
	}
	// The network of the issue: about 10 organisations, 60 referents, 20
	// advisors, 3 animateurs, a funder, an admin.
	if res.Organisations < 8 || res.Organisations > 14 || res.Referents < 45 || res.Referents > 75 {
		t.Errorf("directory: %d organisations, %d referents", res.Organisations, res.Referents)
	}
	if u := res.Users; u[domain.RoleAdvisor] < 15 || u[domain.RoleAdvisor] > 25 || u[domain.RoleAnimateur] != 3 ||
		u[domain.RoleFunder] != 1 || u[domain.RoleAdmin] != 1 {
		t.Errorf("users by role = %v", u)
	}
	if len(res.Tokens) != len(demo.Roles) {
		t.Fatalf("tokens = %+v", res.Tokens)
	}
	for i, tok := range res.Tokens {
		p, err := svc.Authenticate(ctx, tok.Token)
		if err != nil || p.Role != demo.Roles[i] || p.UserID != tok.UserID {
			t.Errorf("token of %s: %+v, %v", demo.Roles[i], p, err)
		}
		if !strings.Contains(out.String(), tok.Token) {
			t.Errorf("%s token not printed", tok.Role)
		}
	}
	// Tokens saved, readable by the owner only.
	path := filepath.Join(dir, demo.TokensFile)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("tokens file: %v, %v", st, err)
	}
	saved, _ := os.ReadFile(path)
	// Contacts are really sealed with the keyring: a demo need opens.
	admin, _ := svc.Authenticate(ctx, res.Tokens[0].Token)
	mustVisible(t, b, res.Last)
	evs, err := b.Events.ReadAll(ctx, eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	opened := 0
	for _, e := range evs {
		if e.Type != domain.TypeNeedCaptured || opened == 3 {
			continue
		}
		_, id, _ := domain.ParseStream(e.StreamID)
		v, err := svc.GetNeed(ctx, admin, id, nil)
		if err != nil || v.Contact == nil || v.Contact.Erased || v.Contact.Email == "" {
			t.Errorf("need %s: %+v, %v", id, v.Contact, err)
		}
		if bytes.Contains(e.Data, []byte(v.Contact.Email)) {
			t.Errorf("need %s: email in plaintext in the log", id)
		}
		opened++
	}
	if opened != 3 {
		t.Errorf("opened %d needs among %d events", opened, len(evs))
	}
	head, _ := b.Events.Head(ctx)

	// A second run on a store with events seeds nothing and reprints.
	out.Reset()
	again, err := demo.Run(ctx, b, svc, dir, demo.Options{Seed: 7, Months: 2, Out: &out})
	if err != nil || again.Seeded {
		t.Fatalf("second run = %+v, %v", again, err)
	}
	if head2, _ := b.Events.Head(ctx); head2 != head {
		t.Errorf("second run appended: head %v -> %v", head, head2)
	}
	if !strings.Contains(out.String(), string(saved)) {
		t.Errorf("second run printed %q", out.String())
	}
}

// mustVisible waits until the log shows pos: on PostgreSQL an event becomes
// visible once every older transaction of the server (other tests' too) ends.
func mustVisible(t *testing.T, b *backend.Backend, pos eventstore.Position) {
	t.Helper()
	testwait.MustEventually(t, 30*time.Second, func() error {
		head, err := b.Events.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if head.Less(pos) {
			return fmt.Errorf("head %v, not yet %v", head, pos)
		}
		return nil
	})
}

// mustMasters is one fresh master key.
func mustMasters(t *testing.T) []*keys.Master {
	t.Helper()
	m, err := keys.GenerateMaster()
	if err != nil {
		t.Fatal(err)
	}
	return []*keys.Master{m}
}
