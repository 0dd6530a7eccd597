package domain

import (
	"reflect"
	"testing"

	"github.com/google/uuid"
)

func cov(t *testing.T, n int, name string, active bool, subjects []string, zones ...Zone) Coverage {
	t.Helper()
	return Coverage{ReferentID: mustID(t, n), OrganisationID: mustID(t, 100+n), Name: name, Subjects: subjects, Zones: zones, Active: active}
}

func names(cs []Coverage) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestRouteOnRealCommunes(t *testing.T) {
	t.Parallel()
	g := DefaultGeography()
	rec := []string{"recruitment"}
	referents := []Coverage{
		cov(t, 1, "Région HdF", true, rec, Zone{LevelRegion, "32"}),
		cov(t, 2, "France Travail national", true, []string{"recruitment", "training"}, National),
		cov(t, 3, "CCI Grand Lille", true, rec, Zone{LevelEPCI, "200093201"}),
		cov(t, 4, "CMA Nord", true, rec, Zone{LevelDepartement, "59"}),
		cov(t, 5, "Mairie de Lille", true, rec, Zone{LevelCommune, "59350"}),
		cov(t, 6, "CCI Paris", true, rec, Zone{LevelEPCI, "200054781"}, Zone{LevelDepartement, "75"}),
		cov(t, 7, "Inactive Lille", false, rec, Zone{LevelCommune, "59350"}),
		cov(t, 8, "Export Nord", true, []string{"export"}, Zone{LevelDepartement, "59"}),
		cov(t, 9, "Pas-de-Calais", true, rec, Zone{LevelDepartement, "62"}),
		// Covers Lille through two zones: the most specific one counts.
		cov(t, 10, "Agence Nord", true, rec, Zone{LevelRegion, "32"}, Zone{LevelEPCI, "200093201"}),
		// Same zone level and name as referent 4: the id decides.
		cov(t, 11, "CMA Nord", true, rec, Zone{LevelDepartement, "59"}),
	}
	for _, tc := range []struct {
		name             string
		commune, subject string
		want             []string
		wantIDs          []uuid.UUID
	}{
		{"Lille recruitment", "59350", "recruitment",
			[]string{"Mairie de Lille", "Agence Nord", "CCI Grand Lille", "CMA Nord", "CMA Nord", "Région HdF", "France Travail national"},
			[]uuid.UUID{mustID(t, 5), mustID(t, 10), mustID(t, 3), mustID(t, 4), mustID(t, 11), mustID(t, 1), mustID(t, 2)}},
		{"Roubaix recruitment", "59512", "recruitment",
			[]string{"Agence Nord", "CCI Grand Lille", "CMA Nord", "CMA Nord", "Région HdF", "France Travail national"}, nil},
		{"Lille export", "59350", "export", []string{"Export Nord"}, nil},
		{"Lille training", "59350", "training", []string{"France Travail national"}, nil},
		{"Arras recruitment", "62041", "recruitment", []string{"Pas-de-Calais", "Agence Nord", "Région HdF", "France Travail national"}, nil},
		{"Paris recruitment", "75056", "recruitment", []string{"CCI Paris", "France Travail national"}, nil},
		{"Ajaccio recruitment", "2A004", "recruitment", []string{"France Travail national"}, nil},
		{"unknown commune", "00000", "recruitment", []string{}, nil},
		{"unknown subject", "59350", "astrology", []string{}, nil},
	} {
		got := Route(g, referents, tc.commune, tc.subject)
		if !reflect.DeepEqual(names(got), tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, names(got), tc.want)
		}
		if tc.wantIDs != nil {
			var ids []uuid.UUID
			for _, c := range got {
				ids = append(ids, c.ReferentID)
			}
			if !reflect.DeepEqual(ids, tc.wantIDs) {
				t.Errorf("%s: ids %v, want %v", tc.name, ids, tc.wantIDs)
			}
		}
	}
	// The order does not depend on the input's.
	rev := make([]Coverage, len(referents))
	for i, r := range referents {
		rev[len(referents)-1-i] = r
	}
	if a, b := Route(g, referents, "59350", "recruitment"), Route(nil, rev, "59350", "recruitment"); !reflect.DeepEqual(a, b) {
		t.Fatalf("order depends on input order:\n%v\n%v", names(a), names(b))
	}
}

func TestMatchRefs(t *testing.T) {
	t.Parallel()
	got := MatchRefs([]Coverage{cov(t, 1, "a", true, nil), cov(t, 2, "b", true, nil)})
	if !reflect.DeepEqual(got, refs(t, 1, 2)) {
		t.Fatalf("MatchRefs %v", got)
	}
}

func BenchmarkRoute(b *testing.B) {
	g := DefaultGeography()
	var referents []Coverage
	deps := g.Departements()
	for i := 0; i < 2000; i++ {
		d := deps[i%len(deps)]
		referents = append(referents, Coverage{
			ReferentID: uuid.New(), Name: d.Name, Active: true,
			Subjects: []string{Subjects()[i%len(Subjects())].Code, "recruitment"},
			Zones:    []Zone{{Level: LevelDepartement, Code: d.Code}},
		})
	}
	for b.Loop() {
		if len(Route(g, referents, "59350", "recruitment")) == 0 {
			b.Fatal("no referent for Lille")
		}
	}
}
