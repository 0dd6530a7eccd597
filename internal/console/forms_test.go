package console_test

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/server"
	"github.com/reso-fr/reso/internal/testwait"
)

// mustForwarded captures a need as the advisor and forwards it to the
// referent; it returns the need's id.
func (w *web) mustForwarded(t *testing.T, siret string, form url.Values) string {
	t.Helper()
	adv := w.cookie(t, w.advisor)
	if form == nil {
		form = validCapture(siret)
	}
	a := w.do(t, http.MethodPost, "/besoins/nouveau", adv, form)
	id := strings.Split(strings.TrimPrefix(a.header.Get("Location"), "/besoins/"), "/")[0]
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("capture: %d, sent to %q", a.status, a.header.Get("Location"))
	}
	if a = w.do(t, http.MethodPost, "/besoins/"+id+"/mise-en-relation", adv, url.Values{"cle": {uuid.NewString()}, "referents": {w.referentID.String()}}); a.status != http.StatusSeeOther {
		t.Fatalf("forward: %d", a.status)
	}
	return id
}

// mustCaughtUp waits until the read models have applied the whole log (on
// the engine: the service's own wait gives up after a few seconds).
func (w *web) mustCaughtUp(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Scale(30*time.Second))
	defer cancel()
	evs, err := w.srv.Service().Events(ctx, w.admin, eventstore.Start, 1000)
	if err != nil || len(evs) == 0 {
		t.Fatalf("events: %v (%d)", err, len(evs))
	}
	if err := w.srv.Backend().Projections.WaitFor(ctx, evs[len(evs)-1].Position); err != nil {
		t.Fatal(err)
	}
}

// TestSignInByEmailForm: a malformed address is shown back with its error;
// a known and an unknown address get the same answer, and only the known
// one gets a mail (written to the outbox: the server has no SMTP).
func TestSignInByEmailForm(t *testing.T) {
	t.Parallel()
	w := mustWebWith(t, func(c *server.Config) { c.Notify = &server.NotifyConfig{} })
	w.mustCaughtUp(t) // the users, whom the link is looked up among
	same := []string{"Sec-Fetch-Site", "same-origin"}
	a := w.do(t, http.MethodPost, "/connexion/courriel", nil, url.Values{"courriel": {"adele-at-cci"}}, same...)
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Saisissez une adresse électronique valide") || !strings.Contains(a.body, `value="adele-at-cci"`) {
		t.Errorf("malformed address: %d %.400s", a.status, a.body)
	}
	known := w.do(t, http.MethodPost, "/connexion/courriel", nil, url.Values{"courriel": {"adele@cci.test"}}, same...)
	unknown := w.do(t, http.MethodPost, "/connexion/courriel", nil, url.Values{"courriel": {"personne@nulle-part.test"}}, same...)
	for _, x := range []answer{known, unknown} {
		if x.status != http.StatusSeeOther || x.header.Get("Location") != "/connexion?envoi=1" {
			t.Errorf("sign-in link asked: %d %q", x.status, x.header.Get("Location"))
		}
	}
	if a := w.do(t, http.MethodGet, "/connexion?envoi=1", nil, nil); !strings.Contains(a.body, "Si cette adresse correspond à un compte") {
		t.Errorf("confirmation page: %.400s", a.body)
	}
	// The outbox holds one mail, to the known address, with its link.
	mails, _ := filepath.Glob(filepath.Join(w.dataDir, "outbox", "*.eml"))
	var to []string
	for _, m := range mails {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case bytes.Contains(b, []byte("personne@nulle-part.test")):
			t.Errorf("a mail went to the unknown address: %s", m)
		case bytes.Contains(b, []byte("adele@cci.test")):
			to = append(to, m)
			if !bytes.Contains(b, []byte("/connexion/lien")) {
				t.Errorf("the mail has no sign-in link: %s", b)
			}
		}
	}
	if len(to) != 1 {
		t.Errorf("%d mails to the known address in %v, want 1", len(to), mails)
	}
}

