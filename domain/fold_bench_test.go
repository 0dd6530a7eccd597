package domain

import (
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
