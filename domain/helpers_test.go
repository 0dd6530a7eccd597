package domain

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// t0 is the instant test histories start from.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var (
	advisor   = Actor{ID: uuid.MustParse("0190d5a2-0000-7000-8000-000000000001"), Role: RoleAdvisor}
	referent  = Actor{ID: uuid.MustParse("0190d5a2-0000-7000-8000-000000000002"), Role: RoleReferent}
	animateur = Actor{ID: uuid.MustParse("0190d5a2-0000-7000-8000-000000000003"), Role: RoleAnimateur}
	system    = Actor{ID: uuid.Nil, Role: RoleSystem}
)

// mustID returns a fixed id numbered n, so that orders are predictable.
func mustID(t testing.TB, n int) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	id[0] = 0x01
	id[6] = 0x70 // version 7
	id[8] = 0x80 // RFC 4122 variant
	id[14] = byte(n >> 8)
	id[15] = byte(n)
	if id == uuid.Nil {
		t.Fatal("nil id")
	}
	return id
}

func day0(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

func validCapture(t testing.TB) Capture {
	t.Helper()
	return Capture{
		SIRET:       "732 829 320 00074",
		CompanyName: "  Boulangerie Dupont ",
		Commune:     "59350",
		Subject:     "recruitment",
		Description: "Cherche deux boulangers.",
		Contact:     SealedContact{KeyID: "key-1", Ciphertext: []byte{1, 2, 3}},
		AdvisorID:   advisor.ID,
	}
}

// mustCaptured returns a need captured at t0.
func mustCaptured(t testing.TB) *Need {
	t.Helper()
	n := NewNeed(mustID(t, 1000))
	if err := n.Capture(validCapture(t), DefaultGeography(), advisor, t0); err != nil {
		t.Fatalf("capture: %v", err)
	}
	return n
}

// mustForwarded returns a need captured at t0 and forwarded at t0 + 1h to
// referents numbered 1..k (organisation 100+i).
func mustForwarded(t testing.TB, k int) *Need {
	t.Helper()
	n := mustCaptured(t)
	if err := n.Forward(refs(t, 1, k), advisor, t0.Add(time.Hour)); err != nil {
		t.Fatalf("forward: %v", err)
	}
	return n
}

func refs(t testing.TB, from, to int) []MatchRef {
	t.Helper()
	var out []MatchRef
	for i := from; i <= to; i++ {
		out = append(out, MatchRef{ReferentID: mustID(t, i), OrganisationID: mustID(t, 100+i)})
	}
	return out
}

func mustDo(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
