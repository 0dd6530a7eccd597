package domain

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

var importer = Actor{ID: uuid.MustParse("0190d5a2-0000-7000-8000-0000000000ad"), Role: RoleAdmin}

// region is a small region file: two organisations, three referents.
func regionRows() []ImportRow {
	return []ImportRow{
		{Line: 2, Organisation: "CCI Grand Lille", Kind: "CCI", Antenne: "Antenne de Roubaix", Name: "Claire Martin",
			Email: "claire.martin@cci.test", Phone: "03 20 00 00 01", Function: "Conseillère export",
			Subjects: []string{"export", "Formalités douanières"}, EPCIs: []string{"200093201"}},
		{Line: 3, Organisation: "CCI Grand Lille", Antenne: "Antenne de Roubaix", Name: "Marc Petit",
			Email: "marc.petit@cci.test", Subjects: []string{"recruitment"}, Communes: []string{"59512", "59350"}},
		{Line: 4, Organisation: "URSSAF Nord", Name: "Nadia Benali", Email: "Nadia.Benali@urssaf.test",
			Subjects: []string{"tax_social_debts"}, Departements: []string{"59", "62"}, Regions: []string{"national"}},
	}
}

func mustPlan(t *testing.T, d *Directory, rows []ImportRow, opts ImportOptions) ImportPlan {
	t.Helper()
	if opts.At.IsZero() {
		opts.At = t0
	}
	if opts.By == (Actor{}) {
		opts.By = importer
	}
	p, err := PlanImport(d, rows, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mustApply folds a plan's events into d, as the log would after writing
// them, checking each lands on the stream the plan says.
func mustApply(t *testing.T, d *Directory, p ImportPlan) {
	t.Helper()
	for _, c := range p.Changes {
		for _, e := range c.Events {
			if s, err := StreamOf(e); err != nil || s != c.Stream {
				t.Fatalf("event %s of stream %q planned on %q", e.EventType(), s, c.Stream)
			}
			if err := d.Apply(e); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func outcomes(p ImportPlan) []LineOutcome {
	out := make([]LineOutcome, len(p.Lines))
	for i, l := range p.Lines {
		out[i] = l.Outcome
	}
	return out
}

func TestPlanImportCreatesThenIsIdempotent(t *testing.T) {
	t.Parallel()
	d := NewDirectory()
	p := mustPlan(t, d, regionRows(), ImportOptions{})
	if got := outcomes(p); !slices.Equal(got, []LineOutcome{LineCreated, LineCreated, LineCreated}) {
		t.Fatalf("outcomes %v: %+v", got, p.Lines)
	}
	if p.OrganisationsCreated != 2 || p.AntennesCreated != 1 || len(p.Missing) != 0 {
		t.Fatalf("created %d organisations, %d antennes, missing %v", p.OrganisationsCreated, p.AntennesCreated, p.Missing)
	}
	// Organisations first, then one stream per referent; the referent with
	// a phone gets its details in the same append.
	if len(p.Changes) != 5 || !p.Changes[0].New || !strings.HasPrefix(p.Changes[0].Stream, "organisation-") ||
		len(p.Changes[2].Events) != 2 || len(p.Changes[3].Events) != 1 {
		t.Fatalf("changes %+v", p.Changes)
	}
	mustApply(t, d, p)

	orgs := d.Organisations()
	if len(orgs) != 2 || orgs[0].Name != "CCI Grand Lille" || orgs[0].Kind != KindCCI || orgs[1].Kind != KindURSSAF {
		t.Fatalf("organisations %+v (URSSAF's kind inferred from its name)", orgs)
	}
	ants := d.Antennes(orgs[0].ID)
	// Roubaix's lines cover the Métropole européenne de Lille and two of
	// its communes: all in the Nord.
	if len(ants) != 1 || ants[0].Zone != (Zone{Level: LevelDepartement, Code: "59"}) {
		t.Fatalf("antennes %+v", ants)
	}
	claire, ok := d.Referent(p.Lines[0].ReferentID)
	if !ok || claire.Phone != "03 20 00 00 01" || claire.Function != "Conseillère export" || claire.AntenneID != ants[0].ID ||
		!slices.Equal(claire.Subjects, []string{"export", "customs"}) {
		t.Fatalf("claire %+v", claire)
	}
	nadia, _ := d.Referent(p.Lines[2].ReferentID)
	if !slices.Equal(nadia.Zones, []Zone{{LevelDepartement, "59"}, {LevelDepartement, "62"}, National}) {
		t.Fatalf("nadia's zones %v", nadia.Zones)
	}
	// The same file again, and the directory written back as a file: no
	// change at all.
	for name, rows := range map[string][]ImportRow{"same file": regionRows(), "export": DirectoryRows(d)} {
		again := mustPlan(t, d, rows, ImportOptions{RemoveMissing: true})
		if got := outcomes(again); len(got) != 3 || slices.ContainsFunc(got, func(o LineOutcome) bool { return o != LineUnchanged }) {
			t.Errorf("%s: outcomes %v: %+v", name, got, again.Lines)
		}
		if len(again.Changes) != 0 || len(again.Missing) != 0 || again.OrganisationsCreated+again.AntennesCreated != 0 {
			t.Errorf("%s: changes %+v, missing %+v", name, again.Changes, again.Missing)
		}
	}
	// Ids come from names: a second directory importing the same file
	// gets the same ones.
	other := mustPlan(t, NewDirectory(), regionRows(), ImportOptions{})
	for i := range p.Lines {
		if other.Lines[i].ReferentID != p.Lines[i].ReferentID || other.Lines[i].OrganisationID != p.Lines[i].OrganisationID {
			t.Fatalf("line %d: ids differ between two plans", p.Lines[i].Line)
		}
	}
}

func TestPlanImportUpdatesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	d := NewDirectory()
	mustApply(t, d, mustPlan(t, d, regionRows(), ImportOptions{}))
	rows := regionRows()
	rows[0].Phone = "+33 3 20 00 00 09"                    // details
	rows[1].Subjects = []string{"recruitment", "training"} // coverage
	rows[2].Departements = []string{"62", "59"}            // same zones, another order
	p := mustPlan(t, d, rows, ImportOptions{})
	if got := outcomes(p); !slices.Equal(got, []LineOutcome{LineUpdated, LineUpdated, LineUnchanged}) {
		t.Fatalf("outcomes %v", got)
	}
	if !slices.Equal(p.Lines[0].Changes, []string{ChangePhone}) || !slices.Equal(p.Lines[1].Changes, []string{ChangeSubjects}) {
		t.Fatalf("changes %v, %v", p.Lines[0].Changes, p.Lines[1].Changes)
	}
	if len(p.Changes) != 2 {
		t.Fatalf("changes %+v", p.Changes)
	}
	if e, ok := p.Changes[0].Events[0].(ReferentDetailsChanged); !ok || e.Phone != "+33 3 20 00 00 09" || e.Name != "Claire Martin" {
		t.Fatalf("first change %#v", p.Changes[0].Events)
	}
	if e, ok := p.Changes[1].Events[0].(ReferentCoverageChanged); !ok || len(e.Subjects) != 2 || len(e.Zones) != 2 {
		t.Fatalf("second change %#v", p.Changes[1].Events)
	}
	mustApply(t, d, p)
	// Leaving the antenne empty takes the referent out of it.
	rows[1].Antenne = ""
	p = mustPlan(t, d, rows, ImportOptions{})
	if !slices.Equal(p.Lines[1].Changes, []string{ChangeAntenne}) || p.Lines[0].Outcome != LineUnchanged {
		t.Fatalf("lines %+v", p.Lines)
	}
}

func TestPlanImportMissingReferents(t *testing.T) {
	t.Parallel()
	d := NewDirectory()
	mustApply(t, d, mustPlan(t, d, regionRows(), ImportOptions{}))
	marc := mustPlan(t, d, regionRows(), ImportOptions{}).Lines[1].ReferentID
	rows := regionRows()
	without := []ImportRow{rows[0], rows[2]}
	p := mustPlan(t, d, without, ImportOptions{})
	if len(p.Missing) != 1 || p.Missing[0].ReferentID != marc || p.Missing[0].Removed || len(p.Changes) != 0 {
		t.Fatalf("missing %+v, changes %+v", p.Missing, p.Changes)
	}
	// Another organisation's file says nothing of the CCI's referents.
	if p := mustPlan(t, d, rows[2:], ImportOptions{RemoveMissing: true}); len(p.Missing) != 0 {
		t.Fatalf("URSSAF's file reports %+v missing", p.Missing)
	}
	p = mustPlan(t, d, without, ImportOptions{RemoveMissing: true})
	if len(p.Missing) != 1 || !p.Missing[0].Removed || len(p.Changes) != 1 {
		t.Fatalf("missing %+v, changes %+v", p.Missing, p.Changes)
	}
	if _, ok := p.Changes[0].Events[0].(ReferentDeactivated); !ok {
		t.Fatalf("change %#v", p.Changes[0].Events)
	}
	mustApply(t, d, p)
	if r, _ := d.Referent(marc); r.Active {
		t.Fatal("removed referent still active")
	}
	// Back in the file: reactivated, same id.
	p = mustPlan(t, d, rows, ImportOptions{})
	if p.Lines[1].Outcome != LineUpdated || p.Lines[1].ReferentID != marc || !slices.Equal(p.Lines[1].Changes, []string{ChangeReactivated}) {
		t.Fatalf("line %+v", p.Lines[1])
	}
	mustApply(t, d, p)
	if r, _ := d.Referent(marc); !r.Active {
		t.Fatal("reactivated referent inactive")
	}
}

func TestPlanImportZonesFromAntenne(t *testing.T) {
	t.Parallel()
	d := NewDirectory()
	mustApply(t, d, mustPlan(t, d, regionRows(), ImportOptions{}))
	rows := []ImportRow{
		// The production tool's file has no zone columns: the referent
		// takes the zone of an antenne the directory has.
		{Line: 2, Organisation: "cci grand lille", Antenne: "ANTENNE DE ROUBAIX", Name: "Zoé Roux", Email: "zoe@cci.test", Subjects: []string{"export"}},
		{Line: 3, Organisation: "CCI Grand Lille", Antenne: "Antenne de Tourcoing", Name: "Yves Roux", Email: "yves@cci.test", Subjects: []string{"export"}},
	}
	p := mustPlan(t, d, rows, ImportOptions{})
	if p.Lines[0].Outcome != LineCreated || p.Lines[1].Outcome != LineError || p.Lines[1].Issues[0].Field != ImportZones {
		t.Fatalf("lines %+v", p.Lines)
	}
	mustApply(t, d, mustPlan(t, d, rows[:1], ImportOptions{}))
	zoe, _ := d.Referent(p.Lines[0].ReferentID)
	if !slices.Equal(zoe.Zones, []Zone{{LevelDepartement, "59"}}) {
		t.Fatalf("zoe's zones %v", zoe.Zones)
	}
}

func TestPlanImportErrors(t *testing.T) {
	t.Parallel()
	d := NewDirectory()
	mustApply(t, d, mustPlan(t, d, regionRows(), ImportOptions{}))
	ok := ImportRow{Line: 2, Organisation: "CMA Hauts-de-France", Kind: "CMA", Name: "Léa Roy", Email: "lea@cma.test",
		Subjects: []string{"training"}, Communes: []string{"59350"}}
	for _, tc := range []struct {
		name   string
		change func(r *ImportRow)
		field  ImportField
		reason string
	}{
		{"no organisation", func(r *ImportRow) { r.Organisation = " " }, ImportOrganisation, "required"},
		{"unknown kind", func(r *ImportRow) { r.Kind = "Mairie" }, ImportKind, `unknown organisation kind "Mairie"`},
		{"kind against the directory", func(r *ImportRow) { r.Organisation, r.Kind = "CCI GRAND LILLE", "CMA" }, ImportKind, "is a CCI in the directory"},
		{"no name", func(r *ImportRow) { r.Name = "" }, ImportName, "required"},
		{"no email", func(r *ImportRow) { r.Email = "" }, ImportEmail, "required"},
		{"malformed email", func(r *ImportRow) { r.Email = "lea at cma" }, ImportEmail, "not an email address"},
		{"email of another organisation", func(r *ImportRow) { r.Email = "MARC.PETIT@cci.test" }, ImportEmail, "referent of CCI Grand Lille"},
		{"phone", func(r *ImportRow) { r.Phone = "12" }, ImportPhone, "not a French phone number"},
		{"unknown subject", func(r *ImportRow) { r.Subjects = []string{"training", "juggling"} }, ImportSubjects, `unknown subject "juggling"`},
		{"no subject", func(r *ImportRow) { r.Subjects = nil }, ImportSubjects, "no subject"},
		{"unknown commune", func(r *ImportRow) { r.Communes = []string{"99999"} }, ImportCommunes, `unknown commune "99999"`},
		{"postal code for a commune", func(r *ImportRow) { r.Communes = []string{"59000"} }, ImportCommunes, "is a postal code (of 59350 Lille"},
		{"unknown EPCI", func(r *ImportRow) { r.EPCIs = []string{"123"} }, ImportEPCI, `unknown EPCI "123"`},
		{"unknown département", func(r *ImportRow) { r.Departements = []string{"99"} }, ImportDepartements, `unknown département "99"`},
		{"unknown région", func(r *ImportRow) { r.Regions = []string{"Picardie"} }, ImportRegions, `unknown région "Picardie"`},
		{"no zone", func(r *ImportRow) { r.Communes = nil }, ImportZones, "no zone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.change(&r)
			p := mustPlan(t, d, []ImportRow{r}, ImportOptions{})
			l := p.Lines[0]
			if l.Outcome != LineError || len(l.Issues) != 1 || l.Issues[0].Field != tc.field || !strings.Contains(l.Issues[0].Reason, tc.reason) {
				t.Fatalf("line %+v, want one %s issue with %q", l, tc.field, tc.reason)
			}
			if l.ReferentID != uuid.Nil || l.OrganisationID != uuid.Nil || l.Changes != nil {
				t.Fatalf("an error line names %v, %v, %v", l.ReferentID, l.OrganisationID, l.Changes)
			}
		})
	}
	t.Run("duplicate email", func(t *testing.T) {
		a, b, c := ok, ok, ok
		b.Line, b.Email = 3, "LEA@cma.test"
		c.Line, c.Email = 4, "other@cma.test"
		p := mustPlan(t, d, []ImportRow{a, b, c}, ImportOptions{})
		if got := outcomes(p); !slices.Equal(got, []LineOutcome{LineError, LineError, LineCreated}) {
			t.Fatalf("outcomes %v", got)
		}
		if !strings.Contains(p.Lines[0].Issues[0].Reason, "also on line 3") || !strings.Contains(p.Lines[1].Issues[0].Reason, "also on line 2") {
			t.Fatalf("issues %+v %+v", p.Lines[0].Issues, p.Lines[1].Issues)
		}
	})
	t.Run("kinds of a new organisation disagree", func(t *testing.T) {
		a, b := ok, ok
		b.Line, b.Email, b.Kind = 3, "b@cma.test", "URSSAF"
		p := mustPlan(t, d, []ImportRow{a, b}, ImportOptions{})
		if p.Lines[0].Outcome != LineCreated || p.Lines[1].Outcome != LineError || !strings.Contains(p.Lines[1].Issues[0].Reason, "is a CMA on line 2") {
			t.Fatalf("lines %+v", p.Lines)
		}
	})
	t.Run("every issue of a line", func(t *testing.T) {
		r := ImportRow{Line: 9, Organisation: "X", Email: "bad", Subjects: []string{"nope"}}
		p := mustPlan(t, d, []ImportRow{r}, ImportOptions{})
		var fields []ImportField
		for _, is := range p.Lines[0].Issues {
			fields = append(fields, is.Field)
		}
		if !slices.Equal(fields, []ImportField{ImportName, ImportEmail, ImportSubjects, ImportZones}) {
			t.Fatalf("issues %+v", p.Lines[0].Issues)
		}
	})
	if _, err := PlanImport(d, nil, ImportOptions{}); err == nil {
		t.Fatal("a plan without an instant")
	}
}

func TestPlanImportCodesAndLabels(t *testing.T) {
	t.Parallel()
	rows := []ImportRow{{Line: 2, Organisation: "Région Hauts-de-France", Name: "Ana", Email: "ana@region.test",
		Subjects: []string{"engager sa transition ecologique (rse, bilan carbone)", "E_COMMERCE"},
		Communes: []string{"2691"}, Departements: []string{"2", "2a"}, Regions: []string{"France"}}}
	d := NewDirectory()
	p := mustPlan(t, d, rows, ImportOptions{})
	if p.Lines[0].Outcome != LineCreated {
		t.Fatalf("line %+v", p.Lines[0])
	}
	mustApply(t, d, p)
	r, _ := d.Referent(p.Lines[0].ReferentID)
	want := []Zone{{LevelCommune, "02691"}, {LevelDepartement, "02"}, {LevelDepartement, "2A"}, National}
	if !slices.Equal(r.Subjects, []string{"ecological_transition", "e_commerce"}) || !slices.Equal(r.Zones, want) {
		t.Fatalf("referent %+v", r)
	}
	if o := d.Organisations()[0]; o.Kind != KindRegion {
		t.Fatalf("kind %s", o.Kind)
	}
}

func TestDirectoryFoldsDetailsAndReactivation(t *testing.T) {
	t.Parallel()
	d := NewDirectory()
	for _, e := range []Event{
		ReferentReactivated{ReferentID: mustID(t, 1)},
		ReferentDetailsChanged{ReferentID: mustID(t, 1), Name: "x"},
	} {
		if err := d.Apply(e); err == nil {
			t.Errorf("%s of an unknown referent applied", e.EventType())
		}
	}
	for _, e := range []Event{DirectoryImported{ImportID: mustID(t, 2)}, TerritoryOpened{Zone: National}} {
		if err := d.Apply(e); err != nil {
			t.Errorf("%s: %v", e.EventType(), err)
		}
	}
	if _, err := ChangeReferentDetails(mustID(t, 1), ReferentDetails{Name: " "}, importer, t0); err == nil {
		t.Error("details without a name")
	}
	if _, err := ChangeReferentDetails(mustID(t, 1), ReferentDetails{Name: "a", Phone: "1"}, importer, t0); err == nil {
		t.Error("details with a bad phone")
	}
	if _, err := ChangeReferentDetails(mustID(t, 1), ReferentDetails{Name: "a", Function: strings.Repeat("x", 301)}, importer, t0); err == nil {
		t.Error("details with a long function")
	}
	if _, err := ReactivateReferent(uuid.Nil, importer, t0); err == nil {
		t.Error("reactivation of no referent")
	}
}

func TestOpenings(t *testing.T) {
	t.Parallel()
	o := NewOpenings()
	hdf, nord := Zone{Level: LevelRegion, Code: "32"}, Zone{Level: LevelDepartement, Code: "59"}
	for _, bad := range []struct {
		z  Zone
		on string
	}{{National, "2026-09-01"}, {Zone{Level: LevelCommune, Code: "59350"}, "2026-09-01"}, {Zone{Level: LevelRegion, Code: "00"}, "2026-09-01"}, {hdf, "2026-13-01"}, {hdf, "1/9/2026"}} {
		if _, _, err := o.Open(bad.z, bad.on, nil, importer, t0); err == nil {
			t.Errorf("opened %v on %q", bad.z, bad.on)
		}
	}
	e, ok, err := o.Open(hdf, "2026-09-01", nil, importer, t0)
	if err != nil || !ok || e.OpenedOn != "2026-09-01" {
		t.Fatalf("open: %+v %v %v", e, ok, err)
	}
	o.Apply(e)
	if _, ok, err := o.Open(hdf, "2026-09-01", nil, importer, t0); ok || err != nil {
		t.Fatalf("opening twice on the same date: %v %v", ok, err)
	}
	e2, _, _ := o.Open(nord, "2026-06-15", nil, importer, t0)
	o.Apply(e2)
	o.Apply(CommentAdded{})
	if got := o.List(); len(got) != 2 || got[0].Zone != hdf || got[1].Zone != nord {
		t.Fatalf("list %+v", got)
	}
	for _, tc := range []struct {
		dep, reg string
		want     string
		ok       bool
	}{{"59", "32", "2026-06-15", true}, {"62", "32", "2026-09-01", true}, {"", "32", "2026-09-01", true}, {"75", "11", "", false}} {
		got, ok := o.ForPlace(tc.dep, tc.reg)
		if ok != tc.ok || got.OpenedOn != tc.want {
			t.Errorf("ForPlace(%q, %q) = %+v %v", tc.dep, tc.reg, got, ok)
		}
	}
	for _, tc := range []struct {
		on, month string
		want      int
		ok        bool
	}{{"2026-09-01", "2026-09", 0, true}, {"2026-09-30", "2027-01", 4, true}, {"2026-09-01", "2026-08", -1, true}, {"x", "2026-08", 0, false}, {"2026-09-01", "2026", 0, false}} {
		got, ok := MonthsSinceOpening(tc.on, tc.month)
		if got != tc.want || ok != tc.ok {
			t.Errorf("MonthsSinceOpening(%q, %q) = %d %v", tc.on, tc.month, got, ok)
		}
	}
}
