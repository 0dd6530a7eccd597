package notify_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/notify"
)

// Seeding the demo (three months of history, with needs past day 9 and
// day 21 among them) and rebuilding every read model send nothing; the notifier is
// live all the same: the demo advisor's next forward mails each referent.
func TestDemoSeedAndRebuildSendNothing(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			e := mustEnv(t, envOptions{store: store, demo: true, noFixture: true})
			if !e.srv.Demo().Seeded || e.srv.Demo().Needs == 0 {
				t.Fatalf("demo %+v", e.srv.Demo())
			}
			e.waitIdle()
			waitScanned(t, e)
			if err := e.srv.Backend().Projections.RebuildAll(ctx, nil); err != nil {
				t.Fatal(err)
			}
			e.waitIdle()
			waitScanned(t, e)
			// The next Tuesday's digest and the reminders are the present's,
			// not the past's: none of them is due yet.
			e.waitIdle()
			if n, err := e.mp.Count(); err != nil || n != 0 {
				t.Fatalf("%d mails after the demo and a rebuild (%v), want none", n, err)
			}

			var advisor app.Principal
			for _, tk := range e.srv.Demo().Tokens {
				if tk.Role == domain.RoleAdvisor {
					advisor = e.principal(tk.Token)
				}
			}
			id, _ := e.mustCaptureOn(e.svc, advisor)
			sug, err := e.svc.Suggestions(ctx, advisor, id)
			if err != nil || len(sug) < 2 {
				t.Fatalf("suggestions %d, %v", len(sug), err)
			}
			e.mustForwardAs(advisor, id, sug[0].ReferentID, sug[1].ReferentID)
			e.mp.WaitCount(t, 2, 20*time.Second)
			e.waitIdle()
			if n, _ := e.mp.Count(); n != 2 {
				t.Fatalf("%d mails after the forward, want 2", n)
			}
		})
	}
}

// History recorded long after it happened (an import) notifies nobody,
// even with the notifier running.
func TestImportedHistoryNotifiesNobody(t *testing.T) {
	t.Parallel()
	e := mustEnv(t, envOptions{store: "sqlite"})
	id := uuid.Must(uuid.NewV7())
	past := time.Now().Add(-30 * 24 * time.Hour).UTC()
	by := domain.Actor{ID: e.advisor.UserID, Role: domain.RoleAdvisor}
	sealed, err := e.srv.Backend().Keys.Seal(ctx, id, "73282932000074", keysContact("Camille", "camille@entreprise.test"))
	if err != nil {
		t.Fatal(err)
	}
	n := domain.NewNeed(id)
	if err := n.Capture(domain.Capture{NeedID: id, SIRET: "73282932000074", CompanyName: "Import", Commune: lille,
		Subject: "recruitment", Description: "importé", Contact: sealed, AdvisorID: e.advisor.UserID}, e.svc.Geography(), by, past); err != nil {
		t.Fatal(err)
	}
	if err := n.Forward([]domain.MatchRef{{ReferentID: e.ref1, OrganisationID: e.org}}, by, past.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, e, domain.NeedStream(id), n.Changes())
	e.waitIdle()
	if c, _ := e.mp.Count(); c != 0 {
		t.Fatalf("%d mails for imported history", c)
	}
}

// Without a mail server (the demo's default), each mail is an .eml file
// in the data directory's outbox, once.
func TestOutboxWithoutMailServer(t *testing.T) {
	t.Parallel()
	e := mustEnv(t, envOptions{store: "sqlite", outbox: true})
	id, _ := e.mustCapture()
	e.mustForward(id, e.ref1, e.ref2)
	e.waitIdle()
	files, err := filepath.Glob(filepath.Join(e.dir, "outbox", "*.eml"))
	if err != nil || len(files) != 2 {
		t.Fatalf("outbox holds %v (%v), want 2 files", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "referents.test") || !strings.Contains(string(b), "X-Reso-Kind: forwarded") {
			t.Errorf("%s:\n%s", f, b)
		}
	}
	if n := len(notifications(e.history(id))); n != 2 {
		t.Fatalf("history records %d deliveries, want 2", n)
	}
	if c, _ := e.mp.Count(); c != 0 {
		t.Fatalf("Mailpit got %d mails", c)
	}
}

// History appended while the server is down (an import of recent steps)
// mails nobody once the importer moved the notifier past it; the next
// start mails only what happens after.
func TestSkipHistoryForAnImport(t *testing.T) {
	t.Parallel()
	e := mustEnv(t, envOptions{store: "sqlite"})
	imported, _ := e.mustCapture()
	e.waitIdle()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	b, err := backend.Open(ctx, backend.Config{DataDir: e.dir})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Events.ReadStream(ctx, domain.NeedStream(imported), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	fwd := domain.NeedForwarded{Meta: domain.Meta{At: time.Now().UTC(), By: domain.Actor{ID: e.advisor.UserID, Role: domain.RoleAdvisor}},
		NeedID: imported, Referents: []domain.MatchRef{{ReferentID: e.ref1, OrganisationID: e.org}}}
	typ, ver, data, err := domain.Marshal(fwd)
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.Events.Append(ctx, domain.NeedStream(imported), eventstore.Exactly(int64(len(raw))),
		eventstore.NewEvent{ID: uuid.Must(uuid.NewV7()), Type: typ, SchemaVersion: ver, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := notify.SkipHistory(ctx, b.Events, b.Pool(), notify.SQLitePath(e.dir), res.Position); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	again := mustEnv(t, envOptions{store: "sqlite", dir: e.dir, mp: e.mp, noFixture: true})
	again.waitIdle()
	if c, _ := e.mp.Count(); c != 0 {
		t.Fatalf("%d mails for the imported forward", c)
	}
	id, _ := e.mustCaptureOn(again.svc, e.advisor)
	again.mustForwardAs(e.advisor, id, e.ref1, e.ref2)
	e.mp.WaitCount(t, 2, 20*time.Second)
	again.waitIdle()
	if c, _ := e.mp.Count(); c != 2 {
		t.Fatalf("%d mails after a live forward, want 2", c)
	}
}
