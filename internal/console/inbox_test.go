package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// TestInboxDoneTabNamesNeedsClosedElsewhere: a need another referent
// closed sits in the referent's "Clôturés" tab labelled as handled by
// someone else, never as the referent's own closure.
func TestInboxDoneTabNamesNeedsClosedElsewhere(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	ctx := context.Background()
	svc := w.srv.Service()
	other, _, err := svc.RegisterReferent(ctx, w.admin, app.ReferentInput{OrganisationID: w.org, Name: "Denis Sud",
		Email: "denis@cci.test", Subjects: []string{"recruitment"}, Zones: []domain.Zone{{Level: domain.LevelDepartement, Code: "59"}}}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	adv := w.cookie(t, w.advisor)
	capture := func(siret, company string, referents ...uuid.UUID) uuid.UUID {
		form := validCapture(siret)
		form.Set("company_name", company)
		a := w.do(t, http.MethodPost, "/besoins/nouveau", adv, form)
		id, err := uuid.Parse(strings.Split(strings.TrimPrefix(a.header.Get("Location"), "/besoins/"), "/")[0])
		if err != nil {
			t.Fatalf("capture: %d %q", a.status, a.header.Get("Location"))
		}
		f := url.Values{"cle": {uuid.NewString()}}
		for _, r := range referents {
			f.Add("referents", r.String())
		}
		if a = w.do(t, http.MethodPost, "/besoins/"+id.String()+"/mise-en-relation", adv, f); a.status != http.StatusSeeOther {
			t.Fatalf("forward: %d", a.status)
		}
		return id
	}
	act := func(p app.Principal, need, referent uuid.UUID, actions ...string) {
		for _, action := range actions {
			res, err := svc.ChangeMatch(ctx, p, need, referent, action, "", app.CommandMeta{})
			if err != nil {
				t.Fatalf("%s: %v", action, err)
			}
			if err := svc.WaitForPosition(ctx, res.Position); err != nil {
				t.Fatal(err)
			}
		}
	}
	elsewhere := capture("73282932000074", "Boulangerie Ailleurs", w.referentID, other)
	act(w.admin, elsewhere, other, "take_charge", "done") // Denis closes it
	mine := capture("55210055400013", "Menuiserie Chez Moi", w.referentID)
	act(w.referent, mine, w.referentID, "take_charge", "done_not_reachable")

	a := w.do(t, http.MethodGet, "/boite?onglet=done", w.cookie(t, w.referent), nil)
	rows := tableRows(a.body)
	if a.status != http.StatusOK || len(rows) != 2 {
		t.Fatalf("Clôturés: %d, rows %q", a.status, rows)
	}
	for _, r := range rows {
		position := cells(r)[4] // "Mon positionnement"
		switch {
		case strings.Contains(r, "Boulangerie Ailleurs"):
			if !strings.Contains(position, "Traité par un autre référent") || strings.Contains(position, "Aide proposée") || strings.Contains(position, "En attente") {
				t.Errorf("need closed elsewhere: %q", r)
			}
		case strings.Contains(r, "Menuiserie Chez Moi"):
			if !strings.Contains(position, "Entreprise injoignable") || strings.Contains(r, "autre référent") {
				t.Errorf("own closure: %q", r)
			}
		default:
			t.Errorf("unexpected row %q", r)
		}
	}
	// The other referent's inbox shows Denis's closure as his own.
	a = w.do(t, http.MethodGet, "/boite?onglet=done&referent="+other.String(), w.cookie(t, w.admin), nil)
	if rows = tableRows(a.body); len(rows) != 1 || !strings.Contains(cells(rows[0])[4], "Aide proposée") || strings.Contains(rows[0], "autre référent") {
		t.Errorf("Denis's Clôturés: %q", rows)
	}
}

// cells splits a table row's HTML into its cells' HTML.
func cells(row string) []string {
	parts := strings.Split(row, "<td")
	out := make([]string, 0, len(parts))
	for _, p := range parts[1:] {
		c, _, _ := strings.Cut(p, "</td>")
		out = append(out, c)
	}
	for len(out) < 8 {
		out = append(out, "")
	}
	return out
}
