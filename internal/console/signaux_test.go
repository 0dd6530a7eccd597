package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/internal/app"
)

// capturedForwarded captures a need as the advisor through the console's
// form and forwards it to the referent; it returns the need's id.
func (w *web) capturedForwarded(t *testing.T, form url.Values) string {
	t.Helper()
	adv := w.cookie(t, w.advisor)
	a := w.do(t, http.MethodPost, "/besoins/nouveau", adv, form)
	id := strings.Split(strings.TrimPrefix(a.header.Get("Location"), "/besoins/"), "/")[0]
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("capture: %d %q", a.status, a.header.Get("Location"))
	}
	if a = w.do(t, http.MethodPost, "/besoins/"+id+"/mise-en-relation", adv,
		url.Values{"cle": {uuid.NewString()}, "referents": {w.referentID.String()}}); a.status != http.StatusSeeOther {
		t.Fatalf("forward: %d", a.status)
	}
	return id
}

// importSF imports a Signaux Faibles list as the admin and waits until
// the read models hold it.
func (w *web) importSF(t *testing.T, csv string) {
	t.Helper()
	ctx := context.Background()
	res, err := w.srv.Service().ImportSignauxFaibles(ctx, w.admin, app.SFImportInput{Data: []byte(csv), Format: "csv", Label: "Mars 2026"}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.srv.Service().WaitForPosition(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
}

// TestSignauxFaiblesOnlyForAnimateursAndAdmins: the badge on the needs
// list and the need page, the filter by alert, and the companies to
// visit, shown to the animateur of the territory and the admin, never to
// the advisor, the referent or the funder.
func TestSignauxFaiblesOnlyForAnimateursAndAdmins(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	anim := w.cookie(t, w.anim)

	// Before any list: the page says so.
	a := w.do(t, http.MethodGet, "/entreprises-a-visiter", anim, nil)
	if a.status != http.StatusOK || !strings.Contains(a.body, "Aucune liste Signaux Faibles n'a encore été importée") {
		t.Fatalf("companies before any list: %d", a.status)
	}

	alerted := w.capturedForwarded(t, validCapture("73282932000074")) // SIREN 732829320, Lille
	plain := validCapture("55210055400013")
	plain.Set("company_name", "Menuiserie Sans Alerte")
	quiet := w.capturedForwarded(t, plain)
	w.importSF(t, "siren;score;alert;periode;code_commune\n"+
		"732829320;0.87;Alerte seuil F1;2026-03;59350\n"+
		"542065479;0.42;F2;2026-03;59512\n"+ // Roubaix, never met
		"443061841;0.91;F1;2026-03;75056\n"+ // Paris: outside the animateur's Nord
		"356000000;0.10;Pas d'alerte;2026-03;59350\n")

	for _, c := range []struct {
		who  string
		cook *http.Cookie
	}{{"animateur", anim}, {"admin", w.cookie(t, w.admin)}} {
		a = w.do(t, http.MethodGet, "/besoins", c.cook, nil)
		if a.status != http.StatusOK || !strings.Contains(a.body, "Signaux Faibles F1") ||
			!strings.Contains(a.body, "score 0,87, liste Mars 2026") || !strings.Contains(a.body, `<select id="alerte" name="alerte">`) {
			t.Errorf("%s's needs list lacks the badge or the filter: %d", c.who, a.status)
		}
		if n := strings.Count(a.body, "Signaux Faibles F1<span"); n != 1 {
			t.Errorf("%s's needs list: %d badges, want 1", c.who, n)
		}
		a = w.do(t, http.MethodGet, "/besoins/"+alerted, c.cook, nil)
		if !strings.Contains(a.body, "Signaux Faibles F1") || !strings.Contains(a.body, "Alerte F1 (risque élevé), score 0,87") {
			t.Errorf("%s's need page lacks the flag", c.who)
		}
		if a = w.do(t, http.MethodGet, "/besoins/"+quiet, c.cook, nil); strings.Contains(a.body, "Signaux Faibles F") {
			t.Errorf("%s: a need of a company without alert shows a flag", c.who)
		}
	}
	for _, c := range []struct {
		filter      string
		alerted, qu bool
	}{{"F1", true, false}, {"F2", false, false}, {"any", true, false}, {"", true, true}} {
		a = w.do(t, http.MethodGet, "/besoins?alerte="+c.filter, anim, nil)
		if a.status != http.StatusOK || strings.Contains(a.body, "Boulangerie du Beffroi") != c.alerted ||
			strings.Contains(a.body, "Menuiserie Sans Alerte") != c.qu {
			t.Errorf("filter %q: %d, alerted shown %v, other shown %v", c.filter, a.status,
				strings.Contains(a.body, "Boulangerie du Beffroi"), strings.Contains(a.body, "Menuiserie Sans Alerte"))
		}
	}

	// The others never see an alert, and may not filter by it.
	for _, c := range []struct {
		who   string
		cook  *http.Cookie
		pages []string
	}{
		{"advisor", w.cookie(t, w.advisor), []string{"/besoins", "/besoins/" + alerted}},
		{"referent", w.cookie(t, w.referent), []string{"/besoins", "/besoins/" + alerted, "/boite"}},
	} {
		for _, pg := range c.pages {
			a = w.do(t, http.MethodGet, pg, c.cook, nil)
			if a.status != http.StatusOK || strings.Contains(a.body, "Signaux Faibles") || strings.Contains(a.body, "0,87") {
				t.Errorf("%s sees an alert on %s (%d)", c.who, pg, a.status)
			}
		}
		if a = w.do(t, http.MethodGet, "/besoins?alerte=F1", c.cook, nil); a.status != http.StatusForbidden ||
			!strings.Contains(a.body, "voir les alertes Signaux Faibles") {
			t.Errorf("%s filtering by alert: %d", c.who, a.status)
		}
	}
	fun := w.cookie(t, w.fun)
	for _, c := range []struct {
		who  string
		cook *http.Cookie
	}{{"advisor", w.cookie(t, w.advisor)}, {"referent", w.cookie(t, w.referent)}, {"funder", fun}} {
		if a = w.do(t, http.MethodGet, "/entreprises-a-visiter", c.cook, nil); a.status != http.StatusForbidden ||
			!strings.Contains(a.body, "entreprises signalées par Signaux Faibles") {
			t.Errorf("%s opens the companies to visit: %d", c.who, a.status)
		}
		if a = w.do(t, http.MethodGet, "/tableau-de-bord", c.cook, nil); strings.Contains(a.body, "Entreprises à visiter") {
			t.Errorf("%s's navigation offers the companies to visit", c.who)
		}
	}

	// The companies to visit: the territory's alerted ones, the last need
	// of those met.
	a = w.do(t, http.MethodGet, "/entreprises-a-visiter", anim, nil)
	rows := tableRows(a.body)
	if a.status != http.StatusOK || len(rows) != 2 {
		t.Fatalf("companies to visit: %d, rows %q", a.status, rows)
	}
	today := time.Now().In(paris(t))
	if !strings.Contains(rows[0], "Boulangerie du Beffroi") || !strings.Contains(rows[0], "732\u00a0829\u00a0320") ||
		!strings.Contains(rows[0], "F1 (risque élevé)") || !strings.Contains(rows[0], "Lille (59350)") ||
		!strings.Contains(rows[0], "0,87") || !strings.Contains(rows[0], frToday(today)) {
		t.Errorf("alerted company met: %q", rows[0])
	}
	if !strings.Contains(rows[1], "Entreprise non rencontrée") || !strings.Contains(rows[1], "Roubaix (59512)") ||
		!strings.Contains(rows[1], "F2 (risque modéré)") || !strings.Contains(rows[1], "Aucun") {
		t.Errorf("alerted company never met: %q", rows[1])
	}
	if strings.Contains(a.body, "443") && strings.Contains(a.body, "061") {
		t.Errorf("a company outside the territory is listed")
	}
	if !strings.Contains(a.body, `href="/entreprises-a-visiter" aria-current="page"`) {
		t.Errorf("the navigation does not mark the page")
	}
	// Without a need since today: the company met today drops out.
	a = w.do(t, http.MethodGet, "/entreprises-a-visiter?sans_besoin_depuis="+today.Format("2006-01-02"), anim, nil)
	if rows = tableRows(a.body); len(rows) != 1 || !strings.Contains(rows[0], "Roubaix") {
		t.Errorf("without a need since today: %q", rows)
	}
	a = w.do(t, http.MethodGet, "/entreprises-a-visiter?sans_besoin_depuis="+today.AddDate(0, 0, 1).Format("2006-01-02"), anim, nil)
	if rows = tableRows(a.body); len(rows) != 2 {
		t.Errorf("without a need since tomorrow: %q", rows)
	}
	a = w.do(t, http.MethodGet, "/entreprises-a-visiter?alerte=F1", anim, nil)
	if rows = tableRows(a.body); len(rows) != 1 || !strings.Contains(rows[0], "Boulangerie") {
		t.Errorf("F1 only: %q", rows)
	}
	a = w.do(t, http.MethodGet, "/entreprises-a-visiter?sans_besoin_depuis=hier", anim, nil)
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, `id="sans_besoin_depuis-erreur"`) || !strings.Contains(a.body, `value="hier"`) {
		t.Errorf("bad date: %d", a.status)
	}
	// The admin sees every territory's.
	if rows = tableRows(w.do(t, http.MethodGet, "/entreprises-a-visiter", w.cookie(t, w.admin), nil).body); len(rows) != 3 {
		t.Errorf("admin's companies: %q", rows)
	}
	// The dashboard links to it.
	if a = w.do(t, http.MethodGet, "/tableau-de-bord", anim, nil); !strings.Contains(a.body, `<a href="/entreprises-a-visiter">Entreprises à visiter`) {
		t.Errorf("the dashboard does not link to the companies to visit")
	}
}

var rowStart = regexp.MustCompile(`<tr[ >]`)

// tableRows returns the body rows of a page's first table, as HTML.
func tableRows(body string) []string {
	_, tb, ok := strings.Cut(body, "<tbody>")
	if !ok {
		return nil
	}
	tb, _, _ = strings.Cut(tb, "</tbody>")
	var out []string
	for _, r := range rowStart.Split(tb, -1)[1:] {
		if strings.Contains(r, "colspan") {
			continue // the empty table's message
		}
		out = append(out, r)
	}
	return out
}

func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

var frMonths = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// frToday is a day as the console writes it ("7 décembre 2026", a
// no-break space after the day).
func frToday(t time.Time) string {
	d := t.Format("2")
	if d == "1" {
		d = "1er"
	}
	return d + "\u00a0" + frMonths[t.Month()-1] + " " + t.Format("2006")
}
