package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/internal/directoryfile"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/projections/readmodels"
)

// base is after the fixtures' directory was made (at the real time).
var base = time.Now().UTC().Add(time.Hour).Truncate(time.Second)

// clock is a settable time for a service.
type clock struct{ ns atomic.Int64 }

func (c *clock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func newClock(t time.Time) *clock    { c := &clock{}; c.set(t); return c }
func day(n int) time.Time            { return base.AddDate(0, 0, n) }
func (c *clock) at(n int) *time.Time { t := day(n); return &t }

// mustImportService is a service over f's store (or store, when not nil)
// at c's time (nil: the real time), with the real read models on f's
// SQLite file running until the test ends when withReads.
func (f *fixture) mustImportService(t testing.TB, c *clock, store eventstore.Store, withReads bool) *app.Service {
	t.Helper()
	if store == nil {
		store = f.store
	}
	cfg := app.Config{Store: store}
	if c != nil {
		cfg.Now = c.now
	}
	if withReads {
		e, err := readmodels.New(f.handle, store, readmodels.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = e.Run(runCtx) }()
		t.Cleanup(func() { cancel(); <-done })
		cfg.ReadModels = e
	}
	var err error
	if cfg.Keys, err = keys.New(ctx, f.handle, testMaster); err != nil {
		t.Fatal(err)
	}
	if cfg.Auth, err = auth.New(ctx, f.handle, store); err != nil {
		t.Fatal(err)
	}
	svc, err := app.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

const (
	// regionCSV is a small region under Réso's headers, comma separated.
	regionCSV = "Organisation,Type d'organisation,Antenne,Nom,Email,Téléphone,Fonction,Sujets,Communes,EPCI,Départements,Régions\n" +
		"CMA Hauts-de-France,CMA,Antenne de Lille,Claire Martin,claire@cma.test,03 20 00 00 01,Conseillère,\"recruitment, training\",59350,,,\n" +
		"CMA Hauts-de-France,CMA,Antenne de Lille,Marc Petit,marc@cma.test,,,export,,200093201,,\n" +
		"URSSAF Picardie,URSSAF,,Nadia Benali,nadia@urssaf.test,,,tax_social_debts,,,\"60,80\",\n"
	// productionCSV is the same under the production tool's headers.
	productionCSV = "Institution;Antenne;Prénom et nom;Email;Téléphone;Fonction;Recruter un ou plusieurs salariés;Former ses salariés, développer les compétences;export;tax_social_debts;Communes;EPCI;Départements\n" +
		"CMA Hauts-de-France;Antenne de Lille;Claire Martin;claire@cma.test;03 20 00 00 01;Conseillère;x;x;;;59350;;\n" +
		"CMA Hauts-de-France;Antenne de Lille;Marc Petit;marc@cma.test;;;;;x;;;200093201;\n" +
		"URSSAF Picardie;;Nadia Benali;nadia@urssaf.test;;;;;;x;;;60,80\n"
)

func mustImport(t *testing.T, svc *app.Service, p app.Principal, in app.ImportInput) *app.ImportReport {
	t.Helper()
	rep, err := svc.ImportDirectory(ctx, p, in)
	if err != nil {
		t.Fatalf("import %s: %v", in.FileName, err)
	}
	return rep
}

func mustHead(t *testing.T, st eventstore.Store) eventstore.Position {
	t.Helper()
	h, err := st.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func statuses(rep *app.ImportReport) []string {
	var out []string
	for _, l := range rep.Lines {
		out = append(out, l.Status)
	}
	return out
}

func TestImportDirectoryBothFormatsAndHeaders(t *testing.T) {
	t.Parallel()
	xlsx, err := directoryfile.Write(directoryfile.XLSX, []domain.ImportRow{
		{Organisation: "CMA Hauts-de-France", Kind: "CMA", Antenne: "Antenne de Lille", Name: "Claire Martin", Email: "claire@cma.test",
			Phone: "03 20 00 00 01", Function: "Conseillère", Subjects: []string{"recruitment", "training"}, Communes: []string{"59350"}},
		{Organisation: "CMA Hauts-de-France", Kind: "CMA", Antenne: "Antenne de Lille", Name: "Marc Petit", Email: "marc@cma.test",
			Subjects: []string{"export"}, EPCIs: []string{"200093201"}},
		{Organisation: "URSSAF Picardie", Kind: "URSSAF", Name: "Nadia Benali", Email: "nadia@urssaf.test",
			Subjects: []string{"tax_social_debts"}, Departements: []string{"60", "80"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	files := []struct {
		name    string
		data    []byte
		format  string
		headers string
	}{
		{"region.csv", []byte(regionCSV), "csv", "reso"},
		{"export-pde.csv", []byte("\xEF\xBB\xBF" + productionCSV), "csv", "production"},
		{"region.xlsx", xlsx, "xlsx", "reso"},
	}
	var dirs []string
	for _, file := range files {
		t.Run(file.name, func(t *testing.T) {
			f := mustFixture(t, "sqlite")
			svc := f.mustImportService(t, newClock(day(0)), nil, false)
			rep := mustImport(t, svc, f.admin, app.ImportInput{FileName: file.name, Data: file.data})
			if rep.Format != file.format || rep.Headers != file.headers || !rep.Written || rep.ImportID == uuid.Nil {
				t.Fatalf("report %+v", rep)
			}
			if !slices.Equal(statuses(rep), []string{"created", "created", "created"}) || rep.Totals.OrganisationsCreated != 2 ||
				rep.Totals.AntennesCreated != 1 || rep.Totals.Events != 7 {
				t.Fatalf("lines %+v, totals %+v", rep.Lines, rep.Totals)
			}
			v, err := svc.Directory(ctx, f.admin, nil)
			if err != nil {
				t.Fatal(err)
			}
			dirs = append(dirs, summary(v))
		})
	}
	for i := 1; i < len(dirs); i++ {
		if dirs[i] != dirs[0] {
			t.Errorf("%s gives another directory than %s:\n%s\n%s", files[i].name, files[0].name, dirs[i], dirs[0])
		}
	}
}

// summary writes what a directory holds, without ids and instants (nor
// the fixture's organisation, whose emails are random).
func summary(v app.DirectoryView) string {
	var b strings.Builder
	for _, o := range v.Organisations {
		if o.Name == "CCI Grand Lille" {
			continue
		}
		fmt.Fprintf(&b, "%s (%s):", o.Name, o.Kind)
		for _, a := range o.Antennes {
			fmt.Fprintf(&b, " antenne %s %v;", a.Name, a.Zone)
		}
		for _, r := range o.Referents {
			fmt.Fprintf(&b, " %s <%s> %q %q %v %v active=%v antenne=%v;", r.Name, r.Email, r.Phone, r.Function, r.Subjects, r.Zones, r.Active, r.AntenneID != nil)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestImportDirectoryDryRunErrorsAndIdempotence(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "sqlite")
	svc := f.mustImportService(t, newClock(day(0)), nil, true)
	head := mustHead(t, f.store)

	// A dry run reports and writes nothing.
	rep := mustImport(t, svc, f.admin, app.ImportInput{FileName: "region.csv", Data: []byte(regionCSV), DryRun: true})
	if !rep.DryRun || rep.Written || rep.Totals.Created != 3 || rep.Totals.Events != 7 || mustHead(t, f.store) != head {
		t.Fatalf("dry run %+v wrote to the log", rep.Totals)
	}

	// One bad line: the file is refused whole, errors named by column.
	bad := strings.Replace(regionCSV, "marc@cma.test", "marc(at)cma.test", 1)
	bad = strings.Replace(bad, "tax_social_debts", "juggling", 1)
	rep, err := svc.ImportDirectory(ctx, f.admin, app.ImportInput{FileName: "bad.csv", Data: []byte(bad)})
	var refused *app.ImportRefusedError
	if !errors.As(err, &refused) || !errors.Is(err, app.ErrImportRefused) || refused.Report != rep || rep.Written {
		t.Fatalf("bad file: %v, %+v", err, rep)
	}
	if !slices.Equal(statuses(rep), []string{"created", "error", "error"}) || rep.Totals.Errors != 2 ||
		rep.Lines[1].Errors[0].Column != "Email" || rep.Lines[2].Errors[0].Column != "Sujets" ||
		!strings.Contains(rep.Lines[2].Errors[0].Reason, `unknown subject "juggling"`) || mustHead(t, f.store) != head {
		t.Fatalf("bad file report %+v", rep.Lines)
	}
	// The same as a dry run is a report, not a refusal.
	if rep := mustImport(t, svc, f.admin, app.ImportInput{FileName: "bad.csv", Data: []byte(bad), DryRun: true}); rep.Totals.Errors != 2 {
		t.Fatalf("dry run of a bad file: %+v", rep.Totals)
	}
	// A file that cannot be read at all.
	if _, err := svc.ImportDirectory(ctx, f.admin, app.ImportInput{FileName: "x.csv", Data: []byte("a;b\n")}); !isField(err, "file") {
		t.Fatalf("unreadable file: %v", err)
	}

	rep = mustImport(t, svc, f.admin, app.ImportInput{FileName: "region.csv", Data: []byte(regionCSV)})
	if !rep.Written || rep.Position.IsZero() {
		t.Fatalf("import %+v", rep)
	}
	head = mustHead(t, f.store)
	// Again: unchanged everywhere, nothing written.
	again := mustImport(t, svc, f.admin, app.ImportInput{FileName: "region.csv", Data: []byte(regionCSV), RemoveMissing: true})
	if again.Written || again.Totals.Unchanged != 3 || again.Totals.Events != 0 || len(again.Missing) != 0 || mustHead(t, f.store) != head {
		t.Fatalf("re-import %+v", again)
	}
	// The referents are routed to at once (read from the log by forward).
	need, err := svc.CaptureNeed(ctx, f.advisor, capture(lille), app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ForwardNeed(ctx, f.advisor, need.Need.ID, []uuid.UUID{*rep.Lines[0].ReferentID}, app.CommandMeta{}); err != nil {
		t.Fatalf("forward to an imported referent: %v", err)
	}
	// Suggested once the read model has it.
	if err := svc.WaitForPosition(ctx, mustHead(t, f.store)); err != nil {
		t.Fatal(err)
	}
	sugg, err := svc.Suggestions(ctx, f.advisor, need.Need.ID)
	if err != nil || !slices.ContainsFunc(sugg, func(c domain.Coverage) bool { return c.ReferentID == *rep.Lines[0].ReferentID }) {
		t.Fatalf("suggestions %+v, %v", sugg, err)
	}
}

func isField(err error, field string) bool {
	var ve *domain.ValidationError
	return errors.As(err, &ve) && ve.Field == field
}

func TestImportDirectoryChangesMissingAndRoundTrip(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "sqlite")
	svc := f.mustImportService(t, newClock(day(0)), nil, false)
	first := mustImport(t, svc, f.admin, app.ImportInput{FileName: "region.csv", Data: []byte(regionCSV)})

	// One phone changes, Marc leaves the file.
	changed := strings.Replace(regionCSV, "03 20 00 00 01", "03 20 00 00 09", 1)
	changed = strings.Replace(changed, "CMA Hauts-de-France,CMA,Antenne de Lille,Marc Petit,marc@cma.test,,,export,,200093201,,\n", "", 1)
	head := mustHead(t, f.store)
	rep := mustImport(t, svc, f.admin, app.ImportInput{FileName: "v2.csv", Data: []byte(changed)})
	if !slices.Equal(statuses(rep), []string{"updated", "unchanged"}) || !slices.Equal(rep.Lines[0].Changes, []string{"phone"}) ||
		len(rep.Missing) != 1 || rep.Missing[0].Email != "marc@cma.test" || rep.Missing[0].Removed || rep.Totals.Events != 1 {
		t.Fatalf("report %+v, missing %+v", rep.Lines, rep.Missing)
	}
	evs, err := f.store.ReadAll(ctx, head, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The import's record, then the one change, tied to it.
	if len(evs) != 2 || evs[0].Type != domain.TypeDirectoryImported || evs[1].Type != domain.TypeReferentDetailsChanged ||
		evs[1].Metadata.CorrelationID != rep.ImportID.String() || evs[1].Metadata.CausationID != domain.ImportStream(rep.ImportID) ||
		evs[1].StreamID != domain.ReferentStream(*first.Lines[0].ReferentID) || evs[1].Metadata.ActorID != f.admin.UserID.String() {
		t.Fatalf("events %+v", evs)
	}
	rep = mustImport(t, svc, f.admin, app.ImportInput{FileName: "v2.csv", Data: []byte(changed), RemoveMissing: true})
	if rep.Totals.Removed != 1 || !rep.Missing[0].Removed || rep.Totals.Events != 1 {
		t.Fatalf("remove missing: %+v %+v", rep.Totals, rep.Missing)
	}

	// Export, then import: unchanged everywhere, in both formats.
	for _, format := range []directoryfile.Format{directoryfile.CSV, directoryfile.XLSX} {
		data, err := svc.ExportDirectory(ctx, f.admin, format, nil)
		if err != nil {
			t.Fatal(err)
		}
		head := mustHead(t, f.store)
		back := mustImport(t, svc, f.admin, app.ImportInput{FileName: "export." + string(format), Data: data, RemoveMissing: true})
		// The fixture's own organisation and its two referents, plus the
		// two left of the file.
		if back.Totals.Lines != 4 || back.Totals.Unchanged != 4 || back.Written || len(back.Missing) != 0 || mustHead(t, f.store) != head {
			t.Fatalf("%s round trip: %+v %+v", format, back.Totals, back.Lines)
		}
	}
	if _, err := svc.ExportDirectory(ctx, f.advisor, directoryfile.CSV, nil); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("advisor export: %v", err)
	}
}

func TestDirectoryAtAPastDate(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "sqlite")
	c := newClock(day(0))
	svc := f.mustImportService(t, c, nil, true)
	before := base.Add(-time.Minute) // the fixture's organisation and referents are older
	c.set(day(10))
	first := mustImport(t, svc, f.admin, app.ImportInput{FileName: "region.csv", Data: []byte(regionCSV)})
	c.set(day(20))
	mustImport(t, svc, f.admin, app.ImportInput{FileName: "v2.csv", Data: []byte(strings.Replace(regionCSV, "03 20 00 00 01", "03 20 00 00 09", 1))})
	c.set(day(30))
	changed := strings.Replace(regionCSV, "CMA Hauts-de-France,CMA,Antenne de Lille,Marc Petit,marc@cma.test,,,export,,200093201,,\n", "", 1)
	mustImport(t, svc, f.admin, app.ImportInput{FileName: "v3.csv", Data: []byte(strings.Replace(changed, "03 20 00 00 01", "03 20 00 00 09", 1)), RemoveMissing: true})

	claire := *first.Lines[0].ReferentID
	referent := func(v app.DirectoryView, id uuid.UUID) (app.ReferentView, bool) {
		for _, o := range v.Organisations {
			for _, r := range o.Referents {
				if r.ID == id {
					return r, true
				}
			}
		}
		return app.ReferentView{}, false
	}
	for _, tc := range []struct {
		asOf        *time.Time
		orgs        int
		phone, file string
		marcActive  bool
	}{
		{&before, 1, "", "", false},
		{c.at(15), 3, "03 20 00 00 01", "region.csv", true},
		{c.at(25), 3, "03 20 00 00 09", "v2.csv", true},
		{nil, 3, "03 20 00 00 09", "v2.csv", false},
	} {
		v, err := svc.Directory(ctx, f.advisor, tc.asOf)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Organisations) != tc.orgs {
			t.Fatalf("as of %v: %d organisations", tc.asOf, len(v.Organisations))
		}
		r, ok := referent(v, claire)
		if tc.phone == "" {
			if ok {
				t.Fatalf("as of %v: claire already there", tc.asOf)
			}
			continue
		}
		if !ok || r.Phone != tc.phone || r.LastChange.Import == nil || r.LastChange.Import.FileName != tc.file ||
			r.LastChange.Import.ByName != f.admin.Name || r.LastChange.ActorID != f.admin.UserID {
			t.Fatalf("as of %v: claire %+v", tc.asOf, r)
		}
		marc, _ := referent(v, *first.Lines[1].ReferentID)
		if marc.Active != tc.marcActive {
			t.Fatalf("as of %v: marc active %v", tc.asOf, marc.Active)
		}
	}
	if _, err := svc.Directory(ctx, f.funder, nil); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("funder reads the directory: %v", err)
	}
	if _, err := svc.ImportDirectory(ctx, f.animNord, app.ImportInput{FileName: "x.csv", Data: []byte(regionCSV), DryRun: true}); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("animateur imports: %v", err)
	}
}

// racyStore lets another writer change one referent's stream just before
// the import's first append to it.
type racyStore struct {
	eventstore.Store
	stream string
	once   sync.Once
	race   func()
}

func (s *racyStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, evs ...eventstore.NewEvent) (eventstore.AppendResult, error) {
	if stream == s.stream {
		s.once.Do(s.race)
	}
	return s.Store.Append(ctx, stream, expected, evs...)
}

func TestImportDirectoryDecidesAgainAfterAConflict(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "sqlite")
	c := newClock(day(0))
	svc := f.mustImportService(t, c, nil, false)
	first := mustImport(t, svc, f.admin, app.ImportInput{FileName: "region.csv", Data: []byte(regionCSV)})
	claire := *first.Lines[0].ReferentID
	racy := &racyStore{Store: f.store, stream: domain.ReferentStream(claire)}
	racy.race = func() {
		// Someone else renames Claire meanwhile.
		e, err := domain.ChangeReferentDetails(claire, domain.ReferentDetails{Name: "Claire M."}, domain.Actor{Role: domain.RoleAdmin}, day(0))
		if err != nil {
			t.Error(err)
			return
		}
		typ, ver, data, _ := domain.Marshal(e)
		if _, err := f.store.Append(ctx, racy.stream, eventstore.AnyVersion, eventstore.NewEvent{Type: typ, SchemaVersion: ver, Data: data}); err != nil {
			t.Error(err)
		}
	}
	svc2 := f.mustImportService(t, c, racy, false)
	rep := mustImport(t, svc2, f.admin, app.ImportInput{FileName: "v2.csv", Data: []byte(strings.Replace(regionCSV, "Conseillère", "Conseillère export", 1))})
	if !rep.Written || !slices.Equal(rep.Lines[0].Changes, []string{"function"}) {
		t.Fatalf("report %+v", rep.Lines)
	}
	v, err := svc.Directory(ctx, f.admin, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range v.Organisations {
		for _, r := range o.Referents {
			if r.ID == claire && (r.Name != "Claire Martin" || r.Function != "Conseillère export") {
				t.Fatalf("claire after the conflict: %+v", r)
			}
		}
	}
}

func TestOpenTerritoryAndStatsSinceOpening(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "sqlite")
	svc := f.mustImportService(t, newClock(time.Now()), nil, true)
	hdf := domain.Zone{Level: domain.LevelRegion, Code: "32"}
	thisMonth := time.Now().In(mustParis(t)).Format("2006-01")
	if _, _, err := svc.OpenTerritory(ctx, f.funder, hdf, thisMonth+"-01", app.CommandMeta{}); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("funder opens: %v", err)
	}
	for _, bad := range []struct {
		z  domain.Zone
		at string
	}{{hdf, "septembre"}, {domain.Zone{Level: domain.LevelCommune, Code: "59350"}, "2026-09-01"}, {domain.Zone{Level: domain.LevelRegion, Code: "99"}, "2026-09-01"}} {
		if _, _, err := svc.OpenTerritory(ctx, f.admin, bad.z, bad.at, app.CommandMeta{}); !errors.Is(err, domain.ErrValidation) {
			t.Errorf("open %v at %q: %v", bad.z, bad.at, err)
		}
	}
	// An instant is taken on its day in Paris: 23:30 UTC on the last day
	// of a winter month is the first of the next.
	res, _, err := svc.OpenTerritory(ctx, f.admin, hdf, "2025-01-31T23:30:00Z", app.CommandMeta{})
	if err != nil || !res.Changed || res.Opening.OpenedOn != "2025-02-01" {
		t.Fatalf("open: %+v %v", res, err)
	}
	res, pos, err := svc.OpenTerritory(ctx, f.admin, hdf, thisMonth+"-01", app.CommandMeta{})
	if err != nil || !res.Changed || pos.IsZero() {
		t.Fatalf("correct the date: %+v %v", res, err)
	}
	if res, pos, err := svc.OpenTerritory(ctx, f.admin, hdf, thisMonth+"-01", app.CommandMeta{}); err != nil || res.Changed || !pos.IsZero() {
		t.Fatalf("open again on the same date: %+v %v %v", res, pos, err)
	}
	list, err := svc.Territories(ctx, f.funder)
	if err != nil || len(list) != 1 || list[0].OpenedOn != thisMonth+"-01" {
		t.Fatalf("territories %+v %v", list, err)
	}
	f.mustNeed(t, lille, f.refA)
	yes := true
	rows, err := svc.Stats(ctx, f.funder, app.StatsQuery{GroupBy: []string{"region", "months_since_opening"}, Opened: &yes, MinPosition: mustHead(t, f.store)})
	if err != nil || len(rows) != 1 || rows[0].MonthsSinceOpening == nil || *rows[0].MonthsSinceOpening != 0 || rows[0].Needs != 1 {
		t.Fatalf("stats %+v %v", rows, err)
	}
}

func mustParis(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
