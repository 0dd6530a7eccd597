package signaux_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections/needs"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
	"github.com/reso-fr/reso/projections/signaux"
	"github.com/reso-fr/reso/projections/stats"
)

// mustLog folds the log's Signaux Faibles events with the domain, and
// returns the SIRENs of its needs: what the read model is checked against,
// without its code.
func mustLog(t *testing.T, st eventstore.Store) (*domain.SFHistory, []string) {
	t.Helper()
	h := domain.NewSFHistory()
	var sirens []string
	for _, e := range pt.MustEvents(t, st) {
		if err := h.Apply(e); err != nil {
			t.Fatal(err)
		}
		if c, ok := e.(domain.NeedCaptured); ok {
			sirens = append(sirens, c.SIRET[:9])
		}
	}
	return h, sirens
}

// checkAsOf compares, at instants around every import, the list the read
// model says applied and the flags of every SIREN of the log's lists and
// needs with the domain's fold of the log.
func checkAsOf(t *testing.T, e *readmodels.Engine, h *domain.SFHistory, sirens []string) {
	t.Helper()
	ctx := context.Background()
	var ats []time.Time
	for _, r := range h.Revisions() {
		ats = append(ats, r.At.Add(-time.Second), r.At, r.At.Add(36*time.Hour))
		for _, l := range r.SortedLines() {
			sirens = append(sirens, l.SIREN)
		}
	}
	slices.Sort(sirens)
	sirens = slices.Compact(sirens)
	ats = append(ats, time.Time{})
	for _, at := range ats {
		want := h.Applying(at)
		// One flag in seven through FlagAt, which asks in one statement.
		for i := 0; i < len(sirens); i += 7 {
			var wf domain.SFFlag
			wok := false
			if want != nil {
				wf, wok = want.Flag(sirens[i])
			}
			gf, gok, err := e.SFFlagAt(ctx, sirens[i], at)
			if err != nil || gok != wok || gf != wf {
				t.Fatalf("FlagAt(%s, %s) = %+v, %v, %v; want %+v, %v", sirens[i], at, gf, gok, err, wf, wok)
			}
		}
		imp, ok, err := e.SFApplying(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (want != nil) || ok && (imp.ImportID != want.ImportID || imp.Label != want.Label || imp.Period != want.Period ||
			imp.Lines != want.Lines || imp.F1 != want.F1 || imp.F2 != want.F2 || !imp.ImportedAt.Equal(want.At)) {
			t.Fatalf("applying at %s: %+v (%v), want %+v", at, imp, ok, want)
		}
		if !ok {
			continue
		}
		flags, err := e.SFFlags(ctx, imp, sirens)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range sirens {
			wf, wok := want.Flag(s)
			gf, gok := flags[s]
			if wok != gok || wf != gf {
				t.Fatalf("flag of %s at %s: %+v (%v), want %+v (%v)", s, at, gf, gok, wf, wok)
			}
			if wok {
				n++
			}
		}
		if n != want.Lines || len(flags) != n {
			t.Fatalf("at %s: %d flags, the list has %d lines", at, n, want.Lines)
		}
	}
}

// The flags at any past instant, rebuilt from the log: the read model
// answers as the domain's fold of the log, live and after a rebuild.
func TestFlagsAsOfMatchTheLog(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			pt.MustRun(t, e)
			res := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 21, Months: 5, NeedsPerMonth: 60, Writers: 3, SignauxFaibles: true})
			pt.MustWait(t, e, res.Last)
			h, sirens := mustLog(t, b.Store)
			if len(h.Revisions()) != 6 {
				t.Fatalf("%d imports in the log", len(h.Revisions()))
			}
			checkAsOf(t, e, h, sirens)
			imps, err := e.SFImports(context.Background())
			if err != nil || len(imps) != 6 || imps[0].ImportID != h.Revisions()[5].ImportID {
				t.Fatalf("imports %+v, %v", imps, err)
			}
			if err := e.Rebuild(context.Background(), signaux.Name, nil); err != nil {
				t.Fatal(err)
			}
			checkAsOf(t, e, h, sirens)
		})
	}
}

var (
	t0    = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	admin = domain.Actor{ID: uuid.MustParse("00000000-0000-4000-8000-0000000000ad"), Role: domain.RoleAdmin}
	adv   = domain.Actor{ID: uuid.MustParse("00000000-0000-4000-8000-000000000001"), Role: domain.RoleAdvisor}
)

