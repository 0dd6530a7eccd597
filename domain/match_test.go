package domain

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// allowedMoves is DESIGN.md's table, written out again as "from>to" so that
// the test does not trust the code's own table.
var allowedMoves = map[string]bool{
	"quo>taking_care":                true,
	"quo>not_for_me":                 true,
	"not_for_me>quo":                 true,
	"taking_care>done":               true,
	"taking_care>done_no_help":       true,
	"taking_care>done_not_reachable": true,
	"taking_care>quo":                true,
	"done>quo":                       true,
	"done_no_help>quo":               true,
	"done_not_reachable>quo":         true,
}

// statusesOnly is the list of statuses, written independently.
var statusesOnly = []MatchStatus{"quo", "taking_care", "done", "done_no_help", "done_not_reachable", "not_for_me"}

// mustMatchIn returns a need with one match (referent 1) brought to status s
// through allowed transitions.
func mustMatchIn(t *testing.T, s MatchStatus) *Need {
	t.Helper()
	n := mustForwarded(t, 1)
	at := t0.Add(2 * time.Hour)
	path := map[MatchStatus][]MatchStatus{
		MatchQuo:              nil,
		MatchTakingCare:       {MatchTakingCare},
		MatchNotForMe:         {MatchNotForMe},
		MatchDone:             {MatchTakingCare, MatchDone},
		MatchDoneNoHelp:       {MatchTakingCare, MatchDoneNoHelp},
		MatchDoneNotReachable: {MatchTakingCare, MatchDoneNotReachable},
	}[s]
	for _, to := range path {
		mustDo(t, n.ChangeMatch(mustID(t, 1), to, "", referent, at))
		at = at.Add(time.Hour)
	}
	if m, _ := n.Match(mustID(t, 1)); m.Status != s {
		t.Fatalf("match is %s, want %s", m.Status, s)
	}
	return n
}

func TestEveryTransition(t *testing.T) {
	t.Parallel()
	if got := len(MatchStatuses()); got != 6 {
		t.Fatalf("%d statuses, want 6", got)
	}
	allowed := 0
	for _, from := range statusesOnly {
		for _, to := range statusesOnly {
			name := fmt.Sprintf("%s>%s", from, to)
			want := allowedMoves[name]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				if got := CanTransition(from, to); got != want {
					t.Fatalf("CanTransition = %v, want %v", got, want)
				}
				n := mustMatchIn(t, from)
				v := n.Version()
				err := n.ChangeMatch(mustID(t, 1), to, "because", referent, day0(1))
				if want {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					m, _ := n.Match(mustID(t, 1))
					last := m.Transitions[len(m.Transitions)-1]
					if m.Status != to || last.From != from || last.To != to || last.Comment != "because" || last.By != referent || !last.At.Equal(day0(1)) {
						t.Fatalf("match after: %+v", m)
					}
					if n.Version() != v+1 {
						t.Fatalf("version %d, want %d", n.Version(), v+1)
					}
					return
				}
				var te *TransitionError
				if !errors.As(err, &te) || te.From != from || te.To != to || !errors.Is(err, ErrInvalidTransition) {
					t.Fatalf("error %v, want TransitionError %s to %s", err, from, to)
				}
				if msg := fmt.Sprintf("cannot go from %s to %s", from, to); err.Error() != msg {
					t.Fatalf("message %q, want %q", err, msg)
				}
				if n.Version() != v {
					t.Fatalf("a refused command changed the version")
				}
			})
			if want {
				allowed++
			}
		}
	}
	if allowed != 10 {
		t.Fatalf("%d allowed moves, DESIGN.md has 10", allowed)
	}
}

func TestCheckTransitionUnknownStatus(t *testing.T) {
	t.Parallel()
	if err := CheckTransition("lost", MatchQuo); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("error %v", err)
	}
	if MatchStatus("lost").Valid() {
		t.Fatal("unknown status valid")
	}
}

