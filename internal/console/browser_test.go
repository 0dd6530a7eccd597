package console_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// TestBrowserAdvisorCapturesAndForwards: an advisor captures a need in the
// form and forwards it to a suggested referent.
func TestBrowserAdvisorCapturesAndForwards(t *testing.T) {
	f := mustFixture(t)
	b := f.newTab(t)
	pl := f.place(t)
	b.signIn(domain.RoleAdvisor)
	b.open("/besoins/nouveau")
	company := "Boulangerie du Beffroi " + siret()[9:]
	b.run("fill the capture form",
		chromedp.SendKeys(chromedp.CSS("#siret"), siret()),
		chromedp.SendKeys(chromedp.CSS("#company_name"), company),
		chromedp.SendKeys(chromedp.CSS("#commune"), pl.Commune.Name+" ("+pl.Commune.PostalCodes[0]+")"),
		chromedp.SetValue(chromedp.CSS("#subject"), pl.Subject),
		chromedp.SendKeys(chromedp.CSS("#description"), "Recruter deux boulangers avant l'été"),
		chromedp.SendKeys(chromedp.CSS("#contact_name"), "Camille Dupont"),
		chromedp.SendKeys(chromedp.CSS("#contact_email"), "camille.dupont@example.fr"),
	)
	if got := b.text("#siret-verif"); got != "SIRET valide." {
		t.Errorf("SIRET check as typed says %q", got)
	}
	b.clickText("button", "Enregistrer le besoin")
	b.waitPath("/besoins/")
	b.bodyHas("Référents proposés")
	if !strings.HasSuffix(strings.SplitN(b.path(), "?", 2)[0], "/mise-en-relation") {
		t.Fatalf("after capture: %s", b.path())
	}
	ref := f.users[domain.RoleReferent].Name
	b.clickText("label", ref)
	b.clickText("button", "Transmettre le besoin")
	b.bodyHas("Le besoin a été transmis")
	if h1 := b.text("h1"); h1 != company {
		t.Errorf("need page h1 %q, want %q", h1, company)
	}
	row := b.text("#t-positionnements + div table tbody")
	if !strings.Contains(row, ref) || !strings.Contains(row, "En attente") {
		t.Errorf("positions after forwarding: %q", row)
	}
	// My needs lists it, with its status and last step.
	b.open("/besoins")
	b.eventually("the need in my needs", func() bool {
		b.open("/besoins")
		return strings.Contains(b.body(), company)
	})
	if !strings.Contains(b.body(), "Mise en relation, le") {
		t.Errorf("my needs does not show the last step: %s", b.body())
	}
}

// TestBrowserReferentTakesChargeCommentsAndCloses: the referent finds the
// need in their inbox, takes it in charge, comments and closes it.
func TestBrowserReferentTakesChargeCommentsAndCloses(t *testing.T) {
	f := mustFixture(t)
	company := "Menuiserie Lefebvre " + siret()[9:]
	id := f.forwardedNeed(t, company)
	b := f.newTab(t)
	b.signIn(domain.RoleReferent)
	if p := b.path(); !strings.HasPrefix(p, "/boite") {
		t.Fatalf("a referent lands on %s, want the inbox", p)
	}
	b.bodyHas("Boîte de réception")
	if !strings.Contains(b.body(), company) {
		t.Fatalf("the inbox does not list %s", company)
	}
	b.clickText("a", company)
	b.waitPath("/besoins/" + id.String())
	b.clickText("button", "Je prends en charge")
	b.bodyHas("Votre positionnement a été enregistré")
	if got := b.text("#t-mon-positionnement"); !strings.Contains(got, "Prise en charge") {
		t.Errorf("after taking charge: %q", got)
	}
	b.run("write a comment", chromedp.SendKeys(chromedp.CSS("#texte"), "J'appelle le dirigeant demain matin."))
	b.clickText("button", "Envoyer le message")
	b.bodyHas("Votre commentaire a été ajouté")
	if got := b.text("ol.thread"); !strings.Contains(got, "J'appelle le dirigeant demain matin.") {
		t.Errorf("thread: %q", got)
	}
	b.clickText("button", "Aide proposée")
	b.bodyHas("Votre positionnement a été enregistré")
	if got := b.text("p.lead"); !strings.Contains(got, "Aide proposée") {
		t.Errorf("need status after closing: %q", got)
	}
	// The closed need moves to the "Clôturés" tab.
	b.eventually("the need in Clôturés", func() bool {
		b.open("/boite?onglet=done")
		return strings.Contains(b.body(), company)
	})
}

