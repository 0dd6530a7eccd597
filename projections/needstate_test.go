package projections

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

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

// What statistics store of a state reads back into a state that writes
// the same, contributes the same figures and folds later events the same
// way as the full state; it keeps no contact key nor company name.
func TestStatsJSONKeepsWhatStatisticsRead(t *testing.T) {
	opts := Options{}
	if err := opts.defaults(); err != nil {
		t.Fatal(err)
	}
	org, ref1, ref2 := uuid.New(), uuid.New(), uuid.New()
	full := &needState{ID: uuid.New(), SIRET: "73282932000074", CompanyName: "Dupont", Commune: "59350",
		Departement: "59", Region: "32", Subject: "recruitment", Theme: "rh", AdvisorID: uuid.New(),
		ContactKeyID: "key-1", CapturedAt: 1_700_000_000_000_000, ForwardedAt: 1_700_000_100_000_000, Version: 3,
		Matches: []matchState{
			{ReferentID: ref1, OrganisationID: org, Status: domain.MatchQuo, SentAt: 1_700_000_100_000_000, UpdatedAt: 1_700_000_100_000_000},
			{ReferentID: ref2, OrganisationID: uuid.New(), Status: domain.MatchTakingCare, SentAt: 1_700_000_100_000_000,
				TakenAt: 1_700_000_200_000_000, UpdatedAt: 1_700_000_200_000_000},
		}}
	raw := full.statsJSON()
	for _, secret := range []string{"key-1", "Dupont"} {
		if strings.Contains(raw, secret) {
			t.Fatalf("statsJSON keeps %q: %s", secret, raw)
		}
	}
	var back needState
	if err := json.Unmarshal([]byte(raw), &back); err != nil {
		t.Fatal(err)
	}
	p := &statsProjection{opts: &opts}
	at := func(us int64) domain.Meta { return domain.Meta{At: time.UnixMicro(us)} }
	evs := []domain.MatchStatusChanged{
		{Meta: at(1_700_000_300_000_000), NeedID: full.ID, ReferentID: ref1, From: domain.MatchQuo, To: domain.MatchTakingCare},
		{Meta: at(1_700_000_400_000_000), NeedID: full.ID, ReferentID: ref1, From: domain.MatchTakingCare, To: domain.MatchDone},
	}
	for step := 0; ; step++ {
		if got := back.statsJSON(); got != full.statsJSON() {
			t.Fatalf("step %d: read back writes\n %s\nwant\n %s", step, got, full.statsJSON())
		}
		if got, want := p.contribute(nil, &back), p.contribute(nil, full); !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d: contributions %+v, want %+v", step, got, want)
		}
		if step == len(evs) {
			break
		}
		if err := full.apply(evs[step], int64(4+step)); err != nil {
			t.Fatal(err)
		}
		if err := back.apply(evs[step], int64(4+step)); err != nil {
			t.Fatal(err)
		}
	}
	ev := evs[0]
	if err := back.apply(ev, 6); err == nil {
		t.Fatal("the read-back state took a transition from a status it left")
	}
}
