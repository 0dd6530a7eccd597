package domain

import (
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkFoldNeed folds a typical history: capture, forward to three
// referents, a reminder, a decline, a take-charge, a comment, a close.
func BenchmarkFoldNeed(b *testing.B) {
	n := mustForwarded(b, 3)
	mustDo(b, n.Remind(ReminderPoke, animateur, day0(9)))
	mustDo(b, n.Decline(mustID(b, 1), "non", referent, day0(10)))
	mustDo(b, n.TakeCharge(mustID(b, 2), referent, day0(11)))
	mustDo(b, n.Comment("rdv", referent, day0(12)))
	mustDo(b, n.Close(mustID(b, 2), MatchDone, "", referent, day0(20)))
	events := n.Changes()
	b.ResetTimer()
	for b.Loop() {
		if _, err := FoldNeed(n.ID(), events); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeFoldNeed adds the JSON decoding a load from the store pays.
func BenchmarkDecodeFoldNeed(b *testing.B) {
	n := mustForwarded(b, 3)
	mustDo(b, n.TakeCharge(mustID(b, 2), referent, t0.Add(48*time.Hour)))
	type stored struct {
		typ  string
		ver  int
		data []byte
	}
	var rows []stored
	for _, e := range n.Changes() {
		typ, ver, data, err := Marshal(e)
		mustDo(b, err)
		rows = append(rows, stored{typ, ver, data})
	}
	for b.Loop() {
		f := NewNeed(n.ID())
		for _, r := range rows {
			e, err := Unmarshal(r.typ, r.ver, r.data)
			if err != nil {
				b.Fatal(err)
			}
			if err := f.Apply(e); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// typicalEvents are the events a rebuild decodes most, at their usual sizes:
// a capture with its sealed contact (about 500 bytes of JSON), a forward to
// three referents, a take-charge and a comment.
func typicalEvents(b testing.TB) []Event {
	b.Helper()
	m := Meta{At: time.Date(2026, 3, 2, 9, 30, 15, 123456789, time.UTC), By: advisor}
	// A sealed contact: nonce, a JSON of name, email and phone, GCM tag.
	cipher := make([]byte, 12+96+16)
	for i := range cipher {
		cipher[i] = byte(i * 37)
	}
	return []Event{
		NeedCaptured{Meta: m, NeedID: mustID(b, 1), SIRET: "73282932000074", CompanyName: "Boulangerie du Beffroi",
			Commune: "59350", Subject: "recruitment",
			Description: "Recruter deux boulangers pour la saison, contrat de six mois, aide à l'embauche souhaitée.",
			Contact:     SealedContact{KeyID: "0190d5a2-0000-7000-8000-00000000c0de", Ciphertext: cipher}, AdvisorID: advisor.ID},
		NeedForwarded{Meta: m, NeedID: mustID(b, 1), Referents: refs(b, 3, 5)},
		MatchStatusChanged{Meta: Meta{At: m.At, By: referent}, NeedID: mustID(b, 1), ReferentID: mustID(b, 3), From: MatchQuo, To: MatchTakingCare},
		CommentAdded{Meta: Meta{At: m.At, By: referent}, NeedID: mustID(b, 1), Text: "Rendez-vous pris le 12 mars avec le gérant."},
	}
}

// BenchmarkCodecUnmarshal decodes each typical event through Unmarshal.
func BenchmarkCodecUnmarshal(b *testing.B) {
	for _, e := range typicalEvents(b) {
		typ, ver, data, err := Marshal(e)
		mustDo(b, err)
		b.Run(typ, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Unmarshal(typ, ver, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCodecMarshal encodes each typical event through Marshal.
func BenchmarkCodecMarshal(b *testing.B) {
	for _, e := range typicalEvents(b) {
		b.Run(e.EventType(), func(b *testing.B) {
			for b.Loop() {
				if _, _, _, err := Marshal(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCodecUnmarshalJSON decodes the same events with encoding/json
// only (the fallback of Unmarshal), for a ratio measured in the same run.
func BenchmarkCodecUnmarshalJSON(b *testing.B) {
	for _, e := range typicalEvents(b) {
		typ, _, data, err := Marshal(e)
		mustDo(b, err)
		dec := decoders[typ]
		b.Run(typ, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := dec(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCodecMarshalJSON encodes the same events with json.Marshal.
func BenchmarkCodecMarshalJSON(b *testing.B) {
	for _, e := range typicalEvents(b) {
		b.Run(e.EventType(), func(b *testing.B) {
			for b.Loop() {
				if _, err := json.Marshal(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnmarshalNeedCapturedV1 decodes a capture of schema version 1,
// which the upcaster to version 2 rewrites first: what a log written
// before NAF codes costs each read (compare with
// BenchmarkCodecUnmarshal/NeedCaptured).
func BenchmarkUnmarshalNeedCapturedV1(b *testing.B) {
	data := []byte(needCapturedV1)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Unmarshal(TypeNeedCaptured, 1, data); err != nil {
			b.Fatal(err)
		}
	}
}