// TestBrowserAnimateurTimelineAndPastState: an animateur opens a need's
// timeline and its state before the take-charge.
func TestBrowserAnimateurTimelineAndPastState(t *testing.T) {
	f := mustFixture(t)
	company := "Garage Martin " + siret()[9:]
	id := f.forwardedNeed(t, company)
	ref := f.principal(t, domain.RoleReferent)
	if _, err := f.srv.Service().ChangeMatch(context.Background(), ref, id, ref.ReferentID, "take_charge", "", app.CommandMeta{}); err != nil {
		t.Fatal(err)
	}
	b := f.newTab(t)
	b.signIn(domain.RoleAnimateur)
	b.open("/besoins/" + id.String())
	b.clickText("a", "Historique du besoin")
	b.waitPath("/besoins/" + id.String() + "/historique")
	steps := b.text("ol.timeline")
	for _, s := range []string{"Besoin saisi", "Mise en relation", "Positionnement", "En attente → Prise en charge"} {
		if !strings.Contains(steps, s) {
			t.Errorf("timeline lacks %q: %s", s, steps)
		}
	}
	// The state right after the forward: before the take-charge.
	b.clickText("a", "(après l'étape « Mise en relation »)")
	b.bodyHas("État au")
	state := b.text("#etat")
	if !strings.Contains(state, "En attente") || strings.Contains(state, "Prise en charge") {
		t.Errorf("state after the forward: %q", state)
	}
	if sel := b.text("li.selected"); !strings.Contains(sel, "Mise en relation") {
		t.Errorf("selected step: %q", sel)
	}
	// Today it is taken in charge.
	if got := b.text("p.lead"); !strings.Contains(got, "Prise en charge") {
		t.Errorf("today's status: %q", got)
	}
}

// normalise reads a cell as shown ("1 234", "81 %", "12,5", "–") as the
// download writes it ("1234", "81", "12.5", "").
func normalise(s string) string {
	s = strings.NewReplacer("\u202f", "", "\u00a0", "", " %", "", "%", "", "–", "").Replace(strings.TrimSpace(s))
	if !strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyzéû") {
		s = strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), ",", ".")
	}
	return s
}

// sameCell compares a downloaded cell with a shown one: equal text, or
// equal numbers ("0" and "0.0").
func sameCell(got, want string) bool {
	if got == want {
		return true
	}
	g, err1 := strconv.ParseFloat(got, 64)
	w, err2 := strconv.ParseFloat(want, 64)
	return err1 == nil && err2 == nil && g == w
}

