package domain

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestParseOrganisationKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want OrganisationKind
	}{
		{"cci", KindCCI}, {"CCI", KindCCI}, {" france_travail ", KindFranceTravail}, {"France Travail", KindFranceTravail},
		{"Région", KindRegion}, {"region", KindRegion}, {"chambre d'agriculture", KindChambreAgriculture},
		{"URSSAF", KindURSSAF}, {"bpifrance", KindBpifrance}, {"DREETS", KindDREETS}, {"cma", KindCMA}, {"other", KindOther},
	} {
		got, err := ParseOrganisationKind(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseOrganisationKind(%q) = %q, %v", tc.in, got, err)
		}
	}
	if _, err := ParseOrganisationKind("Pôle emploi"); !isField(err, "kind") {
		t.Errorf("unknown kind: %v", err)
	}
	if len(OrganisationKinds()) != 9 {
		t.Fatalf("%d kinds", len(OrganisationKinds()))
	}
	for _, k := range OrganisationKinds() {
		if back, err := ParseOrganisationKind(k.Label()); err != nil || back != k {
			t.Errorf("label %q of %s does not parse back: %v", k.Label(), k, err)
		}
	}
	if OrganisationKind("odd").Label() != "odd" {
		t.Error("unknown kind label")
	}
}

func TestNewOrganisationAndAntenne(t *testing.T) {
	t.Parallel()
	org, err := NewOrganisation(mustID(t, 1), "  CCI Grand Lille ", KindCCI, animateur, t0)
	if err != nil {
		t.Fatal(err)
	}
	if org != (OrganisationCreated{Meta: Meta{At: t0, By: animateur}, OrganisationID: mustID(t, 1), Name: "CCI Grand Lille", Kind: KindCCI}) {
		t.Fatalf("event %+v", org)
	}
	for field, f := range map[string]func() error{
		"organisation_id": func() error { _, err := NewOrganisation(uuid.Nil, "x", KindCCI, animateur, t0); return err },
		"name":            func() error { _, err := NewOrganisation(mustID(t, 1), " ", KindCCI, animateur, t0); return err },
		"kind":            func() error { _, err := NewOrganisation(mustID(t, 1), "x", "guild", animateur, t0); return err },
		"at": func() error {
			_, err := NewOrganisation(mustID(t, 1), "x", KindCCI, animateur, time.Time{})
			return err
		},
	} {
		if err := f(); !isField(err, field) {
			t.Errorf("NewOrganisation %s: %v", field, err)
		}
	}
	mel := Zone{LevelEPCI, "200093201"}
	a, err := NewAntenne(mustID(t, 1), mustID(t, 2), "Antenne Roubaix", mel, nil, animateur, t0)
	if err != nil || a.Zone != mel || a.Name != "Antenne Roubaix" || a.AntenneID != mustID(t, 2) {
		t.Fatalf("antenne %+v %v", a, err)
	}
	for field, f := range map[string]func() error{
		"organisation_id": func() error { _, err := NewAntenne(uuid.Nil, mustID(t, 2), "x", mel, nil, animateur, t0); return err },
		"antenne_id":      func() error { _, err := NewAntenne(mustID(t, 1), uuid.Nil, "x", mel, nil, animateur, t0); return err },
		"name": func() error {
			_, err := NewAntenne(mustID(t, 1), mustID(t, 2), "", mel, nil, animateur, t0)
			return err
		},
		"zone": func() error {
			_, err := NewAntenne(mustID(t, 1), mustID(t, 2), "x", Zone{LevelEPCI, "1"}, nil, animateur, t0)
			return err
		},
		"at": func() error {
			_, err := NewAntenne(mustID(t, 1), mustID(t, 2), "x", mel, nil, animateur, time.Time{})
			return err
		},
	} {
		if err := f(); !isField(err, field) {
			t.Errorf("NewAntenne %s: %v", field, err)
		}
	}
}

func validReferent(t *testing.T) ReferentRegistration {
	t.Helper()
	return ReferentRegistration{
		ReferentID: mustID(t, 10), OrganisationID: mustID(t, 1), AntenneID: mustID(t, 2),
		Name: "Claire Martin", Email: " claire.martin@cci.fr ",
		Subjects: []string{"export", "customs", "export"},
		Zones:    []Zone{{LevelEPCI, "200093201"}, {LevelDepartement, "59"}, {LevelEPCI, "200093201"}},
	}
}

