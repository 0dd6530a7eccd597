package stats

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections/needfold"
)

// A need's alert goes through the stored state; states of version 1 read
// back as alert none; flags beyond those refuse the state.
func TestStatsStateKeepsTheAlert(t *testing.T) {
	t.Parallel()
	for _, a := range []string{sfF1, sfF2, sfNone} {
		s := &needfold.State{ID: uuid.New(), Departement: "59", Region: "32", Subject: "export", Abandoned: a == sfF2, SFAlert: a}
		back := mustDecodeState(t, appendState(nil, s))
		if back.SFAlert != a || back.Abandoned != s.Abandoned {
			t.Fatalf("alert %s, abandoned %v: read back %s, %v", a, s.Abandoned, back.SFAlert, back.Abandoned)
		}
	}
	raw := appendState(nil, &needfold.State{ID: uuid.New(), Abandoned: true})
	const flagsAt = 1 + 16 + 1 + 1 + 1 + 1 // version, id, three empty strings, captured_at 0
	if raw[flagsAt] != 1 {
		t.Fatalf("flags byte at %d is %d", flagsAt, raw[flagsAt])
	}
	v1 := append([]byte{}, raw...)
	v1[0] = statsStateV1
	if s := mustDecodeState(t, v1); s.SFAlert != sfNone || !s.Abandoned {
		t.Fatalf("version 1: %+v", s)
	}
	for _, bad := range []struct {
		version, flags byte
	}{{statsStateV1, 2}, {statsStateV2, 7}, {statsStateV2, 8}, {3, 0}} {
		b := append([]byte{}, raw...)
		b[0], b[flagsAt] = bad.version, bad.flags
		if _, err := decodeState(b); !errors.Is(err, errBadState) {
			t.Errorf("version %d flags %d: %v", bad.version, bad.flags, err)
		}
	}
}

func TestSFTracker(t *testing.T) {
	t.Parallel()
	var tr sfTracker
	head := domain.SignauxFaiblesListImported{ImportID: uuid.New(), Period: "2026-03", Parts: 2, Lines: 2}
	part := func(n int, ls ...domain.SFLine) domain.SignauxFaiblesLinesRecorded {
		return domain.SignauxFaiblesLinesRecorded{ImportID: head.ImportID, Part: n, Lines: ls}
	}
	if err := tr.apply(part(1), 2); !errors.Is(err, domain.ErrEventMismatch) {
		t.Fatalf("lines before their header: %v", err)
	}
	if err := tr.apply(head, 1); err != nil {
		t.Fatal(err)
	}
	if err := tr.apply(head, 1); !errors.Is(err, domain.ErrEventMismatch) {
		t.Fatalf("a header before the parts of the last: %v", err)
	}
	if err := tr.apply(part(2), 2); !errors.Is(err, domain.ErrEventMismatch) {
		t.Fatalf("part 2 first: %v", err)
	}
	if err := tr.apply(part(1, domain.SFLine{SIREN: "73282932", Alert: domain.SFAlertF1}), 2); !errors.Is(err, domain.ErrEventMismatch) {
		t.Fatalf("a short SIREN: %v", err)
	}
	tr.building.seen = 0
	for n, l := range []domain.SFLine{{SIREN: "732829320", Alert: domain.SFAlertF1}, {SIREN: "552100554", Alert: domain.SFAlertF2}} {
		if err := tr.apply(part(n+1, l), int64(n+2)); err != nil {
			t.Fatal(err)
		}
	}
	if tr.building != nil || tr.applying == nil || len(tr.applying.alerts) != 2 {
		t.Fatalf("tracker %+v", tr)
	}
	for siret, want := range map[string]string{"73282932000074": sfF1, "55210055400013": sfF2, "44306184100015": sfNone, "": sfNone} {
		s := &needfold.State{SIRET: siret}
		tr.classify(s)
		if s.SFAlert != want {
			t.Errorf("%q: %s, want %s", siret, s.SFAlert, want)
		}
	}
	// An earlier period's list, imported later, does not apply.
	old := domain.SignauxFaiblesListImported{ImportID: uuid.New(), Period: "2026-02", Parts: 1, Lines: 1}
	if err := tr.apply(old, 1); err != nil {
		t.Fatal(err)
	}
	if err := tr.apply(domain.SignauxFaiblesLinesRecorded{ImportID: old.ImportID, Part: 1, Lines: []domain.SFLine{{SIREN: "443061841", Alert: domain.SFAlertF1}}}, 2); err != nil {
		t.Fatal(err)
	}
	if tr.applying.period != "2026-03" {
		t.Fatalf("applying %s", tr.applying.period)
	}
	m, err := decodeAlerts(encodeAlerts(tr.applying.alerts))
	if err != nil || len(m) != 2 || m[732829320] != 1 || m[552100554] != 2 {
		t.Fatalf("alerts round trip %v, %v", m, err)
	}
	for _, bad := range [][]byte{{1, 2, 3}, {0, 0, 0, 1, 3}} {
		if _, err := decodeAlerts(bad); !errors.Is(err, errBadAlerts) {
			t.Errorf("decodeAlerts(%v): %v", bad, err)
		}
	}
}
