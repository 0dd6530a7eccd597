package domain

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// FuzzNeedCommands runs a random program of commands on a need and checks
// the invariants that every history must keep, whatever was refused on the
// way: the fold of the recorded events is the need itself, the status is
// DeriveStatus of the matches, every match's transitions chain from quo to
// its status along DESIGN.md's table, and refusals are typed errors.
func FuzzNeedCommands(f *testing.F) {
	f.Add([]byte{1, 0, 2, 0, 1, 2, 1, 2, 3, 0, 3, 5, 7, 0})
	f.Add([]byte{1, 3, 2, 3, 0, 5, 6, 4, 2, 1, 1})
	f.Add([]byte{6, 1, 0, 2, 0, 0, 7, 7, 5, 4})
	f.Fuzz(func(t *testing.T, program []byte) {
		n := mustCaptured(t)
		at := t0
		next := func(i *int) int {
			if *i >= len(program) {
				return 0
			}
			v := int(program[*i])
			*i++
			return v
		}
		statuses := MatchStatuses()
		for i := 0; i < len(program); {
			at = at.Add(time.Duration(next(&i)) * time.Hour)
			ref := mustID(t, 1+next(&i)%4)
			var err error
			switch op := next(&i) % 8; op {
			case 0:
				err = n.Forward([]MatchRef{{ReferentID: ref, OrganisationID: mustID(t, 100)}}, advisor, at)
			case 1, 2:
				err = n.ChangeMatch(ref, statuses[next(&i)%len(statuses)], "", referent, at)
			case 3:
				err = n.Comment("c", advisor, at)
			case 4:
				err = n.Remind(ReminderPoke, animateur, at)
			case 5:
				err = n.Abandon("r", animateur, at)
			case 6:
				err = n.EraseContact(system, at)
			case 7:
				err = n.Reopen(ref, "", animateur, at)
			}
			if err != nil && !isRefusal(err) {
				t.Fatalf("untyped refusal: %v", err)
			}
		}
		checkNeedInvariants(t, n)
	})
}

func isRefusal(err error) bool {
	for _, target := range []error{ErrAlreadyMatched, ErrMatchNotFound, ErrInvalidTransition, ErrAbandonRefused,
		ErrAlreadyErased, ErrNeedAbandoned, ErrNotForwarded, ErrValidation} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func checkNeedInvariants(t *testing.T, n *Need) {
	t.Helper()
	events := n.Changes()
	if int64(len(events)) != n.Version() {
		t.Fatalf("%d changes, version %d", len(events), n.Version())
	}
	folded, err := FoldNeed(n.ID(), events)
	if err != nil {
		t.Fatalf("fold of the recorded events: %v", err)
	}
	cleared := *n
	cleared.changes = nil
	if !reflect.DeepEqual(folded, &cleared) {
		t.Fatalf("fold differs from the commanded need")
	}
	var ss []MatchStatus
	for _, m := range n.Matches() {
		ss = append(ss, m.Status)
		from := MatchQuo
		for _, tr := range m.Transitions {
			if tr.From != from || !CanTransition(tr.From, tr.To) {
				t.Fatalf("match %s: transition %s to %s after %s", m.ReferentID, tr.From, tr.To, from)
			}
			from = tr.To
		}
		if from != m.Status {
			t.Fatalf("match %s ends in %s, status %s", m.ReferentID, from, m.Status)
		}
		if (m.ClosedAt != nil) != m.Status.Closed() {
			t.Fatalf("match %s: ClosedAt %v with status %s", m.ReferentID, m.ClosedAt, m.Status)
		}
	}
	_, abandoned := n.AbandonedAt()
	if got, want := n.Status(), DeriveStatus(ss, abandoned); got != want {
		t.Fatalf("Status %s, DeriveStatus %s", got, want)
	}
	if _, ok := n.ClosedAt(); ok != n.Status().Closed() {
		t.Fatalf("ClosedAt set %v with status %s", ok, n.Status())
	}
	if !n.Waiting() && n.Basket(n.LastEventAt().Add(1000*day), DefaultThresholds()) != BasketNone {
		t.Fatal("a need that is not waiting is in a basket")
	}
}
