package stats

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections/needfold"
)

// What statistics store of a state reads back into a state that writes
// the same, contributes the same figures and folds later events the same
// way as the full state; it keeps no contact key nor company name.
func TestStatsStateKeepsWhatStatisticsRead(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Geography: domain.DefaultGeography(), Location: paris,
		TakeChargeWindows: [2]time.Duration{72 * time.Hour, 120 * time.Hour}}
	org, ref1, ref2 := uuid.New(), uuid.New(), uuid.New()
	full := &needfold.State{ID: uuid.New(), SIRET: "73282932000074", CompanyName: "Dupont", Commune: "59350",
		Departement: "59", Region: "32", Subject: "recruitment", Theme: "rh", AdvisorID: uuid.New(),
		ContactKeyID: "key-1", CapturedAt: 1_700_000_000_000_000, ForwardedAt: 1_700_000_100_000_000, Version: 3,
		Matches: []needfold.Match{
			{ReferentID: ref1, OrganisationID: org, Status: domain.MatchQuo, SentAt: 1_700_000_100_000_000, UpdatedAt: 1_700_000_100_000_000},
			{ReferentID: ref2, OrganisationID: uuid.New(), Status: domain.MatchTakingCare, SentAt: 1_700_000_100_000_000,
				TakenAt: 1_700_000_200_000_000, UpdatedAt: 1_700_000_200_000_000},
		}}
	raw := appendState(nil, full)
	for _, secret := range []string{"key-1", "Dupont", "73282932000074"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("the statistics state keeps %q: %q", secret, raw)
		}
	}
	back := mustDecodeState(t, raw)
	p := &projection{cfg: cfg}
	at := func(us int64) domain.Meta { return domain.Meta{At: time.UnixMicro(us)} }
	evs := []domain.MatchStatusChanged{
		{Meta: at(1_700_000_300_000_000), NeedID: full.ID, ReferentID: ref1, From: domain.MatchQuo, To: domain.MatchTakingCare},
		{Meta: at(1_700_000_400_000_000), NeedID: full.ID, ReferentID: ref1, From: domain.MatchTakingCare, To: domain.MatchDone},
	}
	for step := 0; ; step++ {
		if got, want := appendState(nil, back), appendState(nil, full); !bytes.Equal(got, want) {
			t.Fatalf("step %d: read back writes\n %x\nwant\n %x", step, got, want)
		}
		if got, want := p.contribute(nil, back), p.contribute(nil, full); !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d: contributions %+v, want %+v", step, got, want)
		}
		if step == len(evs) {
			break
		}
		if err := full.Apply(evs[step], int64(4+step)); err != nil {
			t.Fatal(err)
		}
		if err := back.Apply(evs[step], int64(4+step)); err != nil {
			t.Fatal(err)
		}
	}
	ev := evs[0]
	if err := back.Apply(ev, 6); err == nil {
		t.Fatal("the read-back state took a transition from a status it left")
	}
}

func mustDecodeState(t *testing.T, raw []byte) *needfold.State {
	t.Helper()
	s, err := decodeState(raw)
	if err != nil {
		t.Fatalf("decode %x: %v", raw, err)
	}
	return s
}

// A state that does not decode is an error, never a half-read state.
func TestStatsStateRefusesMalformed(t *testing.T) {
	t.Parallel()
	good := appendState(nil, &needfold.State{ID: uuid.New(), Departement: "59", Region: "32", Subject: "recruitment",
		CapturedAt: 1_700_000_000_000_000, Version: 2,
		Matches: []needfold.Match{{ReferentID: uuid.New(), OrganisationID: uuid.New(), Status: domain.MatchQuo,
			SentAt: 1_700_000_100_000_000}}})
	tests := []struct {
		name string
		raw  []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{9}, good[1:]...)},
		{"truncated id", good[:10]},
		{"truncated match", good[:len(good)-3]},
		{"trailing bytes", append(append([]byte(nil), good...), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if s, err := decodeState(tt.raw); !errors.Is(err, errBadState) {
				t.Fatalf("decode %x = %+v, %v; want errBadState", tt.raw, s, err)
			}
		})
	}
}

// Whatever the bytes, decoding returns a state or an error without
// panicking, and a state it returns encodes to bytes that decode to the
// same state (varints may come back shorter than they were read).
func FuzzDecodeStatsState(f *testing.F) {
	f.Add(appendState(nil, &needfold.State{ID: uuid.New(), Region: "32", CapturedAt: 5, Version: 1,
		Matches: []needfold.Match{{Status: domain.MatchDone, SentAt: 7, TakenAt: 9}}}))
	f.Add([]byte{statsStateV1})
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := decodeState(raw)
		if err != nil {
			return
		}
		again := mustDecodeState(t, appendState(nil, s))
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("decode %x: %+v, then encode and decode: %+v", raw, s, again)
		}
	})
}
