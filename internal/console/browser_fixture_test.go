package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/demo"
	"github.com/reso-fr/reso/internal/server"
	"github.com/reso-fr/reso/internal/testwait"
)

// The browser tests share one real server (embedded SQLite, demo data of
// two months) and one headless Chromium, started by the first test that
// needs them and stopped by TestMain.
var (
	shared     *fixture
	sharedErr  error
	sharedOnce sync.Once
	sirets     atomic.Int64
)

// fixture is the running server and browser.
type fixture struct {
	srv     *server.Server
	base    string
	dir     string
	stop    func()
	users   map[domain.Role]demo.Token
	browser context.Context // a started Chromium; tabs get their own browser context
	closeB  func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.closeB()
		shared.stop()
	}
	os.Exit(code)
}

// chromium finds Debian's chromium (or another Chrome) on the PATH.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// mustFixture returns the shared fixture, skipping the test when no
// Chromium is found unless CI or RESO_REQUIRE_BROWSER is set.
func mustFixture(t *testing.T) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	path := chromium()
	if path == "" {
		if os.Getenv("CI") != "" || os.Getenv("RESO_REQUIRE_BROWSER") != "" {
			t.Fatal("no Chromium found (apt-get install -y chromium), and CI or RESO_REQUIRE_BROWSER is set")
		}
		t.Skip("no Chromium found; apt-get install -y chromium")
	}
	sharedOnce.Do(func() { shared, sharedErr = startFixture(path) })
	if sharedErr != nil {
		t.Fatalf("browser fixture: %v", sharedErr)
	}
	return shared
}

func startFixture(chromePath string) (*fixture, error) {
	dir, err := os.MkdirTemp("", "reso-browser-data-")
	if err != nil {
		return nil, err
	}
	months := 2
	if os.Getenv("RESO_SCREENSHOTS") != "" {
		months = 12 // the documentation shows a year of figures
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{
		Addr: "127.0.0.1:0", DataDir: dir, Demo: true,
		DemoOptions: demo.Options{Seed: 7, Months: months, Out: io.Discard},
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		cancel()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		return nil, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	<-srv.Started()
	f := &fixture{srv: srv, base: "http://" + srv.Addr(), dir: dir, users: map[domain.Role]demo.Token{}}
	f.stop = func() {
		cancel()
		<-served
		os.RemoveAll(dir)
	}
	for _, tok := range srv.Demo().Tokens {
		f.users[tok.Role] = tok
	}
	// On the engine: the service's reads give up after 5 s.
	wctx, wcancel := context.WithTimeout(ctx, testwait.Scale(time.Minute))
	defer wcancel()
	if err := caughtUp(wctx, srv); err != nil {
		f.stop()
		return nil, fmt.Errorf("read models catching up with the demo: %w", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromePath),
		chromedp.WindowSize(1280, 1000), chromedp.Flag("lang", "fr-FR"))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	if err := chromedp.Do(browser); err != nil {
		cancelBrowser()
		cancelAlloc()
		f.stop()
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	f.browser = browser
	f.closeB = func() { cancelBrowser(); cancelAlloc() }
	return f, nil
}

// caughtUp waits until the read models applied the demo's last event,
// or ctx ends: the service's own wait stops after a few seconds, less than
// a year of demo data may take on a busy machine.
func caughtUp(ctx context.Context, srv *server.Server) error {
	return srv.Backend().Projections.WaitFor(ctx, srv.Demo().Last)
}

// principal is a demo user's principal.
func (f *fixture) principal(t *testing.T, role domain.Role) app.Principal {
	t.Helper()
	p, err := f.srv.Service().PrincipalOfUser(context.Background(), f.users[role].UserID)
	if err != nil {
		t.Fatalf("principal of the demo %s: %v", role, err)
	}
	return p
}

// place is a commune and a subject the demo referent covers, within the
// demo animateur's territory.
type place struct {
	Commune domain.Commune
	Subject string
}

func (f *fixture) place(t *testing.T) place {
	t.Helper()
	ctx := context.Background()
	svc := f.srv.Service()
	ref, anim := f.principal(t, domain.RoleReferent), f.principal(t, domain.RoleAnimateur)
	refs, err := svc.Referents(ctx, f.principal(t, domain.RoleAdmin))
	if err != nil {
		t.Fatal(err)
	}
	geo := svc.Geography()
	for _, r := range refs {
		if r.ID != ref.ReferentID {
			continue
		}
		for _, z := range r.Zones {
			for _, c := range geo.CommunesIn(z) {
				for _, tz := range anim.Territories {
					if geo.Contains(tz, c.Code) && len(c.PostalCodes) > 0 {
						return place{Commune: c, Subject: r.Subjects[0]}
					}
				}
			}
		}
	}
	t.Fatal("the demo referent covers no commune of the demo animateur's territory")
	return place{}
}

// siret returns a fresh valid SIRET.
func siret() string {
	n := sirets.Add(1)
	base := fmt.Sprintf("%013d", 5_000_000_000_000+n*7)
	for d := 0; d <= 9; d++ {
		s := base + fmt.Sprint(d)
		if _, err := domain.ParseSIRET(s); err == nil {
			return s
		}
	}
	panic("no SIRET")
}

// forwardedNeed captures a need as the demo advisor and forwards it to the
// demo referent, through the service (the setup of a flow, not its
// subject).
func (f *fixture) forwardedNeed(t *testing.T, company string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	pl := f.place(t)
	adv := f.principal(t, domain.RoleAdvisor)
	res, err := f.srv.Service().CaptureNeed(ctx, adv, app.CaptureInput{SIRET: siret(), CompanyName: company,
		Commune: pl.Commune.Code, Subject: pl.Subject, Description: "Recruter deux boulangers avant l'été",
		Contact: app.Contact{Name: "Camille Dupont", Email: "camille.dupont@example.fr", Phone: "0320000000"}}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	ref := f.principal(t, domain.RoleReferent)
	fw, err := f.srv.Service().ForwardNeed(ctx, adv, res.Need.ID, []uuid.UUID{ref.ReferentID}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	mustCaughtUp(t, f.srv, fw.Position)
	return res.Need.ID
}

// actionTimeout bounds each browser action (a page that never shows what
// a test waits for fails in this time, not in the whole test's); the race
// detector slows the server down.
var actionTimeout = testwait.Scale(15 * time.Second)

// tab is one browser tab with its own cookies, as one person.
type tab struct {
	t    *testing.T
	f    *fixture
	ctx  context.Context
	name string
}

// newTab opens a tab in a browser context of its own (its own cookies).
func (f *fixture) newTab(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(f.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first run opens the tab: it must not have a deadline, which would
	// close the tab with it; each later action has its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return &tab{t: t, f: f, ctx: ctx, name: strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())}
}

// run runs actions; on failure it saves a screenshot and the page's HTML,
// prints their paths and fails the test.
func (b *tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.failf("%s: %v", what, err)
	}
}

// get runs an action that reads a value; on failure as run.
func get[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.failf("%s: %v", what, err)
	}
	return v
}

// failf saves the page and fails.
func (b *tab) failf(format string, args ...any) {
	b.t.Helper()
	dir, derr := os.MkdirTemp("", b.name+"-")
	if derr == nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 10*time.Second)
		defer cancel()
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		png, _ := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
		shot, page := filepath.Join(dir, "screenshot.png"), filepath.Join(dir, "page.html")
		_ = os.WriteFile(shot, png, 0o644)
		_ = os.WriteFile(page, []byte("<!-- "+loc+" -->\n"+html), 0o644)
		b.t.Logf("browser failure at %s: screenshot %s, HTML %s", loc, shot, page)
	}
	b.t.Fatalf(format, args...)
}

// open goes to path and waits for its h1.
func (b *tab) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.f.base+path), chromedp.WaitVisible(chromedp.CSS("h1")))
}

