package app_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/internal/keys"
)

// SIRENs of the tests' companies (valid Luhn keys) and their SIRETs.
const (
	sirenLille, siretLille = "732829320", "73282932000074"
	sirenOise, siretOise   = "552100554", "55210055400013"
	sirenOther             = "443061841"
)

// lockedBuffer collects a logger's output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mustLoggedService is a service over f's store that logs, at debug level,
// into the buffer it returns.
func (f *fixture) mustLoggedService(t *testing.T) (*app.Service, *lockedBuffer) {
	t.Helper()
	kr, err := keys.New(ctx, f.handle, testMaster)
	if err != nil {
		t.Fatal(err)
	}
	as, err := auth.New(ctx, f.handle, f.store)
	if err != nil {
		t.Fatal(err)
	}
	buf := &lockedBuffer{}
	svc, err := app.New(app.Config{Store: f.store, Keys: kr, Auth: as,
		Logger: slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return svc, buf
}

const marchCSV = "siren;score;alert;periode;code_commune\n" +
	sirenLille + ";0,91;Alerte seuil F1;2026-03-01;59350\n" +
	sirenOise + ";0,55;F2;2026-03-01;\n" +
	sirenOther + ";0,12;Pas d'alerte;2026-03-01;80021\n"

func TestImportSignauxFaibles(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "memory")
	svc, logs := f.mustLoggedService(t)
	in := app.SFImportInput{Data: []byte(marchCSV), Format: "csv"}

	if _, err := svc.ImportSignauxFaibles(ctx, f.animNord, in, app.CommandMeta{}); !errors.Is(err, app.ErrForbidden) ||
		!strings.Contains(err.Error(), "role animateur may not import Signaux Faibles lists") {
		t.Fatalf("an animateur imports: %v", err)
	}
	res, err := svc.ImportSignauxFaibles(ctx, f.admin, in, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Unchanged || res.Period != "2026-03" || res.Label != "Mars 2026" || res.Read != 3 || res.Lines != 2 ||
		res.F1 != 1 || res.F2 != 1 || res.WithoutAlert != 1 || res.RejectedCount != 0 || res.ListID != domain.SFListID("2026-03") {
		t.Fatalf("first import %+v", res)
	}
	// The log records who imported which list, when, and its lines.
	raw, err := f.store.ReadStream(ctx, domain.SFListStream(res.ListID), 1, 0)
	if err != nil || len(raw) != 2 {
		t.Fatalf("list stream: %d events, %v", len(raw), err)
	}
	if raw[0].Metadata.ActorID != f.admin.UserID.String() || raw[0].Type != domain.TypeSignauxFaiblesListImported {
		t.Fatalf("header %+v", raw[0])
	}
	// The same list again: nothing recorded.
	again, err := svc.ImportSignauxFaibles(ctx, f.admin, in, app.CommandMeta{})
	if err != nil || !again.Unchanged || again.ImportID != res.ImportID || again.Lines != 2 {
		t.Fatalf("same list again: %+v, %v", again, err)
	}
	if raw, _ := f.store.ReadStream(ctx, domain.SFListStream(res.ListID), 1, 0); len(raw) != 2 {
		t.Fatalf("re-import recorded %d events", len(raw)-2)
	}
	// Invalid lines: nothing imported, each reported.
	bad := marchCSV + "732829321;0,5;F1;2026-03-01;\n" + sirenOther + ";1,5;F2;2026-03-01;\n"
	_, err = svc.ImportSignauxFaibles(ctx, f.admin, app.SFImportInput{Data: []byte(bad), Format: "csv", Label: "Mars bis"}, app.CommandMeta{})
	var rej *app.SFRejectedError
	if !errors.As(err, &rej) || !errors.Is(err, domain.ErrValidation) || rej.Count != 2 || rej.Read != 5 ||
		rej.Rejected[0].Line != 5 || rej.Rejected[1].Line != 6 || !strings.Contains(rej.Rejected[1].Reason, "score") {
		t.Fatalf("invalid lines: %v %+v", err, rej)
	}
	if strings.Contains(err.Error(), "732829321") {
		t.Fatalf("the error quotes the file: %v", err)
	}
	if raw, _ := f.store.ReadStream(ctx, domain.SFListStream(res.ListID), 1, 0); len(raw) != 2 {
		t.Fatal("a refused file imported something")
	}
	// Skipping them imports the others: a new import of the list.
	skip, err := svc.ImportSignauxFaibles(ctx, f.admin, app.SFImportInput{Data: []byte(bad), Format: "csv", Label: "Mars bis", SkipInvalid: true}, app.CommandMeta{})
	if err != nil || skip.Unchanged || skip.Lines != 2 || skip.RejectedCount != 2 || len(skip.Rejected) != 2 || skip.Label != "Mars bis" {
		t.Fatalf("skip invalid: %+v, %v", skip, err)
	}
	// JSON, with the period given.
	js := `[{"siren": "` + sirenLille + `", "score": 0.7, "alert": "F2"}]`
	apr, err := svc.ImportSignauxFaibles(ctx, f.admin, app.SFImportInput{Data: []byte(js), Format: "json", Period: "2026-04"}, app.CommandMeta{})
	if err != nil || apr.Period != "2026-04" || apr.Lines != 1 || apr.F2 != 1 {
		t.Fatalf("JSON import %+v, %v", apr, err)
	}
	for _, c := range []struct {
		name  string
		in    app.SFImportInput
		field string
	}{
		{"format", app.SFImportInput{Data: []byte(marchCSV), Format: "xlsx"}, "format"},
		{"no alert", app.SFImportInput{Data: []byte("siren,score,alert\n" + sirenOther + ",0.1,Pas d'alerte\n"), Format: "csv", Period: "2026-05"}, "file"},
		{"no period", app.SFImportInput{Data: []byte("siren,score,alert\n" + sirenOther + ",0.1,F1\n"), Format: "csv"}, "period"},
		{"label", app.SFImportInput{Data: []byte(marchCSV), Format: "csv", Label: strings.Repeat("x", 101)}, "label"},
	} {
		_, err := svc.ImportSignauxFaibles(ctx, f.admin, c.in, app.CommandMeta{})
		mustField(t, c.name, err, c.field)
	}
	// What was logged names lists and counts, never a company.
	out := logs.String()
	if !strings.Contains(out, "signaux faibles list imported") {
		t.Fatalf("imports are not logged: %s", out)
	}
	for _, s := range []string{sirenLille, sirenOise, sirenOther, "732829321", "0.91", "0,91"} {
		if strings.Contains(out, s) {
			t.Fatalf("the logs hold %q:\n%s", s, out)
		}
	}
}

// Concurrent imports of one list: one records it, the others find it
// unchanged.
func TestImportSignauxFaiblesConcurrent(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "sqlite")
	var wg sync.WaitGroup
	results := make([]app.SFImportResult, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = f.svc.ImportSignauxFaibles(ctx, f.admin, app.SFImportInput{Data: []byte(marchCSV), Format: "csv"}, app.CommandMeta{})
		}()
	}
	wg.Wait()
	recorded := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !r.Unchanged {
			recorded++
		}
		if r.ImportID != results[0].ImportID {
			t.Fatalf("imports %v and %v", r.ImportID, results[0].ImportID)
		}
	}
	if recorded != 1 {
		t.Fatalf("%d imports recorded, want 1", recorded)
	}
}

