package console_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/console"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/server"
	"github.com/reso-fr/reso/internal/servertest"
	"github.com/reso-fr/reso/internal/testwait"
	"github.com/reso-fr/reso/internal/websession"
)

// web is a server without demo data for the handlers' tests, with one
// user per role and an HTTP client that does not follow redirects.
type web struct {
	srv                                 *server.Server
	base                                string
	hc                                  *http.Client
	admin, advisor, referent, anim, fun app.Principal
	referentID                          uuid.UUID
	dataDir                             string
	org                                 uuid.UUID // the referent's and the advisor's organisation
}

func mustWeb(t *testing.T) *web {
	t.Helper()
	return mustWebWith(t, nil)
}

// mustWebWith is mustWeb with its server's configuration adjusted by tune
// (nil: none), e.g. to run the notifier.
func mustWebWith(t *testing.T, tune func(*server.Config)) *web {
	t.Helper()
	var tok [32]byte
	_, _ = rand.Read(tok[:])
	ctx := context.Background()
	master, err := keys.GenerateMaster()
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	cfg := server.Config{Addr: "127.0.0.1:0", DataDir: dataDir, AdminToken: hex.EncodeToString(tok[:]),
		MasterKeys: []*keys.Master{master},
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	if tune != nil {
		tune(&cfg)
	}
	srv := servertest.Start(t, cfg)
	w := &web{srv: srv, base: "http://" + srv.Addr(), dataDir: dataDir, hc: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 30 * time.Second}}
	svc := srv.Service()
	w.admin, err = svc.Authenticate(ctx, hex.EncodeToString(tok[:]))
	if err != nil {
		t.Fatal(err)
	}
	org, _, err := svc.CreateOrganisation(ctx, w.admin, "CCI Test", "cci", app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	w.org = org
	w.referentID, _, err = svc.RegisterReferent(ctx, w.admin, app.ReferentInput{OrganisationID: org, Name: "Chloé Nord",
		Email: "chloe@cci.test", Subjects: []string{"recruitment"}, Zones: []domain.Zone{{Level: domain.LevelDepartement, Code: "59"}}}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	user := func(in app.UserInput) app.Principal {
		id, _, _, err := svc.RegisterUser(ctx, w.admin, in, app.CommandMeta{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := svc.PrincipalOfUser(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	w.advisor = user(app.UserInput{Name: "Adèle Conseil", Email: "adele@cci.test", Role: domain.RoleAdvisor, OrganisationID: org})
	w.referent = user(app.UserInput{Name: "Chloé Nord", Email: "chloe.nord@cci.test", Role: domain.RoleReferent, ReferentID: w.referentID})
	w.anim = user(app.UserInput{Name: "Fanny Animation", Email: "fanny@etat.test", Role: domain.RoleAnimateur,
		Territories: []domain.Zone{{Level: domain.LevelDepartement, Code: "59"}}})
	w.fun = user(app.UserInput{Name: "Hélène Financeur", Email: "helene@etat.test", Role: domain.RoleFunder})
	// Pages such as the suggestions read the directory without waiting
	// for a position: the referent must be there before the tests begin.
	head, err := srv.Backend().Events.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustCaughtUp(t, srv, head)
	return w
}

// mustCaughtUp waits until every read model of srv has applied pos. It
// waits on the engine, not through the service, whose reads give up after
// 5 s: a loaded machine, under -race, may need longer.
func mustCaughtUp(t testing.TB, srv *server.Server, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testwait.Scale(time.Minute))
	defer cancel()
	if err := srv.Backend().Projections.WaitFor(ctx, pos); err != nil {
		st, _ := srv.Backend().Projections.Status(context.Background())
		t.Fatalf("read models did not reach %s: %v (status %+v)", pos, err, st)
	}
}

// cookie opens a session for p and returns its cookie.
func (w *web) cookie(t *testing.T, p app.Principal) *http.Cookie {
	t.Helper()
	s, err := w.srv.Sessions().Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: "reso_session", Value: w.srv.Sessions().Cookie(s.ID)}
}

type answer struct {
	status int
	header http.Header
	body   string
}

// do sends a request with the cookie (may be nil), a form body for POST,
// and header pairs.
func (w *web) do(t *testing.T, method, path string, c *http.Cookie, form url.Values, hdr ...string) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, w.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c != nil {
		req.AddCookie(c)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := w.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, string(b)}
}

// TestRoutesDenyByDefault walks the route table: every route names an
// action of the matrix, and every non-public one sends a browser without
// a session to sign-in, with the page to come back to.
func TestRoutesDenyByDefault(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	for _, r := range console.Routes() {
		if !app.Known(r.Action) {
			t.Errorf("%s %s requires unknown action %q", r.Method, r.Pattern, r.Action)
		}
		if r.Action == app.ActionPublic {
			continue
		}
		path := strings.NewReplacer("{id}", uuid.Nil.String(), "{name}", "needs").Replace(r.Pattern)
		var form url.Values
		if r.Method == http.MethodPost {
			form = url.Values{}
		}
		a := w.do(t, r.Method, path, nil, form)
		loc := a.header.Get("Location")
		if a.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/connexion") {
			t.Errorf("%s %s without a session: %d %q", r.Method, path, a.status, loc)
		}
		if r.Method == http.MethodGet && path != "/" && !strings.Contains(loc, "retour="+url.QueryEscape(path)) {
			t.Errorf("%s: no way back in %q", path, loc)
		}
	}
}

// TestRolesSeeOnlyTheirPages checks a few pages per role against the
// matrix: allowed pages answer 200, the others a French refusal (403).
func TestRolesSeeOnlyTheirPages(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	cases := []struct {
		p     app.Principal
		path  string
		allow bool
	}{
		{w.advisor, "/besoins", true}, {w.advisor, "/besoins/nouveau", true}, {w.advisor, "/statistiques", false},
		{w.referent, "/boite", true}, {w.referent, "/besoins/nouveau", false}, {w.referent, "/admin/projections", false},
		{w.anim, "/tableau-de-bord", true}, {w.anim, "/statistiques", true}, {w.anim, "/admin/annuaire", false},
		{w.fun, "/statistiques", true}, {w.fun, "/besoins", false}, {w.fun, "/tableau-de-bord", false},
		{w.admin, "/admin/annuaire?onglet=utilisateurs", true}, {w.admin, "/admin/projections", true}, {w.admin, "/admin/effacement", true},
	}
	for _, c := range cases {
		a := w.do(t, http.MethodGet, c.path, w.cookie(t, c.p), nil)
		switch {
		case c.allow && a.status != http.StatusOK:
			t.Errorf("%s %s: %d", c.p.Role, c.path, a.status)
		case !c.allow && (a.status != http.StatusForbidden || !strings.Contains(a.body, "ne permet pas de")):
			t.Errorf("%s %s: %d, want a French refusal", c.p.Role, c.path, a.status)
		}
	}
	// An unknown need is "not found", never a hint that it exists.
	a := w.do(t, http.MethodGet, "/besoins/"+uuid.NewString(), w.cookie(t, w.advisor), nil)
	if a.status != http.StatusNotFound {
		t.Errorf("unknown need: %d", a.status)
	}
}

// TestPagesSendSecurityHeaders: a strict CSP without inline script, and
// no caching of signed-in pages.
func TestPagesSendSecurityHeaders(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	a := w.do(t, http.MethodGet, "/besoins", w.cookie(t, w.advisor), nil)
	csp := a.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if a.header.Get("Cache-Control") != "no-store" || a.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", a.header)
	}
	if !strings.Contains(a.body, `<html lang="fr">`) || strings.Count(a.body, "<h1") != 1 || !strings.Contains(a.body, "<title>Mes besoins – Réso</title>") {
		t.Errorf("page skeleton: %s", a.body[:min(400, len(a.body))])
	}
}

// TestCrossOriginPostRefused: a form posted from another site does
// nothing.
func TestCrossOriginPostRefused(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	c := w.cookie(t, w.advisor)
	for _, hdr := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		a := w.do(t, http.MethodPost, "/besoins/nouveau", c, validCapture("73282932000074"), hdr...)
		if a.status != http.StatusForbidden || !strings.Contains(a.body, "depuis un autre site") {
			t.Errorf("%v: %d", hdr, a.status)
		}
	}
	if n := w.needCount(t); n != 0 {
		t.Errorf("%d needs stored by refused posts", n)
	}
	// The same post from our own pages works.
	a := w.do(t, http.MethodPost, "/besoins/nouveau", c, validCapture("73282932000074"), "Sec-Fetch-Site", "same-origin")
	if a.status != http.StatusSeeOther {
		t.Errorf("same-origin post: %d %s", a.status, a.body)
	}
}