// Valid SIRENs and the SIRETs of their head offices.
const (
	sirenA, siretA = "732829320", "73282932000074"
	sirenB, siretB = "552100554", "55210055400013"
	sirenC         = "443061841"
	sirenD, siretD = "380129866", "38012986600014"
	sirenE, siretE = "812345676", "81234567600017"
)

func capture(t *testing.T, st eventstore.Store, siret, name, commune string, at time.Time) (uuid.UUID, eventstore.Position) {
	t.Helper()
	if _, err := domain.ParseSIRET(siret); err != nil {
		t.Fatal(err)
	}
	id, _ := uuid.NewV7()
	return id, pt.MustAppend(t, st, domain.NeedStream(id), eventstore.NoStream, domain.NeedCaptured{Meta: domain.Meta{At: at, By: adv},
		NeedID: id, SIRET: siret, CompanyName: name, Commune: commune, Subject: "recruitment", Description: "x",
		Contact: domain.SealedContact{KeyID: "k-" + id.String(), Ciphertext: []byte{1}}, AdvisorID: adv.ID})
}

func importList(t *testing.T, st eventstore.Store, period string, at time.Time, lines ...domain.SFLine) eventstore.Position {
	t.Helper()
	l := domain.NewSFList(period)
	id, _ := uuid.NewV7()
	if err := l.Import(domain.SFListImport{Period: period, Lines: lines}, id, admin, at); err != nil {
		t.Fatal(err)
	}
	return pt.MustAppend(t, st, domain.SFListStream(l.ID()), eventstore.NoStream, l.Changes()...)
}

func sirensOf(rows []signaux.CompanyRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.SIREN)
	}
	return out
}

