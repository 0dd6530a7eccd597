package notify_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/mailtest"
	"github.com/reso-fr/reso/internal/notify"
	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/server"
	"github.com/reso-fr/reso/internal/testwait"
)

var ctx = context.Background()

const (
	lille   = "59350"
	baseURL = "http://console.reso.test"
)

// clock is a clock tests move.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// AdvanceTo moves the clock so that it reads t now.
func (c *clock) AdvanceTo(t time.Time) { c.offset.Store(int64(time.Until(t))) }

// env is a running server with a notifier mailing to Mailpit, and a small
// directory: one organisation, two referents covering Nord, an advisor,
// a referent user for the first referent.
// testMaster wraps the contact keys of every test server: servers that
// share a store (a restart, a second replica) open each other's contacts.
var testMaster = func() *keys.Master {
	m, err := keys.GenerateMaster()
	if err != nil {
		panic(err)
	}
	return m
}()

type env struct {
	t       *testing.T
	store   string
	dsn     string
	dir     string
	mp      *mailtest.Server
	clock   *clock
	srv     *server.Server
	svc     *app.Service
	adminTk string

	admin, advisor, refUser1 app.Principal
	ref1, ref2, org          uuid.UUID
	advisorEmail             string
	sirets                   atomic.Int64
}

type envOptions struct {
	store string
	// mp is the Mailpit to use (default: a new one).
	mp *mailtest.Server
	// dsn is the PostgreSQL schema to share (default: a new one).
	dsn string
	// dir is the SQLite data directory to reuse (default: a new one).
	dir  string
	tune func(*notify.Config)
	demo bool
	// noFixture skips building the directory.
	noFixture bool
	// outbox runs the server without a mail server: mails go to
	// <data>/outbox.
	outbox bool
}

func mustEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, store: o.store, mp: o.mp, clock: &clock{}}
	if e.mp == nil {
		e.mp = mailtest.Start(t, mailtest.Options{})
	}
	var tok [24]byte
	_, _ = rand.Read(tok[:])
	e.adminTk = hex.EncodeToString(tok[:])
	cfg := server.Config{
		Addr: "127.0.0.1:0", AdminToken: e.adminTk, MasterKeys: []*keys.Master{testMaster},
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Notify: &server.NotifyConfig{SMTPURL: e.mp.SMTPURL("", ""), BaseURL: baseURL, MailFrom: "Réso <ne-pas-repondre@reso.test>",
			Notifier: notify.Config{Now: e.clock.Now, ScanInterval: 200 * time.Millisecond, RetryBase: 500 * time.Millisecond,
				JobTimeout: 10 * time.Second, RescueAfter: 20 * time.Second, StandbyRetry: 200 * time.Millisecond,
				RetryDelay: 100 * time.Millisecond}},
	}
	if o.tune != nil {
		o.tune(&cfg.Notify.Notifier)
	}
	if o.outbox {
		cfg.Notify.SMTPURL = ""
	}
	switch o.store {
	case "sqlite":
		e.dir = o.dir
		if e.dir == "" {
			e.dir = t.TempDir()
		}
		cfg.DataDir = e.dir
	case "postgres":
		e.dsn = o.dsn
		if e.dsn == "" {
			e.dsn = pgtest.MustSchema(t)
		}
		cfg.DatabaseURL = e.dsn
		cfg.DataDir = t.TempDir()
	}
	if o.demo {
		cfg.Demo = true
		cfg.DemoOptions.Months, cfg.DemoOptions.Seed, cfg.DemoOptions.Out = 3, 7, nil
		cfg.DemoOptions.Out = discard{}
	}
	cctx, cancel := context.WithCancel(ctx)
	srv, err := server.New(cctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(cctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Logf("server stopped: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not stop within 30 s")
		}
	})
	<-srv.Started()
	e.srv, e.svc = srv, srv.Service()
	e.admin = e.principal(e.adminTk)
	if !o.noFixture {
		e.mustDirectory()
	}
	return e
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (e *env) principal(token string) app.Principal {
	e.t.Helper()
	p, err := e.svc.Authenticate(ctx, token)
	if err != nil {
		e.t.Fatalf("authenticate: %v", err)
	}
	return p
}

