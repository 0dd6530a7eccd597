package projections

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// plainState has needState's fields and tags without its MarshalJSON.
type plainState needState

// The hand-written encoder writes what encoding/json writes from the tags,
// byte for byte, and what it writes decodes back to the same state.
func TestNeedStateJSONMatchesEncodingJSON(t *testing.T) {
	states := []*needState{
		{ID: uuid.New(), AdvisorID: uuid.New(), CapturedAt: 1},
		{ID: uuid.New(), SIRET: "73282932000074", CompanyName: "Dupont & Fils <\"SARL\"> \\ é\u2028\u2029\x01\n\t\b\f\r\x7f",
			Commune: "59350", EPCI: "200093201", Departement: "59", Region: "32", Subject: "recruitment",
			Theme: "rh", AdvisorID: uuid.New(), ContactKeyID: "key-1", Erased: true, CapturedAt: -5,
			ForwardedAt: 2, FirstTakenAt: 3, ClosedAt: 4, AbandonedAt: 5, Abandoned: true, Reminders: 2,
			LastReminder: "day21", LastRemindAt: 9, Version: 12,
			Matches: []matchState{
				{ReferentID: uuid.New(), OrganisationID: uuid.New(), Status: domain.MatchQuo, SentAt: 2, UpdatedAt: 2},
				{ReferentID: uuid.New(), OrganisationID: uuid.New(), Status: domain.MatchTakingCare, SentAt: 2,
					TakenAt: 3, ClosedAt: 4, UpdatedAt: 5},
			}},
		{ID: uuid.New(), CompanyName: "bad \xff utf-8 \xe2\x82", AdvisorID: uuid.New()},
	}
	for _, s := range states {
		want, err := json.Marshal((*plainState)(s))
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("appendJSON:\n got  %s\n want %s", got, want)
		}
		var back needState
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if s.CompanyName == back.CompanyName && !reflect.DeepEqual(&back, s) {
			t.Fatalf("round trip: got %+v, want %+v", back, *s)
		}
	}
}