// TestBrowserFunderFiltersAndDownloadsCSV: a funder filters the
// statistics and downloads the CSV, whose rows are the table's.
func TestBrowserFunderFiltersAndDownloadsCSV(t *testing.T) {
	f := mustFixture(t)
	b := f.newTab(t)
	b.signIn(domain.RoleFunder)
	if p := b.path(); !strings.HasPrefix(p, "/statistiques") {
		t.Fatalf("a funder lands on %s", p)
	}
	pl := f.place(t)
	b.run("filter by département", chromedp.SetValue(chromedp.CSS("#departement"), pl.Commune.Departement))
	b.clickText("button", "Afficher")
	b.waitPath("/statistiques?")
	if !strings.Contains(b.path(), "departement="+pl.Commune.Departement) {
		t.Fatalf("filtered page: %s", b.path())
	}
	cells := get(b, "read the table", chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll("#stats-table tr")).map(r => Array.from(r.children).map(c => c.innerText))`))
	if len(cells) < 2 {
		t.Fatalf("the table has no row: %v", cells)
	}
	text := get(b, "download the CSV", chromedp.Evaluate[string](`fetch(document.querySelector('a[href^="/statistiques.csv"]').href).then(r => r.text())`,
		chromedp.EvalAwaitPromise))
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, text)
	}
	if len(recs) != len(cells) {
		t.Fatalf("CSV has %d lines, the table %d", len(recs), len(cells))
	}
	for i := range recs {
		if len(recs[i]) != len(cells[i]) {
			t.Fatalf("line %d: CSV %d cells, table %d", i, len(recs[i]), len(cells[i]))
		}
		for j := range recs[i] {
			if got, want := recs[i][j], normalise(cells[i][j]); !sameCell(got, want) && !(i == 0 && got == cells[i][j]) {
				t.Errorf("line %d column %d: CSV %q, table %q", i, j, got, cells[i][j])
			}
		}
	}
	// The charts are SVG with their title, beside their figures.
	svgs := get(b, "count charts", chromedp.Evaluate[int](`document.querySelectorAll("figure > svg > title").length`))
	if svgs != 3 {
		t.Errorf("%d charts with a title, want 3", svgs)
	}
}

// TestBrowserAdminRebuildFinishes: an admin starts a rebuild and watches
// it finish.
func TestBrowserAdminRebuildFinishes(t *testing.T) {
	f := mustFixture(t)
	b := f.newTab(t)
	b.signIn(domain.RoleAdmin)
	b.open("/admin/projections")
	b.clickText("button", "Reconstruire needs")
	b.bodyHas("La reconstruction a démarré")
	b.eventually("the rebuild to finish", func() bool {
		return strings.HasPrefix(get(b, "rebuild text", chromedp.Text(chromedp.CSS("#projection-needs [data-text]"))), "Terminée")
	})
	v := get(b, "progress", chromedp.Evaluate[string](`document.getElementById("progress-needs").getAttribute("value")`))
	if v != "100" {
		t.Errorf("progress at the end: %q", v)
	}
}

// TestBrowserRefusal: a role that may not see a page gets a clear refusal.
func TestBrowserRefusal(t *testing.T) {
	f := mustFixture(t)
	b := f.newTab(t)
	b.signIn(domain.RoleFunder)
	b.open("/besoins")
	if h := b.text("h1"); h != "Accès refusé" {
		t.Errorf("funder on needs: h1 %q", h)
	}
	if got := b.text(".notice"); got != "Votre rôle (financeur) ne permet pas de consulter les besoins." {
		t.Errorf("refusal: %q", got)
	}
	title := get(b, "title", chromedp.Title())
	if title != "Accès refusé – Réso" {
		t.Errorf("title %q", title)
	}
	// The navigation offers only what the role may open.
	if nav := b.text("nav.main"); strings.Contains(nav, "Besoins") || !strings.Contains(nav, "Statistiques") {
		t.Errorf("funder navigation: %q", nav)
	}
}

// TestBrowserKeyboardCapture: a need captured with the keyboard only.
func TestBrowserKeyboardCapture(t *testing.T) {
	f := mustFixture(t)
	b := f.newTab(t)
	pl := f.place(t)
	b.signIn(domain.RoleAdvisor)
	b.open("/besoins/nouveau")
	focused := func() string {
		return get(b, "focus", chromedp.Evaluate[string](`document.activeElement ? (document.activeElement.id || document.activeElement.className || document.activeElement.tagName) : ""`))
	}
	tab := func() { b.run("Tab", chromedp.KeyEvent(kb.Tab)) }
	// The first Tab stop is the skip link.
	tab()
	if got := focused(); got != "skip" {
		t.Fatalf("first Tab stop: %q", got)
	}
	tabTo := func(id string) {
		for i := 0; i < 40 && focused() != id; i++ {
			tab()
		}
		if got := focused(); got != id {
			b.failf("Tab never reached #%s (at %q)", id, got)
		}
	}
	typeIn := func(id, text string) {
		tabTo(id)
		b.run("type in "+id, chromedp.KeyEvent(text))
	}
	company := "Imprimerie Clavier " + siret()[9:]
	typeIn("siret", siret())
	typeIn("company_name", company)
	typeIn("commune", pl.Commune.Name+" ("+pl.Commune.PostalCodes[0]+")")
	tabTo("subject")
	label := ""
	if s, ok := domain.SubjectByCode(pl.Subject); ok {
		label = s.Label
	}
	// A focused select takes the first letters of an option.
	b.run("choose the subject", chromedp.KeyEvent(label[:min(12, len(label))]))
	chosen := get(b, "subject value", chromedp.Value(chromedp.CSS("#subject")))
	if chosen != pl.Subject {
		t.Fatalf("keyboard chose subject %q, want %q", chosen, pl.Subject)
	}
	typeIn("description", "Financer un four")
	typeIn("contact_name", "Dominique Petit")
	// Tab to the submit button and press Enter.
	for i := 0; i < 10; i++ {
		tab()
		txt := get(b, "focused text", chromedp.Evaluate[string](`document.activeElement.innerText || ""`))
		if txt == "Enregistrer le besoin" {
			break
		}
	}
	b.run("Enter", chromedp.KeyEvent(kb.Enter))
	b.waitPath("/besoins/")
	b.bodyHas("Le besoin a été enregistré")
}

// TestBrowserExpiredSessionReturnsToPage: a session that ended sends the
// browser to sign-in, then back to the page asked for.
func TestBrowserExpiredSessionReturnsToPage(t *testing.T) {
	f := mustFixture(t)
	id := f.forwardedNeed(t, "Fromagerie Durand "+siret()[9:])
	b := f.newTab(t)
	b.signIn(domain.RoleAnimateur)
	if _, err := f.srv.Sessions().RevokeUser(context.Background(), f.users[domain.RoleAnimateur].UserID); err != nil {
		t.Fatal(err)
	}
	want := "/besoins/" + id.String() + "/historique"
	b.open(want)
	if p := b.path(); !strings.HasPrefix(p, "/connexion") {
		t.Fatalf("an ended session opened %s", p)
	}
	b.bodyHas("Votre session a expiré")
	b.clickText("button", "Se connecter comme "+f.users[domain.RoleAnimateur].Name)
	b.waitPath(want)
	if h := b.text("h1"); h != "Historique du besoin" {
		t.Errorf("back on %q", h)
	}
}

// TestBrowserScreenshots writes the main page of each role as a PNG for
// docs/console.md when RESO_SCREENSHOTS names a directory.
func TestBrowserScreenshots(t *testing.T) {
	dir := os.Getenv("RESO_SCREENSHOTS")
	if dir == "" {
		t.Skip("set RESO_SCREENSHOTS=docs/console to refresh the documentation's screenshots")
	}
	f := mustFixture(t)
	id := f.forwardedNeed(t, "Boulangerie du Beffroi")
	for _, s := range []struct {
		role domain.Role
		path string
		file string
	}{
		{domain.RoleAdvisor, "/besoins/nouveau", "conseiller-saisie.png"},
		{domain.RoleAdvisor, "/besoins", "conseiller-mes-besoins.png"},
		{domain.RoleReferent, "/boite", "referent-boite.png"},
		{domain.RoleReferent, "/besoins/" + id.String(), "referent-besoin.png"},
		{domain.RoleAnimateur, "/tableau-de-bord", "animateur-tableau-de-bord.png"},
		{domain.RoleAnimateur, "/besoins/" + id.String() + "/historique", "animateur-historique.png"},
		{domain.RoleAnimateur, "/entreprises-a-visiter", "animateur-entreprises-a-visiter.png"},
		{domain.RoleFunder, "/statistiques", "financeur-statistiques.png"},
		{domain.RoleAdmin, "/admin/projections", "admin-projections.png"},
		{domain.RoleAdmin, "/admin/annuaire", "admin-annuaire.png"},
	} {
		b := f.newTab(t)
		b.signIn(s.role)
		b.open(s.path)
		png := get(b, "screenshot "+s.file, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(dir, s.file), png, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Println("wrote", filepath.Join(dir, s.file))
	}
}
