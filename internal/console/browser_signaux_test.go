package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// TestBrowserAnimateurSignauxFaibles: the animateur goes from the
// dashboard to the companies to visit, keeps those without a need since a
// day, then filters the needs list by alert and opens a flagged need; the
// advisor's needs never show an alert.
func TestBrowserAnimateurSignauxFaibles(t *testing.T) {
	f := mustFixture(t)
	anim := f.principal(t, domain.RoleAnimateur)
	// The demo imports a list each month: the territory has alerted
	// companies, and needs of some of them.
	flagged, err := f.srv.Service().ListNeeds(context.Background(), anim, app.NeedQuery{SFAlert: "any", Limit: 1})
	if err != nil || len(flagged.Items) == 0 {
		t.Fatalf("the demo gives the animateur no flagged need: %v", err)
	}

	b := f.newTab(t)
	b.signIn(domain.RoleAnimateur)
	b.open("/tableau-de-bord")
	b.clickText("nav//a", "Entreprises à visiter")
	b.waitPath("/entreprises-a-visiter")
	b.bodyHas("Liste appliquée")
	all := b.rows("table tbody tr")
	if len(all) == 0 || strings.Contains(all[0], "Aucune entreprise") {
		t.Fatalf("companies to visit: %q", all)
	}
	for _, r := range all {
		if !strings.Contains(r, "F1 (risque élevé)") && !strings.Contains(r, "F2 (risque modéré)") {
			t.Errorf("company without its alert: %q", r)
		}
	}
	// Those without a need since today: the ones never met, or met before.
	today := time.Now().In(paris(t))
	b.run("choose a day", chromedp.SetValue(chromedp.CSS("#sans_besoin_depuis"), today.Format("2006-01-02")))
	b.clickText("button", "Filtrer")
	b.waitPath("/entreprises-a-visiter?")
	b.bodyHas("Liste appliquée")
	if !strings.Contains(b.path(), "sans_besoin_depuis="+today.Format("2006-01-02")) {
		t.Errorf("filtered page %s", b.path())
	}
	for _, r := range b.rows("table tbody tr") {
		if strings.Contains(r, frToday(today)) {
			t.Errorf("a company met today is still listed: %q", r)
		}
	}

	// The needs list, filtered by alert: every row carries its badge.
	b.open("/besoins")
	b.run("choose the alert filter", chromedp.SetValue(chromedp.CSS("#alerte"), "any"))
	b.clickText("button", "Filtrer")
	b.waitPath("/besoins?")
	b.bodyHas("Dernière étape")
	rows := b.rows("table tbody tr")
	if len(rows) == 0 || strings.Contains(rows[0], "Aucun besoin") {
		t.Fatalf("needs with an alert: %q", rows)
	}
	for _, r := range rows {
		if !strings.Contains(r, "Signaux Faibles F") {
			t.Errorf("row without its badge: %q", r)
		}
	}
	b.run("open the first flagged need", chromedp.Click(chromedp.CSS("table tbody tr td a"), chromedp.NodeVisible))
	b.waitPath("/besoins/")
	if lead := b.text("p.lead"); !strings.Contains(lead, "Signaux Faibles F") {
		t.Errorf("the need page's lead lacks the badge: %q", lead)
	}

	// The advisor's own needs: no alert, no filter.
	adv := f.newTab(t)
	adv.signIn(domain.RoleAdvisor)
	adv.open("/besoins")
	if body := adv.body(); strings.Contains(body, "Signaux Faibles") || strings.Contains(body, "Entreprises à visiter") {
		t.Errorf("the advisor sees Signaux Faibles: %s", body)
	}
}

// rows returns the text of each element sel matches.
func (b *tab) rows(sel string) []string {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	return get(b, "read "+sel, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+"`"+sel+"`"+`)).map(e => e.innerText)`))
}

// TestBrowserReferentSeesNeedClosedElsewhere: a need sent to two
// referents, closed by the other one, sits in the demo referent's
// "Clôturés" tab as "Traité par un autre référent", not as their own
// closure.
func TestBrowserReferentSeesNeedClosedElsewhere(t *testing.T) {
	f := mustFixture(t)
	ctx := context.Background()
	svc := f.srv.Service()
	admin, adv, ref := f.principal(t, domain.RoleAdmin), f.principal(t, domain.RoleAdvisor), f.principal(t, domain.RoleReferent)
	pl := f.place(t)
	orgs, err := svc.Organisations(ctx, admin)
	if err != nil || len(orgs) == 0 {
		t.Fatalf("organisations: %v", err)
	}
	other, _, err := svc.RegisterReferent(ctx, admin, app.ReferentInput{OrganisationID: orgs[0].ID, Name: "Denis Ailleurs " + siret()[9:],
		Email: "denis.ailleurs." + siret()[9:] + "@referents.test", Subjects: []string{pl.Subject},
		Zones: []domain.Zone{{Level: domain.LevelDepartement, Code: pl.Commune.Departement}}}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	company := "Imprimerie Ailleurs " + siret()[9:]
	res, err := svc.CaptureNeed(ctx, adv, app.CaptureInput{SIRET: siret(), CompanyName: company, Commune: pl.Commune.Code,
		Subject: pl.Subject, Description: "Trouver un repreneur", Contact: app.Contact{Name: "Alix Martin", Email: "alix@example.fr"}}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ForwardNeed(ctx, adv, res.Need.ID, []uuid.UUID{ref.ReferentID, other}, app.CommandMeta{}); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"take_charge", "done"} {
		r, err := svc.ChangeMatch(ctx, admin, res.Need.ID, other, action, "", app.CommandMeta{})
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		if err := svc.WaitForPosition(ctx, r.Position); err != nil {
			t.Fatal(err)
		}
	}

	b := f.newTab(t)
	b.signIn(domain.RoleReferent)
	b.clickText("a", "Clôturés")
	b.waitPath("/boite?onglet=done")
	var row string
	for _, r := range b.rows("table tbody tr") {
		if strings.Contains(r, company) {
			row = r
		}
	}
	if !strings.Contains(row, "Traité par un autre référent") || strings.Contains(row, "En attente") {
		t.Errorf("the need closed elsewhere reads %q", row)
	}
}