// signIn signs in as the demo user of role from the sign-in page.
func (b *tab) signIn(role domain.Role) {
	b.t.Helper()
	b.open("/connexion")
	b.clickText("button", "Se connecter comme "+b.f.users[role].Name)
	b.waitPathNot("/connexion")
}

// clickText clicks the element of tag whose text contains text.
func (b *tab) clickText(tag, text string) {
	b.t.Helper()
	sel := fmt.Sprintf(`//%s[contains(normalize-space(.), %q)]`, tag, text)
	b.run("click "+text, chromedp.WaitVisible(chromedp.Search(sel)), chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible))
}

// text returns the text of the first element sel (CSS) matches.
func (b *tab) text(sel string) string {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	return get(b, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// path is the current page's path.
func (b *tab) path() string {
	b.t.Helper()
	return strings.TrimPrefix(get(b, "location", chromedp.Location()), b.f.base)
}

// eventually polls cond every 100 ms until it holds, for 15 s (more under
// -race).
func (b *tab) eventually(what string, cond func() bool) {
	b.t.Helper()
	wait := testwait.Scale(15 * time.Second)
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			b.failf("waited %s for %s", wait, what)
		}
		select {
		case <-b.ctx.Done():
			b.failf("waiting for %s: %v", what, b.ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// try runs a read that may fail while a page is loading (the target
// navigates under it): a failure is "not yet".
func try[T any](b *tab, a chromedp.Action[T]) (T, bool) {
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	return v, err == nil
}

// waitPathNot waits until the page left path.
func (b *tab) waitPathNot(path string) {
	b.t.Helper()
	b.eventually("leaving "+path, func() bool {
		loc, ok := try(b, chromedp.Location())
		return ok && !strings.HasPrefix(strings.TrimPrefix(loc, b.f.base), path) && b.ready()
	})
}

// waitPath waits until the page's path starts with prefix.
func (b *tab) waitPath(prefix string) {
	b.t.Helper()
	b.eventually("page "+prefix, func() bool {
		loc, ok := try(b, chromedp.Location())
		return ok && strings.HasPrefix(strings.TrimPrefix(loc, b.f.base), prefix) && b.ready()
	})
}

// ready reports whether the document finished loading.
func (b *tab) ready() bool {
	state, ok := try(b, chromedp.Evaluate[string](`document.readyState`))
	return ok && state == "complete"
}

// body is the page's visible text.
func (b *tab) body() string {
	b.t.Helper()
	return get(b, "read body", chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
}

// bodyHas waits until the loaded page's text contains s.
func (b *tab) bodyHas(s string) {
	b.t.Helper()
	b.eventually("text "+s, func() bool {
		text, ok := try(b, chromedp.Evaluate[string](`document.readyState === "complete" && document.body ? document.body.innerText : ""`))
		return ok && strings.Contains(text, s)
	})
}