func (e *env) mustDirectory() {
	t := e.t
	t.Helper()
	org, _, err := e.svc.CreateOrganisation(ctx, e.admin, "CCI Test", "cci", app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	e.org = org
	ref := func(name string) uuid.UUID {
		id, _, err := e.svc.RegisterReferent(ctx, e.admin, app.ReferentInput{OrganisationID: org, Name: name,
			Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@referents.test", Subjects: []string{"recruitment"},
			Zones: []domain.Zone{{Level: domain.LevelDepartement, Code: "59"}}}, app.CommandMeta{})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	e.ref1, e.ref2 = ref("Chloe Nord"), ref("David Region")
	user := func(name string, role domain.Role, referent uuid.UUID) app.Principal {
		email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@users.test"
		_, tok, _, err := e.svc.RegisterUser(ctx, e.admin, app.UserInput{Name: name, Email: email, Role: role,
			OrganisationID: org, ReferentID: referent}, app.CommandMeta{})
		if err != nil {
			t.Fatal(err)
		}
		return e.principal(tok)
	}
	e.advisor = user("Adele Conseil", domain.RoleAdvisor, uuid.Nil)
	e.advisorEmail = "adele.conseil@users.test"
	e.refUser1 = user("Chloe Utilisatrice", domain.RoleReferent, e.ref1)
}

// contactEmail is the contact address of the n-th captured need.
func contactEmail(n int64) string { return fmt.Sprintf("contact%d@entreprise.test", n) }

// mustCapture captures a need as the advisor; it returns the need and the
// contact's email.
func (e *env) mustCapture() (uuid.UUID, string) {
	e.t.Helper()
	return e.mustCaptureOn(e.svc, e.advisor)
}

// mustCaptureOn captures a need through svc (another server's) as p.
func (e *env) mustCaptureOn(svc *app.Service, p app.Principal) (uuid.UUID, string) {
	e.t.Helper()
	n := e.sirets.Add(1)
	email := contactEmail(n)
	res, err := svc.CaptureNeed(ctx, p, app.CaptureInput{SIRET: siret(e.t, int(n)), CompanyName: fmt.Sprintf("Boulangerie %d", n),
		Commune: lille, Subject: "recruitment", Description: "Recruter deux boulangers",
		Contact: app.Contact{Name: "Camille Dupont", Email: email, Phone: "0320000000"}}, app.CommandMeta{})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Need.ID, email
}

func (e *env) mustForward(id uuid.UUID, refs ...uuid.UUID) eventstore.Position {
	e.t.Helper()
	res, err := e.svc.ForwardNeed(ctx, e.advisor, id, refs, app.CommandMeta{})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Position
}

// siret returns a valid SIRET number built from n.
func siret(t testing.TB, n int) string {
	t.Helper()
	base := fmt.Sprintf("%013d", 4_000_000_000_000+n)
	for d := 0; d <= 9; d++ {
		if s := base + fmt.Sprint(d); !strings.HasPrefix(s, "356") {
			if _, err := domain.ParseSIRET(s); err == nil {
				return s
			}
		}
	}
	t.Fatalf("no SIRET for %d", n)
	return ""
}

// waitIdle waits until the notifier has turned the whole log into jobs
// and no delivery waits or runs: what was to be sent is in Mailpit.
func (e *env) waitIdle() {
	e.t.Helper()
	waitIdle(e.t, e.srv)
}

func waitIdle(t *testing.T, srv *server.Server) {
	t.Helper()
	admin := app.Principal{Role: domain.RoleAdmin}
	// Polling observable state: the checkpoint and the queue.
	testwait.MustEventually(t, 30*time.Second, func() error {
		head, err := srv.Backend().Events.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := srv.Notifier().Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Less(head) {
			return fmt.Errorf("notifier not idle: checkpoint %s, head %s", cp, head)
		}
		busy := 0
		for _, st := range []string{app.NotificationPending, app.NotificationRetrying} {
			vs, err := srv.Service().ListNotifications(ctx, admin, app.NotificationFilter{Status: st})
			if err != nil {
				t.Fatal(err)
			}
			busy += len(vs)
		}
		if busy > 0 {
			return fmt.Errorf("notifier not idle: %d deliveries busy", busy)
		}
		return nil
	})
}

// history returns the types of a need's history, with the notification
// steps' recipients.
func (e *env) history(id uuid.UUID) []app.HistoryEvent {
	e.t.Helper()
	h, err := e.svc.History(ctx, e.admin, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// to lists the recipients of messages, sorted, with their subjects' kind.
func recipients(ms []mailtest.Summary) []string {
	var out []string
	for _, m := range ms {
		for _, a := range m.To {
			out = append(out, a.Address)
		}
	}
	return out
}

// authUser is the credentials' view of a principal.
func authUser(p app.Principal) auth.User {
	return auth.User{ID: p.UserID, Name: p.Name, Role: p.Role, OrganisationID: p.OrganisationID,
		ReferentID: p.ReferentID, Territories: p.Territories}
}

func (e *env) mustForwardAs(p app.Principal, id uuid.UUID, refs ...uuid.UUID) {
	e.t.Helper()
	if _, err := e.svc.ForwardNeed(ctx, p, id, refs, app.CommandMeta{}); err != nil {
		e.t.Fatal(err)
	}
}

func keysContact(name, email string) keys.Contact { return keys.Contact{Name: name, Email: email} }

// mustAppend appends domain events to stream as they are (an import).
func mustAppend(t *testing.T, e *env, stream string, evs []domain.Event) {
	t.Helper()
	var news []eventstore.NewEvent
	for _, ev := range evs {
		typ, ver, data, err := domain.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		news = append(news, eventstore.NewEvent{ID: uuid.Must(uuid.NewV7()), Type: typ, SchemaVersion: ver, Data: data})
	}
	if _, err := e.srv.Backend().Events.Append(ctx, stream, eventstore.NoStream, news...); err != nil {
		t.Fatal(err)
	}
}