// oracleStatus is DESIGN.md's seven rules, written as plainly as possible.
func oracleStatus(ms []MatchStatus, abandoned bool) NeedStatus {
	if abandoned {
		return "abandoned"
	}
	if len(ms) == 0 {
		return "captured"
	}
	count := map[MatchStatus]int{}
	for _, m := range ms {
		count[m]++
	}
	if count["done"] > 0 {
		return "done"
	}
	if count["done_no_help"] > 0 {
		return "done_no_help"
	}
	if count["done_not_reachable"] > 0 {
		return "done_not_reachable"
	}
	if count["taking_care"] > 0 {
		return "taking_care"
	}
	if count["quo"] > 0 {
		return "quo"
	}
	return "not_for_me"
}

// combos returns every sequence of 0 to max statuses.
func combos(max int) [][]MatchStatus {
	out := [][]MatchStatus{nil}
	prev := [][]MatchStatus{nil}
	for k := 1; k <= max; k++ {
		var next [][]MatchStatus
		for _, p := range prev {
			for _, s := range statusesOnly {
				c := append(append([]MatchStatus(nil), p...), s)
				next = append(next, c)
			}
		}
		out = append(out, next...)
		prev = next
	}
	return out
}

func TestDeriveStatusEveryCombination(t *testing.T) {
	t.Parallel()
	all := combos(4)
	if want := 1 + 6 + 36 + 216 + 1296; len(all) != want {
		t.Fatalf("%d combinations, want %d", len(all), want)
	}
	seen := map[NeedStatus]bool{}
	for _, ms := range all {
		for _, abandoned := range []bool{false, true} {
			got, want := DeriveStatus(ms, abandoned), oracleStatus(ms, abandoned)
			if got != want {
				t.Fatalf("DeriveStatus(%v, %v) = %s, want %s", ms, abandoned, got, want)
			}
			seen[got] = true
		}
	}
	if len(seen) != 8 {
		t.Fatalf("only %d need statuses reached: %v", len(seen), seen)
	}
}

// TestNeedStatusFollowsMatches drives real needs, through commands, into
// every combination of up to 4 match statuses and checks Status (which does
// not call DeriveStatus) against the oracle, abandoned included.
func TestNeedStatusFollowsMatches(t *testing.T) {
	t.Parallel()
	for _, ms := range combos(4) {
		n := mustCaptured(t)
		if len(ms) > 0 {
			mustDo(t, n.Forward(refs(t, 1, len(ms)), advisor, t0.Add(time.Hour)))
		}
		for i, s := range ms {
			id := mustID(t, i+1)
			switch {
			case s == MatchQuo:
			case s == MatchNotForMe || s == MatchTakingCare:
				mustDo(t, n.ChangeMatch(id, s, "", referent, day0(1)))
			default:
				mustDo(t, n.TakeCharge(id, referent, day0(1)))
				mustDo(t, n.Close(id, s, "", referent, day0(2)))
			}
		}
		if got, want := n.Status(), oracleStatus(ms, false); got != want {
			t.Fatalf("matches %v: Status %s, want %s", ms, got, want)
		}
		if n.engaged() {
			continue
		}
		mustDo(t, n.Abandon("personne", animateur, day0(50)))
		if got := n.Status(); got != NeedAbandonedStatus {
			t.Fatalf("matches %v abandoned: Status %s", ms, got)
		}
	}
}

func TestLabels(t *testing.T) {
	t.Parallel()
	for s, want := range map[MatchStatus]string{
		"quo": "En attente", "taking_care": "Prise en charge", "done": "Aide proposée",
		"done_no_help": "Pas d'aide disponible", "done_not_reachable": "Entreprise injoignable", "not_for_me": "Refusé", "odd": "odd",
	} {
		if got := s.Label(); got != want {
			t.Errorf("%s.Label() = %q, want %q", s, got, want)
		}
	}
	for s, want := range map[NeedStatus]string{"captured": "Besoin saisi", "abandoned": "Abandonné", "done": "Aide proposée"} {
		if got := s.Label(); got != want {
			t.Errorf("%s.Label() = %q, want %q", s, got, want)
		}
	}
	if len(NeedStatuses()) != 8 {
		t.Fatalf("%d need statuses", len(NeedStatuses()))
	}
	for _, s := range NeedStatuses() {
		want := s == "done" || s == "done_no_help" || s == "done_not_reachable"
		if s.Closed() != want {
			t.Errorf("%s.Closed() = %v", s, s.Closed())
		}
	}
}
