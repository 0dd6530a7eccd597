package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/internal/mailtest"
	"github.com/reso-fr/reso/internal/server"
)

// waitPage polls path as c until its body satisfies ok, for 30 s.
func (w *web) waitPage(t *testing.T, path string, c *http.Cookie, what string, ok func(string) bool) answer {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := w.do(t, http.MethodGet, path, c, nil)
		if a.status == http.StatusOK && ok(a.body) {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s on %s (last answer %d)", what, path, a.status)
		}
		tick := time.NewTimer(100 * time.Millisecond)
		<-tick.C
	}
}

var mailLink = regexp.MustCompile(`href="(/admin/notifications/courriels/[0-9a-f]{24}\.eml)"`)

// TestNotificationsOutboxListsAndShowsMailsAsText: on a server without a
// mail server, the admin lists the mails written to the outbox and reads
// one, as escaped text; no other role opens the page.
func TestNotificationsOutboxListsAndShowsMailsAsText(t *testing.T) {
	t.Parallel()
	w := mustWebWith(t, func(c *server.Config) { c.Notify = &server.NotifyConfig{} })
	admin := w.cookie(t, w.admin)
	a := w.do(t, http.MethodGet, "/admin/notifications", admin, nil)
	if a.status != http.StatusOK || !strings.Contains(a.body, "Aucun envoi en échec.") ||
		!strings.Contains(a.body, "Aucun courriel n'a encore été écrit.") || !strings.Contains(a.body, `href="/admin/notifications" aria-current="page"`) {
		t.Fatalf("empty notifications page: %d", a.status)
	}
	form := validCapture("73282932000074")
	form.Set("company_name", `Boulangerie <script>alert("x")</script>`)
	id := w.capturedForwarded(t, form)

	a = w.waitPage(t, "/admin/notifications", admin, "the forward's mail in the outbox", func(b string) bool {
		return strings.Contains(b, "Chloé Nord &lt;chloe@cci.test&gt;")
	})
	rows := tableRows(a.body[strings.Index(a.body, `id="t-boite"`):])
	if len(rows) != 1 || !strings.Contains(rows[0], frToday(time.Now().In(paris(t)))) {
		t.Fatalf("outbox rows %q", rows)
	}
	if strings.Contains(a.body, "<script>alert") {
		t.Errorf("the subject is not escaped in the list")
	}
	m := mailLink.FindStringSubmatch(a.body)
	if m == nil {
		t.Fatalf("no link to the mail in %q", rows[0])
	}
	a = w.do(t, http.MethodGet, m[1], admin, nil)
	if a.status != http.StatusOK {
		t.Fatalf("the mail: %d", a.status)
	}
	for _, want := range []string{`<pre class="mail">`, "Chloé Nord &lt;chloe@cci.test&gt;", "/besoins/",
		"Boulangerie &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the mail's page lacks %q", want)
		}
	}
	// Text only: neither the company's markup nor the HTML alternative's.
	if strings.Contains(a.body, "<script>alert") || regexp.MustCompile(`<a href="https?://`).MatchString(a.body) {
		t.Errorf("the mail's page renders markup of the mail")
	}
	// The need's timeline has the mail as a step of its own.
	w.waitPage(t, "/besoins/"+id+"/historique", w.cookie(t, w.anim), "the mail in the timeline", func(b string) bool {
		return strings.Contains(b, "<strong>Courriel envoyé</strong>") && strings.Contains(b, "« Besoin transmis (au référent) » à Chloé Nord")
	})
	for _, bad := range []string{"0123456789abcdef01234567.eml", "..%2Fmaster.key", "notify.db"} {
		if a = w.do(t, http.MethodGet, "/admin/notifications/courriels/"+bad, admin, nil); a.status != http.StatusNotFound {
			t.Errorf("mail %q: %d", bad, a.status)
		}
	}
	for _, p := range []struct {
		who  string
		cook *http.Cookie
	}{{"advisor", w.cookie(t, w.advisor)}, {"referent", w.cookie(t, w.referent)}, {"animateur", w.cookie(t, w.anim)}, {"funder", w.cookie(t, w.fun)}} {
		for _, path := range []string{"/admin/notifications", m[1]} {
			if a = w.do(t, http.MethodGet, path, p.cook, nil); a.status != http.StatusForbidden || !strings.Contains(a.body, "ne permet pas de") {
				t.Errorf("%s opens %s: %d", p.who, path, a.status)
			}
		}
		if a = w.do(t, http.MethodPost, "/admin/notifications/1/reessayer", p.cook, url.Values{"cle": {uuid.NewString()}}); a.status != http.StatusForbidden {
			t.Errorf("%s retries a delivery: %d", p.who, a.status)
		}
	}
}