func validCapture(siret string) url.Values {
	return url.Values{"siret": {siret}, "company_name": {"Boulangerie du Beffroi"}, "commune": {"Lille (59000)"},
		"subject": {"recruitment"}, "description": {"Recruter deux boulangers"}, "contact_name": {"Camille Dupont"},
		"contact_email": {"camille@example.fr"}, "cle": {uuid.NewString()}}
}

// needCount counts the needs captured in the log.
func (w *web) needCount(t *testing.T) int {
	t.Helper()
	evs, err := w.srv.Service().Events(context.Background(), w.admin, eventstore.Start, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == domain.TypeNeedCaptured {
			n++
		}
	}
	return n
}

// TestCaptureFormErrors: bad input shows every error in French next to
// its field, keeps what was typed, and stores nothing.
func TestCaptureFormErrors(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	form := url.Values{"siret": {"73282932000075"}, "company_name": {"  "}, "commune": {"Atlantide"}, "subject": {"nope"},
		"description": {""}, "contact_email": {"pas-une-adresse"}, "contact_phone": {"12"}, "cle": {uuid.NewString()}}
	a := w.do(t, http.MethodPost, "/besoins/nouveau", w.cookie(t, w.advisor), form)
	if a.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", a.status)
	}
	for _, want := range []string{
		`role="alert"`, "Le formulaire contient 7 erreurs",
		"Ce SIRET n&#39;existe pas : sa clé de contrôle est fausse.", `href="#siret"`, `id="siret-erreur"`,
		"Saisissez le nom de l&#39;entreprise.", "Aucune commune ne correspond à « Atlantide »", "Choisissez le sujet du besoin.",
		"Décrivez le besoin de l&#39;entreprise.",
		"Saisissez une adresse électronique valide", "Saisissez un numéro de téléphone",
		`value="73282932000075"`, `value="Atlantide"`, `value="pas-une-adresse"`, `aria-invalid="true"`,
	} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := w.needCount(t); n != 0 {
		t.Errorf("%d needs stored from bad input", n)
	}
	// An ambiguous commune offers the candidates to choose from.
	form = validCapture("73282932000074")
	form.Set("commune", "Saint")
	a = w.do(t, http.MethodPost, "/besoins/nouveau", w.cookie(t, w.advisor), form)
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Plusieurs communes correspondent") || !strings.Contains(a.body, `<select id="commune"`) {
		t.Errorf("ambiguous commune: %d", a.status)
	}
}