func TestRegisterReferent(t *testing.T) {
	t.Parallel()
	e, err := RegisterReferent(validReferent(t), DefaultGeography(), animateur, t0)
	if err != nil {
		t.Fatal(err)
	}
	if e.Email != "claire.martin@cci.fr" || !reflect.DeepEqual(e.Subjects, []string{"export", "customs"}) ||
		!reflect.DeepEqual(e.Zones, []Zone{{LevelEPCI, "200093201"}, {LevelDepartement, "59"}}) || e.AntenneID != mustID(t, 2) {
		t.Fatalf("event %+v", e)
	}
	for _, tc := range []struct {
		field string
		edit  func(*ReferentRegistration)
	}{
		{"referent_id", func(r *ReferentRegistration) { r.ReferentID = uuid.Nil }},
		{"organisation_id", func(r *ReferentRegistration) { r.OrganisationID = uuid.Nil }},
		{"name", func(r *ReferentRegistration) { r.Name = "" }},
		{"email", func(r *ReferentRegistration) { r.Email = "" }},
		{"email", func(r *ReferentRegistration) { r.Email = "claire" }},
		{"email", func(r *ReferentRegistration) { r.Email = "claire@localhost" }},
		{"email", func(r *ReferentRegistration) { r.Email = "@cci.fr" }},
		{"email", func(r *ReferentRegistration) { r.Email = "cl aire@cci.fr" }},
		{"email", func(r *ReferentRegistration) { r.Email = "claire@cci.fr." }},
		{"email", func(r *ReferentRegistration) { r.Email = "a@b@cci.fr" }},
		{"subjects", func(r *ReferentRegistration) { r.Subjects = nil }},
		{"subjects", func(r *ReferentRegistration) { r.Subjects = []string{"export", "astrology"} }},
		{"zones", func(r *ReferentRegistration) { r.Zones = nil }},
		{"zones", func(r *ReferentRegistration) { r.Zones = []Zone{{LevelDepartement, "20"}} }},
	} {
		r := validReferent(t)
		tc.edit(&r)
		if _, err := RegisterReferent(r, nil, animateur, t0); !isField(err, tc.field) || !errors.Is(err, ErrValidation) {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
	if _, err := RegisterReferent(validReferent(t), nil, animateur, time.Time{}); !isField(err, "at") {
		t.Errorf("zero instant: %v", err)
	}
}

func TestChangeCoverageAndDeactivate(t *testing.T) {
	t.Parallel()
	e, err := ChangeCoverage(mustID(t, 10), []string{"recruitment"}, []Zone{National}, nil, animateur, t0)
	if err != nil || e.ReferentID != mustID(t, 10) || !reflect.DeepEqual(e.Zones, []Zone{National}) {
		t.Fatalf("%+v %v", e, err)
	}
	if _, err := ChangeCoverage(uuid.Nil, []string{"recruitment"}, []Zone{National}, nil, animateur, t0); !isField(err, "referent_id") {
		t.Errorf("nil id: %v", err)
	}
	if _, err := ChangeCoverage(mustID(t, 10), nil, []Zone{National}, nil, animateur, t0); !isField(err, "subjects") {
		t.Errorf("no subject: %v", err)
	}
	if _, err := ChangeCoverage(mustID(t, 10), []string{"recruitment"}, []Zone{National}, nil, animateur, time.Time{}); !isField(err, "at") {
		t.Errorf("zero instant: %v", err)
	}
	d, err := DeactivateReferent(mustID(t, 10), animateur, t0)
	if err != nil || d.ReferentID != mustID(t, 10) {
		t.Fatalf("%+v %v", d, err)
	}
	if _, err := DeactivateReferent(uuid.Nil, animateur, t0); !isField(err, "referent_id") {
		t.Errorf("nil id: %v", err)
	}
	if _, err := DeactivateReferent(mustID(t, 10), animateur, time.Time{}); !isField(err, "at") {
		t.Errorf("zero instant: %v", err)
	}
}

func TestRegisterUser(t *testing.T) {
	t.Parallel()
	nord := []Zone{{LevelDepartement, "59"}}
	ok := []UserRegistration{
		{UserID: mustID(t, 20), Name: "Ana", Email: "ana@cci.fr", Role: RoleAdvisor, OrganisationID: mustID(t, 1)},
		{UserID: mustID(t, 21), Name: "Ben", Email: "ben@cci.fr", Role: RoleReferent, ReferentID: mustID(t, 10)},
		{UserID: mustID(t, 22), Name: "Cy", Email: "cy@dreets.gouv.fr", Role: RoleAnimateur, Territories: nord},
		{UserID: mustID(t, 23), Name: "Di", Email: "di@finances.gouv.fr", Role: RoleFunder, Territories: []Zone{}},
		{UserID: mustID(t, 24), Name: "Ed", Email: "ed@reso.fr", Role: RoleAdmin},
	}
	for _, u := range ok {
		e, err := RegisterUser(u, nil, animateur, t0)
		if err != nil {
			t.Errorf("%s: %v", u.Role, err)
			continue
		}
		if e.UserID != u.UserID || e.Role != u.Role || e.ReferentID != u.ReferentID || e.OrganisationID != u.OrganisationID {
			t.Errorf("%s: event %+v", u.Role, e)
		}
		if (u.Role == RoleAnimateur) != (e.Territories != nil) {
			t.Errorf("%s: territories %v", u.Role, e.Territories)
		}
	}
	for _, tc := range []struct {
		field string
		u     UserRegistration
	}{
		{"user_id", UserRegistration{Name: "x", Email: "x@y.fr", Role: RoleAdmin}},
		{"name", UserRegistration{UserID: mustID(t, 1), Email: "x@y.fr", Role: RoleAdmin}},
		{"email", UserRegistration{UserID: mustID(t, 1), Name: "x", Email: "x", Role: RoleAdmin}},
		{"role", UserRegistration{UserID: mustID(t, 1), Name: "x", Email: "x@y.fr", Role: RoleSystem}},
		{"role", UserRegistration{UserID: mustID(t, 1), Name: "x", Email: "x@y.fr", Role: "king"}},
		{"referent_id", UserRegistration{UserID: mustID(t, 1), Name: "x", Email: "x@y.fr", Role: RoleReferent}},
		{"territories", UserRegistration{UserID: mustID(t, 1), Name: "x", Email: "x@y.fr", Role: RoleAnimateur}},
		{"territories", UserRegistration{UserID: mustID(t, 1), Name: "x", Email: "x@y.fr", Role: RoleAnimateur, Territories: []Zone{{LevelRegion, "99"}}}},
		{"territories", UserRegistration{UserID: mustID(t, 1), Name: "x", Email: "x@y.fr", Role: RoleAdvisor, Territories: nord}},
	} {
		if _, err := RegisterUser(tc.u, nil, animateur, t0); !isField(err, tc.field) {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
	if _, err := RegisterUser(ok[0], nil, animateur, time.Time{}); !isField(err, "at") {
		t.Errorf("zero instant: %v", err)
	}
}

// mustDirectory folds a small directory: one organisation with an antenne,
// two referents (one deactivated later), one user.
func mustDirectory(t *testing.T) (*Directory, []Event) {
	t.Helper()
	geo := DefaultGeography()
	org, err := NewOrganisation(mustID(t, 1), "CCI Grand Lille", KindCCI, animateur, t0)
	mustDo(t, err)
	ant, err := NewAntenne(mustID(t, 1), mustID(t, 2), "Roubaix", Zone{LevelEPCI, "200093201"}, geo, animateur, t0)
	mustDo(t, err)
	r1, err := RegisterReferent(validReferent(t), geo, animateur, t0)
	mustDo(t, err)
	r2reg := validReferent(t)
	r2reg.ReferentID, r2reg.Name, r2reg.Subjects = mustID(t, 11), "Bruno Petit", []string{"recruitment"}
	r2, err := RegisterReferent(r2reg, geo, animateur, t0)
	mustDo(t, err)
	cc, err := ChangeCoverage(mustID(t, 11), []string{"export"}, []Zone{{LevelCommune, "59350"}}, geo, animateur, day0(1))
	mustDo(t, err)
	deact, err := DeactivateReferent(mustID(t, 10), animateur, day0(2))
	mustDo(t, err)
	user, err := RegisterUser(UserRegistration{UserID: mustID(t, 20), Name: "Ana", Email: "Ana@CCI.fr", Role: RoleReferent, ReferentID: mustID(t, 11)}, geo, animateur, t0)
	mustDo(t, err)
	events := []Event{org, ant, r1, r2, cc, deact, user}
	d := NewDirectory()
	for _, e := range events {
		mustDo(t, d.Apply(e))
	}
	return d, events
}

func TestDirectoryFold(t *testing.T) {
	t.Parallel()
	d, _ := mustDirectory(t)
	o, ok := d.Organisation(mustID(t, 1))
	if !ok || o.Name != "CCI Grand Lille" || o.Kind != KindCCI || !o.CreatedAt.Equal(t0) || len(d.Organisations()) != 1 {
		t.Fatalf("organisation %+v", o)
	}
	if as := d.Antennes(mustID(t, 1)); len(as) != 1 || as[0].Name != "Roubaix" {
		t.Fatalf("antennes %+v", as)
	}
	if a, ok := d.Antenne(mustID(t, 2)); !ok || a.OrganisationID != mustID(t, 1) {
		t.Fatalf("antenne %+v", a)
	}
	refsList := d.Referents()
	if len(refsList) != 2 || refsList[0].Name != "Bruno Petit" || refsList[1].Name != "Claire Martin" {
		t.Fatalf("referents %+v", refsList)
	}
	claire, _ := d.Referent(mustID(t, 10))
	bruno, _ := d.Referent(mustID(t, 11))
	if claire.Active || !bruno.Active || !reflect.DeepEqual(bruno.Subjects, []string{"export"}) || !reflect.DeepEqual(bruno.Zones, []Zone{{LevelCommune, "59350"}}) {
		t.Fatalf("claire %+v bruno %+v", claire, bruno)
	}
	// Routing over the directory: Claire is inactive, Bruno now covers
	// export in Lille only.
	if got := names(d.Route(DefaultGeography(), "59350", "export")); !reflect.DeepEqual(got, []string{"Bruno Petit"}) {
		t.Fatalf("route %v", got)
	}
	if got := d.Route(DefaultGeography(), "59512", "export"); len(got) != 0 {
		t.Fatalf("route Roubaix %v", names(got))
	}
	if len(d.Coverages()) != 2 {
		t.Fatal("coverages")
	}
	u, ok := d.UserByEmail(" ana@cci.FR")
	if !ok || u.ID != mustID(t, 20) || u.ReferentID != mustID(t, 11) {
		t.Fatalf("user %+v", u)
	}
	if _, ok := d.UserByEmail("nobody@cci.fr"); ok {
		t.Fatal("unknown email found")
	}
	if us := d.Users(); len(us) != 1 {
		t.Fatalf("users %+v", us)
	}
	for name, ok := range map[string]bool{
		"organisation": func() bool { _, ok := d.Organisation(uuid.Nil); return ok }(),
		"antenne":      func() bool { _, ok := d.Antenne(uuid.Nil); return ok }(),
		"referent":     func() bool { _, ok := d.Referent(uuid.Nil); return ok }(),
		"user":         func() bool { _, ok := d.User(uuid.Nil); return ok }(),
	} {
		if ok {
			t.Errorf("unknown %s found", name)
		}
	}
	// Copies do not alias.
	bruno.Subjects[0] = "tampered"
	if again, _ := d.Referent(mustID(t, 11)); again.Subjects[0] != "export" {
		t.Fatal("Referent returned state callers can change")
	}
}

func TestDirectoryApplyRefusals(t *testing.T) {
	t.Parallel()
	_, events := mustDirectory(t)
	org, ant, r1, cc, deact, user := events[0], events[1], events[2], events[4], events[5], events[6]
	for _, tc := range []struct {
		name   string
		before []Event
		e      Event
	}{
		{"organisation twice", []Event{org}, org},
		{"antenne of unknown organisation", nil, ant},
		{"antenne twice", []Event{org, ant}, ant},
		{"referent of unknown organisation", nil, r1},
		{"referent twice", []Event{org, r1}, r1},
		{"coverage of unknown referent", []Event{org}, cc},
		{"deactivation of unknown referent", []Event{org}, deact},
		{"user twice", []Event{user}, user},
		{"nil", nil, nil},
	} {
		d := NewDirectory()
		for _, e := range tc.before {
			mustDo(t, d.Apply(e))
		}
		if err := d.Apply(tc.e); !errors.Is(err, ErrEventMismatch) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// Need events pass through, so the whole log can be fed.
	d := NewDirectory()
	for _, e := range sampleEvents(t)[:7] {
		if err := d.Apply(e); err != nil {
			t.Errorf("need event %s: %v", e.EventType(), err)
		}
	}
}

func TestValidRole(t *testing.T) {
	t.Parallel()
	for _, r := range []Role{RoleAdvisor, RoleReferent, RoleAnimateur, RoleFunder, RoleAdmin} {
		if !ValidRole(r) {
			t.Errorf("%s invalid", r)
		}
	}
	for _, r := range []Role{RoleSystem, "", "ADMIN"} {
		if ValidRole(r) {
			t.Errorf("%q valid", r)
		}
	}
}