// TestRemindAndAbandonForms: an animateur reminds the referents of a
// waiting need, then abandons it; bad posts keep what was typed.
func TestRemindAndAbandonForms(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	id := w.mustForwarded(t, "73282932000074", nil)
	anim := w.cookie(t, w.anim)
	if a := w.do(t, http.MethodPost, "/besoins/"+id+"/relances", anim, url.Values{"cle": {uuid.NewString()}, "type": {"soon"}}); a.status != http.StatusUnprocessableEntity ||
		!strings.Contains(a.body, "Choisissez le type de relance") {
		t.Errorf("unknown reminder kind: %d", a.status)
	}
	if a := w.do(t, http.MethodPost, "/besoins/"+id+"/relances", anim, url.Values{"cle": {uuid.NewString()}, "type": {"poke"}}); a.status != http.StatusSeeOther {
		t.Fatalf("remind: %d %.400s", a.status, a.body)
	}
	if a := w.do(t, http.MethodPost, "/besoins/"+id+"/abandon", anim, url.Values{"cle": {uuid.NewString()}, "motif": {"  "}}); a.status != http.StatusUnprocessableEntity ||
		!strings.Contains(a.body, "Indiquez pourquoi le besoin est abandonné") {
		t.Errorf("abandon without reason: %d", a.status)
	}
	if a := w.do(t, http.MethodPost, "/besoins/"+id+"/abandon", anim, url.Values{"cle": {uuid.NewString()}, "motif": {"Entreprise injoignable"}}); a.status != http.StatusSeeOther {
		t.Fatalf("abandon: %d %.400s", a.status, a.body)
	}
	a := w.do(t, http.MethodGet, "/besoins/"+id+"/historique", anim, nil)
	for _, want := range []string{"Relance (sans réponse)", "Abandon", "Entreprise injoignable"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("history lacks %q", want)
		}
	}
}

// TestEraseForm: the admin's erasure asks for a confirmation, then erases
// the contact's key; the need page says the contact was erased.
func TestEraseForm(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	id := w.mustForwarded(t, "73282932000074", nil)
	adm := w.cookie(t, w.admin)
	if a := w.do(t, http.MethodPost, "/admin/effacement", adm, url.Values{"cle": {uuid.NewString()}, "courriel": {"camille@example.fr"}}); a.status != http.StatusUnprocessableEntity ||
		!strings.Contains(a.body, "Cochez la case pour confirmer") || !strings.Contains(a.body, `value="camille@example.fr"`) {
		t.Errorf("erase without confirmation: %d", a.status)
	}
	if a := w.do(t, http.MethodGet, "/besoins/"+id, adm, nil); !strings.Contains(a.body, "camille@example.fr") {
		t.Fatalf("the contact is not shown before the erasure")
	}
	a := w.do(t, http.MethodPost, "/admin/effacement", adm, url.Values{"cle": {uuid.NewString()}, "courriel": {"camille@example.fr"}, "confirmation": {"oui"}})
	if a.status != http.StatusSeeOther || !strings.Contains(a.header.Get("Location"), "fait=efface") {
		t.Fatalf("erase: %d %q %.400s", a.status, a.header.Get("Location"), a.body)
	}
	a = w.do(t, http.MethodGet, "/besoins/"+id, adm, nil)
	if strings.Contains(a.body, "camille@example.fr") || strings.Contains(a.body, "Camille Dupont") || !strings.Contains(a.body, "ont été effacées") {
		t.Errorf("need page after the erasure: %.600s", a.body)
	}
}

// TestNeedListFiltersAndStatsXLSX: the animateur's list keeps the needs of
// the chosen subject only; the funder's XLSX download is a spreadsheet.
func TestNeedListFiltersAndStatsXLSX(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	w.mustForwarded(t, "73282932000074", nil)
	other := validCapture("35600000000048")
	other.Set("company_name", "Menuiserie du Canal")
	other.Set("subject", "financing")
	adv := w.cookie(t, w.advisor)
	if a := w.do(t, http.MethodPost, "/besoins/nouveau", adv, other); a.status != http.StatusSeeOther {
		t.Fatalf("capture: %d %.400s", a.status, a.body)
	}
	w.mustCaughtUp(t)
	anim := w.cookie(t, w.anim)
	all := w.do(t, http.MethodGet, "/besoins", anim, nil)
	one := w.do(t, http.MethodGet, "/besoins?sujet=recruitment", anim, nil)
	if !strings.Contains(all.body, "Boulangerie du Beffroi") || !strings.Contains(all.body, "Menuiserie du Canal") {
		t.Fatalf("unfiltered list: %d", all.status)
	}
	if !strings.Contains(one.body, "Boulangerie du Beffroi") || strings.Contains(one.body, "Menuiserie du Canal") {
		t.Errorf("list filtered on recruitment: %d", one.status)
	}
	x := w.do(t, http.MethodGet, "/statistiques.xlsx", w.cookie(t, w.fun), nil)
	if x.status != http.StatusOK || !strings.Contains(x.header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("xlsx: %d %q", x.status, x.header.Get("Content-Type"))
	}
	z, err := zip.NewReader(strings.NewReader(x.body), int64(len(x.body)))
	if err != nil {
		t.Fatalf("xlsx is not a zip: %v", err)
	}
	found := false
	for _, f := range z.File {
		found = found || strings.HasPrefix(f.Name, "xl/worksheets/")
	}
	if !found {
		t.Error("xlsx has no worksheet")
	}
}