// TestDoubleSubmitCreatesOnce: the same form sent twice (the same key)
// creates one need, and both answers lead to it.
func TestDoubleSubmitCreatesOnce(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	c := w.cookie(t, w.advisor)
	form := validCapture("73282932000074")
	first := w.do(t, http.MethodPost, "/besoins/nouveau", c, form)
	second := w.do(t, http.MethodPost, "/besoins/nouveau", c, form)
	if first.status != http.StatusSeeOther || second.status != http.StatusSeeOther {
		t.Fatalf("statuses %d, %d", first.status, second.status)
	}
	if l1, l2 := first.header.Get("Location"), second.header.Get("Location"); l1 != l2 || !strings.HasPrefix(l1, "/besoins/") {
		t.Errorf("locations %q, %q", l1, l2)
	}
	if n := w.needCount(t); n != 1 {
		t.Errorf("%d needs, want 1", n)
	}
	// A new key is a new need.
	form.Set("cle", uuid.NewString())
	w.do(t, http.MethodPost, "/besoins/nouveau", c, form)
	if n := w.needCount(t); n != 2 {
		t.Errorf("%d needs after a second form, want 2", n)
	}
}

// TestSessionCookieAndExpiry: the cookie is HttpOnly, SameSite=Lax,
// Secure behind TLS; a forged or ended session goes back to sign-in.
func TestSessionCookieAndExpiry(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	tok, _, err := w.srv.Sessions().IssueLink(context.Background(), w.anim.UserID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tls := range []bool{false, true} {
		var hdr []string
		if tls {
			hdr = []string{"X-Forwarded-Proto", "https"}
		}
		if tls {
			tok, _, _ = w.srv.Sessions().IssueLink(context.Background(), w.anim.UserID)
		}
		a := w.do(t, http.MethodPost, "/connexion/lien", nil, url.Values{"jeton": {tok}, "retour": {"/statistiques"}}, hdr...)
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/statistiques" {
			t.Fatalf("link sign-in: %d %q", a.status, a.header.Get("Location"))
		}
		sc := a.header.Get("Set-Cookie")
		for _, want := range []string{"reso_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(sc, want) {
				t.Errorf("cookie %q lacks %s", sc, want)
			}
		}
		if strings.Contains(sc, "Secure") != tls {
			t.Errorf("TLS %v, cookie %q", tls, sc)
		}
	}
	c := w.cookie(t, w.anim)
	if a := w.do(t, http.MethodGet, "/tableau-de-bord", c, nil); a.status != http.StatusOK {
		t.Fatalf("live session: %d", a.status)
	}
	forged := &http.Cookie{Name: c.Name, Value: c.Value[:len(c.Value)-2] + "xx"}
	if a := w.do(t, http.MethodGet, "/tableau-de-bord", forged, nil); a.status != http.StatusSeeOther || a.header.Get("Location") != "/connexion?retour=%2Ftableau-de-bord" {
		t.Errorf("forged cookie: %d %q", a.status, a.header.Get("Location"))
	}
	if _, err := w.srv.Sessions().RevokeUser(context.Background(), w.anim.UserID); err != nil {
		t.Fatal(err)
	}
	a := w.do(t, http.MethodGet, "/besoins?statut=quo", c, nil)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/connexion?motif=expiree&retour=%2Fbesoins%3Fstatut%3Dquo" {
		t.Errorf("ended session: %d %q", a.status, a.header.Get("Location"))
	}
	// A form posted after the end comes back to the page it came from.
	a = w.do(t, http.MethodPost, "/besoins/"+uuid.NewString()+"/commentaires", c, url.Values{"texte": {"x"}}, "Referer", w.base+"/besoins/abc")
	if loc := a.header.Get("Location"); a.status != http.StatusSeeOther || !strings.Contains(loc, "retour=%2Fbesoins%2Fabc") {
		t.Errorf("post after the end: %d %q", a.status, loc)
	}
	// Sign-out revokes.
	c = w.cookie(t, w.anim)
	w.do(t, http.MethodPost, "/deconnexion", c, url.Values{})
	if a := w.do(t, http.MethodGet, "/tableau-de-bord", c, nil); a.status != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", a.status)
	}
}

