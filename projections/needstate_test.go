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
