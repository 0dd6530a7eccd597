package console_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/demo"
	"github.com/reso-fr/reso/internal/mailtest"
	"github.com/reso-fr/reso/internal/server"
	"github.com/reso-fr/reso/internal/servertest"
)

// serverBeside starts another demo server (one month of data) configured
// by tune, driven by the shared fixture's browser: for flows that need a
// notifier, which the shared server runs without.
func (f *fixture) serverBeside(t *testing.T, tune func(*server.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	cfg := server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true,
		DemoOptions: demo.Options{Seed: 11, Months: 1, Out: io.Discard},
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	tune(&cfg)
	srv := servertest.Start(t, cfg)
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	if err := caughtUp(wctx, srv); err != nil {
		t.Fatal(err)
	}
	o := &fixture{srv: srv, base: "http://" + srv.Addr(), users: map[domain.Role]demo.Token{}, browser: f.browser}
	for _, tok := range srv.Demo().Tokens {
		o.users[tok.Role] = tok
	}
	return o
}

// TestBrowserAdminReadsTheOutbox: on a demo server without a mail server,
// a forwarded need's mail lands in the outbox; the admin finds it on the
// Notifications page and reads it as text.
func TestBrowserAdminReadsTheOutbox(t *testing.T) {
	f := mustFixture(t).serverBeside(t, func(c *server.Config) { c.Notify = &server.NotifyConfig{} })
	company := "Brasserie <em>du Canal</em> " + siret()[9:]
	f.forwardedNeed(t, company)
	ref := f.users[domain.RoleReferent].Name

	b := f.newTab(t)
	b.signIn(domain.RoleAdmin)
	b.open("/admin/annuaire")
	b.clickText("nav//a", "Notifications")
	b.waitPath("/admin/notifications")
	b.eventually("the mail in the outbox", func() bool {
		b.open("/admin/notifications")
		return strings.Contains(b.text("#t-boite + p + div table tbody"), ref)
	})
	b.clickText("a", company)
	b.waitPath("/admin/notifications/courriels/")
	if h1 := b.text("h1"); !strings.Contains(h1, company) {
		t.Errorf("the mail's title %q lacks the company as typed", h1)
	}
	text := b.text("pre.mail")
	if !strings.Contains(text, company) || !strings.Contains(text, "/besoins/") {
		t.Errorf("the mail's text: %q", text)
	}
	// Shown as text: the company's markup is not an element of the page.
	if n := get(b, "count em", chromedp.Evaluate[int](`document.querySelectorAll("main em").length`)); n != 0 {
		t.Errorf("the mail's markup became %d elements", n)
	}
	b.clickText("a", "Retour aux notifications")
	b.waitPath("/admin/notifications")
}

// TestBrowserAdminRetriesAFailedDelivery: the mail server refused a
// forwarded need's mail for good; once the cause is gone, the admin finds
// the failed delivery on the Notifications page and clicks "Réessayer":
// the mail goes out once.
func TestBrowserAdminRetriesAFailedDelivery(t *testing.T) {
	mp := mailtest.Start(t, mailtest.Options{AllowedRecipients: `^nobody@`})
	f := mustFixture(t).serverBeside(t, func(c *server.Config) {
		c.Notify = &server.NotifyConfig{SMTPURL: mp.SMTPURL("", "")}
	})
	company := "Fromagerie Lefebvre " + siret()[9:]
	f.forwardedNeed(t, company)

	b := f.newTab(t)
	b.signIn(domain.RoleAdmin)
	b.eventually("the refused delivery", func() bool {
		b.open("/admin/notifications")
		return strings.Contains(b.text("#t-echecs ~ div table tbody"), "Abandonné")
	})
	row := b.text("#t-echecs ~ div table tbody tr")
	if !strings.Contains(row, "Besoin transmis (au référent)") || !strings.Contains(row, f.users[domain.RoleReferent].Name) {
		t.Errorf("failed delivery: %q", row)
	}
	if n, err := mp.Count(); err != nil || n != 0 {
		t.Fatalf("mailpit holds %d messages before the retry (%v)", n, err)
	}
	mp.Stop()
	mp.AllowRecipients("")
	mp.Restart()
	b.clickText("button", "Réessayer")
	b.bodyHas("Le courriel va être renvoyé dans un instant.")
	got := mp.WaitCount(t, 1, 30*time.Second)
	if len(got) != 1 || !strings.Contains(got[0].Subject, company) {
		t.Fatalf("mailpit got %+v", got)
	}
	b.eventually("no failed delivery left", func() bool {
		b.open("/admin/notifications")
		return strings.Contains(b.text("#t-echecs ~ div table tbody"), "Aucun envoi en échec.")
	})
}