// The companies to visit: placed by the list's commune or, without one,
// by their last need's; with the date of that need; filtered by territory
// and by the absence of needs since a date; in pages.
func TestCompaniesAndNeedsOfAList(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			pt.MustRun(t, e)
			ctx := context.Background()
			jan := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
			nA, _ := capture(t, b.Store, siretA, "Boulangerie A", "59350", jan)
			nB, _ := capture(t, b.Store, siretB, "Atelier B", "80021", jan.AddDate(0, 0, 27))
			nD1, _ := capture(t, b.Store, siretD, "Garage D", "62041", jan.AddDate(0, 1, 0))
			nD2, _ := capture(t, b.Store, siretD, "Garage D (Lille)", "59350", jan.AddDate(0, 2, 5))
			nE, _ := capture(t, b.Store, siretE, "Épicerie E", "59350", jan)
			importList(t, b.Store, "2026-03", t0,
				domain.SFLine{SIREN: sirenA, Alert: domain.SFAlertF1, Score: 0.9, Commune: "59350"},
				domain.SFLine{SIREN: sirenB, Alert: domain.SFAlertF2, Score: 0.5},
				domain.SFLine{SIREN: sirenC, Alert: domain.SFAlertF2, Score: 0.7, Commune: "80021"},
				domain.SFLine{SIREN: sirenD, Alert: domain.SFAlertF1, Score: 0.95, Commune: "99999"})
			pos := importList(t, b.Store, "2026-02", t0.Add(time.Hour), domain.SFLine{SIREN: sirenE, Alert: domain.SFAlertF1, Score: 0.99})
			pt.MustWait(t, e, pos)
			imp, ok, err := e.SFApplying(ctx, time.Time{})
			if err != nil || !ok || imp.Period != "2026-03" || imp.Label != "Mars 2026" || imp.F1 != 2 || imp.F2 != 2 {
				t.Fatalf("applying %+v, %v, %v: the latest period, not the latest import", imp, ok, err)
			}
			page := func(f signaux.CompanyFilter) []signaux.CompanyRow {
				t.Helper()
				f.Import = imp
				p, err := e.SFCompanies(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				return p.Items
			}
			dep := func(code string) []domain.Zone { return []domain.Zone{{Level: domain.LevelDepartement, Code: code}} }
			all := page(signaux.CompanyFilter{})
			if got := sirensOf(all); !slices.Equal(got, []string{sirenD, sirenA, sirenC, sirenB}) {
				t.Fatalf("all companies %v: F1 first, then by score", got)
			}
			d := all[0]
			if d.Needs != 2 || d.CompanyName != "Garage D (Lille)" || d.Commune != "59350" || !d.LastNeedAt.Equal(jan.AddDate(0, 2, 5)) {
				t.Fatalf("company D %+v: its last need places it (the list's commune is unknown)", d)
			}
			if c := all[2]; c.Needs != 0 || c.LastNeedAt != nil || c.Commune != "80021" || c.CompanyName != "" {
				t.Fatalf("company C %+v: never met", c)
			}
			for _, tc := range []struct {
				name string
				f    signaux.CompanyFilter
				want []string
			}{
				{"Nord", signaux.CompanyFilter{ScopeZones: dep("59")}, []string{sirenD, sirenA}},
				{"Somme", signaux.CompanyFilter{ScopeZones: dep("80")}, []string{sirenC, sirenB}},
				{"Lille", signaux.CompanyFilter{ScopeZones: []domain.Zone{{Level: domain.LevelCommune, Code: "59350"}}}, []string{sirenD, sirenA}},
				{"region", signaux.CompanyFilter{ScopeZones: []domain.Zone{{Level: domain.LevelRegion, Code: "32"}}}, []string{sirenD, sirenA, sirenC, sirenB}},
				{"no territory", signaux.CompanyFilter{ScopeZones: []domain.Zone{}}, nil},
				{"F2 only", signaux.CompanyFilter{Alert: domain.SFAlertF2}, []string{sirenC, sirenB}},
				{"no need since February", signaux.CompanyFilter{WithoutNeedSince: jan.AddDate(0, 0, 27)}, []string{sirenA, sirenC}},
				{"no need since, in Nord", signaux.CompanyFilter{WithoutNeedSince: jan.AddDate(0, 0, 27), ScopeZones: dep("59")}, []string{sirenA}},
			} {
				if got := sirensOf(page(tc.f)); !slices.Equal(got, tc.want) {
					t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
				}
			}
			// Pages of one follow each other.
			var walked []string
			f := signaux.CompanyFilter{Import: imp, Limit: 1}
			for range 10 {
				p, err := e.SFCompanies(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				walked = append(walked, sirensOf(p.Items)...)
				if p.NextCursor == "" {
					break
				}
				f.Cursor = p.NextCursor
			}
			if !slices.Equal(walked, sirensOf(all)) {
				t.Fatalf("pages %v, want %v", walked, sirensOf(all))
			}
			if _, err := e.SFCompanies(ctx, signaux.CompanyFilter{Import: imp, Cursor: "nope"}); err == nil {
				t.Fatal("a bad cursor was accepted")
			}

			// The needs of the list's companies, with their flags.
			list := func(alerts ...domain.SFAlert) map[uuid.UUID]string {
				t.Helper()
				p, err := e.ListNeeds(ctx, needs.NeedFilter{SF: &needs.SFJoin{Seq: imp.Seq, List: imp.Label, Periode: imp.Period, Alerts: alerts}, Limit: 500})
				if err != nil {
					t.Fatal(err)
				}
				out := map[uuid.UUID]string{}
				for _, r := range p.Items {
					out[r.ID] = ""
					if f := r.SignauxFaibles; f != nil {
						out[r.ID] = string(f.Alert) + " " + f.List + " " + f.Periode
					}
				}
				return out
			}
			flagged := map[uuid.UUID]string{nA: "F1 Mars 2026 2026-03", nD1: "F1 Mars 2026 2026-03", nD2: "F1 Mars 2026 2026-03"}
			if got := list(domain.SFAlertF1); !maps.Equal(got, flagged) {
				t.Errorf("F1 needs %v, want %v", got, flagged)
			}
			if got := list(domain.SFAlertF2); len(got) != 1 {
				t.Errorf("F2 needs %v, want B's", got)
			}
			if got := list(domain.SFAlertF1, domain.SFAlertF2); len(got) != 4 {
				t.Errorf("alerted needs %v, want 4", got)
			}
			// Pages of one, newest capture first, as the unfiltered list.
			var paged []uuid.UUID
			pf := needs.NeedFilter{SF: &needs.SFJoin{Seq: imp.Seq, Alerts: domain.SFAlerts()}, Limit: 1}
			for range 10 {
				p, err := e.ListNeeds(ctx, pf)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range p.Items {
					paged = append(paged, r.ID)
				}
				if pf.Cursor = p.NextCursor; pf.Cursor == "" {
					break
				}
			}
			if want := []uuid.UUID{nD2, nD1, nB, nA}; !slices.Equal(paged, want) {
				t.Errorf("pages of alerted needs %v, want %v", paged, want)
			}
			got := list()
			if len(got) != 5 || got[nE] != "" || got[nA] != flagged[nA] {
				t.Errorf("every need %v: E is not on the list that applies", got)
			}

			// A need captured later is flagged at once; a later list
			// replaces the flags.
			nC, pos := capture(t, b.Store, "44306184100013", "Conserverie C", "80021", t0.Add(2*time.Hour))
			pt.MustWait(t, e, pos)
			if got := list(domain.SFAlertF2); len(got) != 2 || got[nC] != "F2 Mars 2026 2026-03" {
				t.Errorf("F2 needs after C's capture %v", got)
			}
			pos = importList(t, b.Store, "2026-04", t0.Add(3*time.Hour), domain.SFLine{SIREN: sirenE, Alert: domain.SFAlertF2, Score: 0.6})
			pt.MustWait(t, e, pos)
			if imp, _, err = e.SFApplying(ctx, time.Time{}); err != nil || imp.Period != "2026-04" {
				t.Fatalf("applying %+v, %v", imp, err)
			}
			if got := list(domain.SFAlertF1); len(got) != 0 {
				t.Errorf("F1 needs of April's list %v", got)
			}
			if got := list(domain.SFAlertF2); len(got) != 1 || got[nE] != "F2 Avril 2026 2026-04" {
				t.Errorf("F2 needs of April's list %v", got)
			}
			// An old Seq finds no flag.
			stale, err := e.ListNeeds(ctx, needs.NeedFilter{SF: &needs.SFJoin{Seq: 1, Alerts: domain.SFAlerts()}})
			if err != nil || len(stale.Items) != 0 {
				t.Errorf("a list that no longer applies: %d needs, %v", len(stale.Items), err)
			}
			pt.MustMatchRebuild(t, e, b.DB)
		})
	}
}