// TestNotificationsFailedDeliveryRetried: a mail the server refused for
// good shows as failed; once the cause is gone, the admin's "Réessayer"
// sends it.
func TestNotificationsFailedDeliveryRetried(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t, mailtest.Options{AllowedRecipients: `^nobody@`})
	w := mustWebWith(t, func(c *server.Config) {
		c.Notify = &server.NotifyConfig{SMTPURL: mp.SMTPURL("", "")}
	})
	admin := w.cookie(t, w.admin)
	id := w.capturedForwarded(t, validCapture("73282932000074"))
	a := w.waitPage(t, "/admin/notifications", admin, "the refused delivery", func(b string) bool {
		return strings.Contains(b, "Abandonné")
	})
	rows := tableRows(a.body)
	if len(rows) != 1 {
		t.Fatalf("failed deliveries %q", rows)
	}
	for _, want := range []string{"Besoin transmis (au référent)", "Chloé Nord (référent, CCI Test)", `href="/besoins/` + id + `"`,
		"1 sur 1", "Réessayer", "550"} {
		if !strings.Contains(rows[0], want) {
			t.Errorf("failed delivery lacks %q: %s", want, rows[0])
		}
	}
	if !strings.Contains(a.body, "ne garde pas de boîte d&#39;envoi") && !strings.Contains(a.body, "ne garde pas de boîte d'envoi") {
		t.Errorf("a server with SMTP shows an outbox")
	}
	action := regexp.MustCompile(`action="(/admin/notifications/\d+/reessayer)"`).FindStringSubmatch(rows[0])
	if action == nil {
		t.Fatalf("no retry form in %s", rows[0])
	}
	if n, err := mp.Count(); err != nil || n != 0 {
		t.Fatalf("mailpit holds %d messages before the retry (%v)", n, err)
	}
	mp.Stop()
	mp.AllowRecipients("")
	mp.Restart()
	key := uuid.NewString()
	for range 2 { // a double submit retries once
		a = w.do(t, http.MethodPost, action[1], admin, url.Values{"cle": {key}})
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/admin/notifications?fait=reessaye" {
			t.Fatalf("retry: %d %q", a.status, a.header.Get("Location"))
		}
	}
	got := mp.WaitCount(t, 1, 30*time.Second)
	if len(got) != 1 || got[0].To[0].Address != "chloe@cci.test" {
		t.Fatalf("after the retry mailpit got %+v", got)
	}
	w.waitPage(t, "/admin/notifications?fait=reessaye", admin, "no failed delivery left", func(b string) bool {
		return strings.Contains(b, "Aucun envoi en échec.") && strings.Contains(b, "Le courriel va être renvoyé dans un instant.")
	})
	// The timeline keeps the final failure, then the mail sent.
	a = w.waitPage(t, "/besoins/"+id+"/historique", admin, "the retried mail in the timeline", func(b string) bool {
		return strings.Contains(b, "<strong>Courriel envoyé</strong>")
	})
	if failure := strings.Index(a.body, "<strong>Échec de l&#39;envoi d&#39;un courriel</strong>"); failure < 0 ||
		failure > strings.Index(a.body, "<strong>Courriel envoyé</strong>") || !strings.Contains(a.body, "Tentative 1 : ") ||
		!strings.Contains(a.body, "Plus de nouvelle tentative") {
		t.Errorf("the timeline lacks the final failure before the mail sent")
	}
	if a = w.do(t, http.MethodPost, "/admin/notifications/999999/reessayer", admin, url.Values{"cle": {uuid.NewString()}}); a.status != http.StatusNotFound {
		t.Errorf("retry of an unknown delivery: %d", a.status)
	}
}