// TestSignInLinkOnce: opening a link's page uses nothing; its button signs
// in once; the link then refuses, in French.
func TestSignInLinkOnce(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	tok, _, err := w.srv.Sessions().IssueLink(context.Background(), w.referent.UserID)
	if err != nil {
		t.Fatal(err)
	}
	link := websession.LinkURL(w.base, tok)
	u, _ := url.Parse(link)
	for i := 0; i < 2; i++ {
		if a := w.do(t, http.MethodGet, u.RequestURI(), nil, nil); a.status != http.StatusOK || !strings.Contains(a.body, "Me connecter") {
			t.Fatalf("link page: %d", a.status)
		}
	}
	if a := w.do(t, http.MethodPost, "/connexion/lien", nil, url.Values{"jeton": {tok}}); a.status != http.StatusSeeOther {
		t.Fatalf("first use: %d %s", a.status, a.body)
	}
	a := w.do(t, http.MethodPost, "/connexion/lien", nil, url.Values{"jeton": {tok}})
	if a.status != http.StatusGone || !strings.Contains(a.body, "déjà servi") {
		t.Errorf("second use: %d", a.status)
	}
	if a := w.do(t, http.MethodPost, "/connexion/lien", nil, url.Values{"jeton": {"nope"}}); a.status != http.StatusGone {
		t.Errorf("unknown token: %d", a.status)
	}
	// Without --demo there is no demo sign-in.
	if a := w.do(t, http.MethodPost, "/connexion/demo", nil, url.Values{"utilisateur": {w.admin.UserID.String()}}); a.status != http.StatusNotFound {
		t.Errorf("demo sign-in without demo: %d", a.status)
	}
}