// A runner that fails between an import's header and its parts (live,
// one event a batch, the first batch holding lines refused) resumes from
// its tables: what it kept of the header comes back, and the read models
// equal a rebuild.
func TestImportSplitAcrossBatches(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			var mu sync.Mutex
			failed := map[string]int{}
			e := pt.MustEngine(t, b, readmodels.Options{BatchSize: 1, BeforeCommit: func(projection string, evs []eventstore.Event) error {
				mu.Lock()
				defer mu.Unlock()
				for _, ev := range evs {
					if ev.Type == domain.TypeSignauxFaiblesLinesRecorded && failed[projection] == 0 {
						failed[projection]++
						return errors.New("injected failure")
					}
				}
				return nil
			}})
			pt.MustRun(t, e)
			pt.MustWait(t, e, mustCaptureAt(t, b.Store, siretA, t0.Add(-time.Hour)))
			var lines []domain.SFLine
			for i := range 12000 {
				lines = append(lines, domain.SFLine{SIREN: sirenOf(100000000 + 37*i), Alert: domain.SFAlertF2, Score: 0.5})
			}
			lines = append(lines, domain.SFLine{SIREN: sirenB, Alert: domain.SFAlertF1, Score: 0.9})
			importList(t, b.Store, "2026-03", t0, lines...)
			pos := mustCaptureAt(t, b.Store, siretB, t0.Add(time.Hour))
			pt.MustWait(t, e, pos)
			mu.Lock()
			if failed[signaux.Name] != 1 || failed["stats"] != 1 {
				t.Fatalf("failures injected: %v", failed)
			}
			mu.Unlock()
			imp, ok, err := e.SFApplying(context.Background(), time.Time{})
			if err != nil || !ok || imp.Lines != len(lines) {
				t.Fatalf("applying %+v, %v, %v", imp, ok, err)
			}
			rows, err := e.Stats(context.Background(), stats.StatsQuery{GroupBy: []string{"sf_alert"}})
			if err != nil || len(rows) != 2 || rows[0].SFAlert != "F1" || rows[0].Needs != 1 || rows[1].SFAlert != "none" || rows[1].Needs != 1 {
				t.Fatalf("stats by alert %+v, %v: B was alerted at its capture, A was not", rows, err)
			}
			pt.MustMatchRebuild(t, e, b.DB)
		})
	}
}

func mustCaptureAt(t *testing.T, st eventstore.Store, siret string, at time.Time) eventstore.Position {
	t.Helper()
	_, pos := capture(t, st, siret, "Entreprise", "59350", at)
	return pos
}

// sirenOf makes a valid SIREN of n's last eight digits and a key.
func sirenOf(n int) string {
	base := []byte{byte('0' + n/10000000%10), byte('0' + n/1000000%10), byte('0' + n/100000%10), byte('0' + n/10000%10),
		byte('0' + n/1000%10), byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)}
	for k := byte('0'); k <= '9'; k++ {
		if s, err := domain.ParseSIREN(string(append(base, k))); err == nil {
			return string(s)
		}
	}
	panic("no key")
}