// hasFlag reports whether v's JSON holds a signaux_faibles member.
func hasFlag(t *testing.T, v any) bool {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(b, []byte(`"signaux_faibles"`))
}

// Who sees a company's alert: animateurs (on their territories) and
// admins, on needs, in the filter and in the companies to visit; never
// advisors, referents nor funders (the field absent, the filter and the
// companies refused), who see statistics by alert in aggregate.
func TestSignauxFaiblesVisibility(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "sqlite")
	svc := f.mustReadService(t)
	in := capture(lille)
	in.SIRET = siretLille
	lilleNeed, err := svc.CaptureNeed(ctx, f.advisor, in, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ForwardNeed(ctx, f.advisor, lilleNeed.Need.ID, []uuid.UUID{f.refA}, app.CommandMeta{}); err != nil {
		t.Fatal(err)
	}
	in = capture(beauv)
	in.SIRET = siretOise
	oiseNeed, err := svc.CaptureNeed(ctx, f.advisor, in, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	in.SIRET = "35600000000048" // La Poste: on no list
	plain, err := svc.CaptureNeed(ctx, f.advisor, in, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC()
	imp, err := svc.ImportSignauxFaibles(ctx, f.admin, app.SFImportInput{Data: []byte(marchCSV), Format: "csv"}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	last := imp.Position

	ids := func(p app.NeedPage) map[uuid.UUID]*app.SFView {
		out := map[uuid.UUID]*app.SFView{}
		for _, r := range p.Items {
			out[r.ID] = r.SignauxFaibles
		}
		return out
	}
	for _, c := range []struct {
		name     string
		p        app.Principal
		f1, any  []uuid.UUID
		flagged  uuid.UUID
		flagSeen bool
	}{
		{"admin", f.admin, []uuid.UUID{lilleNeed.Need.ID}, []uuid.UUID{lilleNeed.Need.ID, oiseNeed.Need.ID}, lilleNeed.Need.ID, true},
		{"animateur Nord", f.animNord, []uuid.UUID{lilleNeed.Need.ID}, []uuid.UUID{lilleNeed.Need.ID}, lilleNeed.Need.ID, true},
		{"animateur Oise", f.animOise, nil, []uuid.UUID{oiseNeed.Need.ID}, oiseNeed.Need.ID, true},
	} {
		for filter, want := range map[string][]uuid.UUID{"F1": c.f1, "any": c.any} {
			page, err := svc.ListNeeds(ctx, c.p, app.NeedQuery{SFAlert: filter, MinPosition: last})
			if err != nil {
				t.Fatalf("%s sf_alert=%s: %v", c.name, filter, err)
			}
			got := ids(page)
			if len(got) != len(want) {
				t.Errorf("%s sf_alert=%s: %d needs, want %d", c.name, filter, len(got), len(want))
			}
			for _, id := range want {
				if f := got[id]; f == nil || f.List != "Mars 2026" || f.Periode != "2026-03" {
					t.Errorf("%s sf_alert=%s: need %s flag %+v", c.name, filter, id, f)
				}
			}
		}
		all, err := svc.ListNeeds(ctx, c.p, app.NeedQuery{MinPosition: last})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(all)[c.flagged]; got == nil {
			t.Errorf("%s: no flag on need %s in the list", c.name, c.flagged)
		}
		v, err := svc.GetNeed(ctx, c.p, c.flagged, nil)
		if err != nil || v.SignauxFaibles == nil || !hasFlag(t, v) {
			t.Errorf("%s: need %s without its flag: %+v, %v", c.name, c.flagged, v.SignauxFaibles, err)
		}
		// As of before the import, no list applied.
		past, err := svc.GetNeed(ctx, c.p, c.flagged, &before)
		if err != nil || past.SignauxFaibles != nil {
			t.Errorf("%s: need %s as of before the import: %+v, %v", c.name, c.flagged, past.SignauxFaibles, err)
		}
	}
	if v, _ := svc.GetNeed(ctx, f.admin, plain.Need.ID, nil); v.SignauxFaibles != nil || hasFlag(t, v) {
		t.Errorf("a company on no list has a flag: %+v", v.SignauxFaibles)
	}
	if v, _ := svc.GetNeed(ctx, f.admin, lilleNeed.Need.ID, nil); *v.SignauxFaibles != (app.SFView{Alert: "F1", Score: 0.91, List: "Mars 2026", Periode: "2026-03"}) {
		t.Errorf("flag %+v", *v.SignauxFaibles)
	}

	// Advisors and referents: no flag anywhere, the filter refused.
	for _, c := range []struct {
		name string
		p    app.Principal
		need uuid.UUID
	}{{"advisor", f.advisor, lilleNeed.Need.ID}, {"referent", f.referentA, lilleNeed.Need.ID}} {
		page, err := svc.ListNeeds(ctx, c.p, app.NeedQuery{MinPosition: last})
		if err != nil || len(page.Items) == 0 {
			t.Fatalf("%s lists: %d, %v", c.name, len(page.Items), err)
		}
		if hasFlag(t, page) {
			t.Errorf("%s sees a flag in the list", c.name)
		}
		v, err := svc.GetNeed(ctx, c.p, c.need, nil)
		if err != nil || hasFlag(t, v) {
			t.Errorf("%s sees a flag on the need: %v", c.name, err)
		}
		_, err = svc.ListNeeds(ctx, c.p, app.NeedQuery{SFAlert: "F1"})
		if !errors.Is(err, app.ErrForbidden) || !strings.Contains(err.Error(), "may not see Signaux Faibles alerts") {
			t.Errorf("%s filters by alert: %v", c.name, err)
		}
		if _, err := svc.SFCompanies(ctx, c.p, app.SFCompaniesQuery{}); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s lists alerted companies: %v", c.name, err)
		}
	}
	if _, err := svc.SFCompanies(ctx, f.funder, app.SFCompaniesQuery{}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("funder lists alerted companies: %v", err)
	}
	mustField(t, "filter value", errOf(svc.ListNeeds(ctx, f.admin, app.NeedQuery{SFAlert: "F3"})), "sf_alert")

	// Funders: statistics by alert, in aggregate.
	rows, err := svc.Stats(ctx, f.funder, app.StatsQuery{GroupBy: []string{"sf_alert"}, MinPosition: last})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].SFAlert != "none" || rows[0].Needs != 3 {
		t.Errorf("stats by alert %+v: the needs were captured before the list", rows)
	}

	// The companies to visit, by territory.
	for _, c := range []struct {
		name string
		p    app.Principal
		want []string
	}{
		{"admin", f.admin, []string{sirenLille, sirenOise}},
		{"animateur Nord", f.animNord, []string{sirenLille}},
		{"animateur Oise", f.animOise, []string{sirenOise}},
	} {
		page, err := svc.SFCompanies(ctx, c.p, app.SFCompaniesQuery{MinPosition: last})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range page.Items {
			got = append(got, r.SIREN)
			if r.LastNeedAt == nil || r.Needs != 1 {
				t.Errorf("%s: company %s %+v: its need is not counted", c.name, r.SIREN, r)
			}
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") || page.List == nil || page.List.Label != "Mars 2026" {
			t.Errorf("%s: companies %v (list %+v), want %v", c.name, got, page.List, c.want)
		}
	}
	page, err := svc.SFCompanies(ctx, f.admin, app.SFCompaniesQuery{WithoutNeedSince: before.AddDate(0, 0, -1).Format(time.DateOnly)})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("companies without a need since yesterday: %+v, %v", page.Items, err)
	}
	page, err = svc.SFCompanies(ctx, f.admin, app.SFCompaniesQuery{Alert: "F1"})
	if err != nil || len(page.Items) != 1 || page.Items[0].CommuneName != "Lille" {
		t.Errorf("F1 companies: %+v, %v", page.Items, err)
	}
	mustField(t, "alert", errOf(svc.SFCompanies(ctx, f.admin, app.SFCompaniesQuery{Alert: "any"})), "alert")
	mustField(t, "day", errOf(svc.SFCompanies(ctx, f.admin, app.SFCompaniesQuery{WithoutNeedSince: "2026-13-01"})), "without_need_since")
}

// Before any list, the alerted needs and companies are none.
func TestSignauxFaiblesBeforeAnyList(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "sqlite")
	svc := f.mustReadService(t)
	f.mustNeed(t, lille)
	page, err := svc.ListNeeds(ctx, f.animNord, app.NeedQuery{SFAlert: "any"})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("alerted needs before any list: %+v, %v", page.Items, err)
	}
	all, err := svc.ListNeeds(ctx, f.animNord, app.NeedQuery{MinPosition: eventstore.Position{}})
	if err != nil || hasFlag(t, all) {
		t.Fatalf("needs before any list: %v", err)
	}
	c, err := svc.SFCompanies(ctx, f.animNord, app.SFCompaniesQuery{})
	if err != nil || c.List != nil || len(c.Items) != 0 {
		t.Fatalf("companies before any list: %+v, %v", c, err)
	}
}