// TestNeedCommandsFromForms: forward, position, comment and their refusal
// by the domain, through the forms.
func TestNeedCommandsFromForms(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	adv := w.cookie(t, w.advisor)
	a := w.do(t, http.MethodPost, "/besoins/nouveau", adv, validCapture("73282932000074"))
	loc := a.header.Get("Location")
	id := strings.Split(strings.TrimPrefix(loc, "/besoins/"), "/")[0]
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("capture sent to %q", loc)
	}
	// The suggestions list the referent covering Nord for recruitment.
	a = w.do(t, http.MethodGet, "/besoins/"+id+"/mise-en-relation", adv, nil)
	if !strings.Contains(a.body, "Chloé Nord") || !strings.Contains(a.body, w.referentID.String()) {
		t.Fatalf("suggestions: %d", a.status)
	}
	if a = w.do(t, http.MethodPost, "/besoins/"+id+"/mise-en-relation", adv, url.Values{"cle": {uuid.NewString()}}); a.status != http.StatusUnprocessableEntity ||
		!strings.Contains(a.body, "Cochez au moins un référent") {
		t.Errorf("forward to nobody: %d", a.status)
	}
	if a = w.do(t, http.MethodPost, "/besoins/"+id+"/mise-en-relation", adv, url.Values{"cle": {uuid.NewString()}, "referents": {w.referentID.String()}}); a.status != http.StatusSeeOther {
		t.Fatalf("forward: %d %s", a.status, a.body)
	}
	ref := w.cookie(t, w.referent)
	if a = w.do(t, http.MethodPost, "/besoins/"+id+"/positionnement", ref, url.Values{"cle": {uuid.NewString()}, "action": {"take_charge"}}); a.status != http.StatusSeeOther {
		t.Fatalf("take charge: %d %s", a.status, a.body)
	}
	// Declining now is no longer allowed: the page says why and keeps the
	// comment typed.
	a = w.do(t, http.MethodPost, "/besoins/"+id+"/positionnement", ref, url.Values{"cle": {uuid.NewString()}, "action": {"decline"}, "commentaire": {"hors périmètre"}})
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "Cette action n&#39;est plus possible") || !strings.Contains(a.body, "hors périmètre") {
		t.Errorf("decline after taking charge: %d", a.status)
	}
	if a = w.do(t, http.MethodPost, "/besoins/"+id+"/commentaires", ref, url.Values{"cle": {uuid.NewString()}, "texte": {"  "}}); a.status != http.StatusUnprocessableEntity ||
		!strings.Contains(a.body, "Écrivez votre commentaire") {
		t.Errorf("empty comment: %d", a.status)
	}
	if a = w.do(t, http.MethodPost, "/besoins/"+id+"/commentaires", ref, url.Values{"cle": {uuid.NewString()}, "texte": {"Rendez-vous pris"}}); a.status != http.StatusSeeOther {
		t.Errorf("comment: %d", a.status)
	}
	a = w.do(t, http.MethodGet, "/besoins/"+id, w.cookie(t, w.anim), nil)
	for _, want := range []string{"Rendez-vous pris", "Prise en charge", "Chloé Nord", "Historique du besoin"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("need page lacks %q", want)
		}
	}
	// An animateur may not abandon a need taken in charge: no button, and
	// a refusal in French when posted anyway.
	a = w.do(t, http.MethodPost, "/besoins/"+id+"/abandon", w.cookie(t, w.anim), url.Values{"cle": {uuid.NewString()}, "motif": {"sans suite"}})
	if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "ne peut plus être abandonné") {
		t.Errorf("abandon after take charge: %d", a.status)
	}
}
