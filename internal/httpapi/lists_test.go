package httpapi

import (
	"testing"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

func TestListScope(t *testing.T) {
	t.Parallel()
	user, ref := uuid.New(), uuid.New()
	zones := []domain.Zone{{Level: domain.LevelDepartement, Code: "59"}}
	cases := []struct {
		name     string
		p        app.Principal
		ok       bool
		advisor  uuid.UUID
		referent uuid.UUID
		zones    []domain.Zone // nil: no zone restriction
	}{
		{"admin sees all", app.Principal{UserID: user, Role: domain.RoleAdmin}, true, uuid.Nil, uuid.Nil, nil},
		{"advisor sees theirs", app.Principal{UserID: user, Role: domain.RoleAdvisor}, true, user, uuid.Nil, nil},
		{"referent sees their matches", app.Principal{UserID: user, Role: domain.RoleReferent, ReferentID: ref}, true, uuid.Nil, ref, nil},
		{"referent without referent id", app.Principal{UserID: user, Role: domain.RoleReferent}, false, uuid.Nil, uuid.Nil, nil},
		{"animateur sees their zones", app.Principal{UserID: user, Role: domain.RoleAnimateur, Territories: zones}, true, uuid.Nil, uuid.Nil, zones},
		{"animateur without zones sees nothing", app.Principal{UserID: user, Role: domain.RoleAnimateur}, true, uuid.Nil, uuid.Nil, []domain.Zone{}},
		{"funder lists no need", app.Principal{UserID: user, Role: domain.RoleFunder}, false, uuid.Nil, uuid.Nil, nil},
		{"system lists no need", app.Principal{UserID: user, Role: domain.RoleSystem}, false, uuid.Nil, uuid.Nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sc, ok := listScope(c.p)
			if ok != c.ok {
				t.Fatalf("ok %v, want %v", ok, c.ok)
			}
			if !ok {
				return
			}
			if sc.advisor != c.advisor || sc.referent != c.referent {
				t.Fatalf("scope %+v", sc)
			}
			if (sc.zones == nil) != (c.zones == nil) || len(sc.zones) != len(c.zones) {
				t.Fatalf("zones %#v, want %#v", sc.zones, c.zones)
			}
		})
	}
}
