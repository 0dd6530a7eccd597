package notify

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river/rivertype"

	"github.com/reso-fr/reso/domain"
)

var (
	t0        = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	needID    = uuid.MustParse("01000000-0000-7000-8000-000000000001")
	advisorID = uuid.MustParse("01000000-0000-7000-8000-000000000002")
	refA      = uuid.MustParse("01000000-0000-7000-8000-00000000000a")
	refB      = uuid.MustParse("01000000-0000-7000-8000-00000000000b")
	org       = uuid.MustParse("01000000-0000-7000-8000-0000000000ff")
	advisor   = domain.Actor{ID: advisorID, Role: domain.RoleAdvisor}
	refUserA  = domain.Actor{ID: uuid.MustParse("01000000-0000-7000-8000-0000000000aa"), Role: domain.RoleReferent}
)

// planOf folds evs, then plans the last one.
func planOf(t *testing.T, evs ...domain.Event) []string {
	t.Helper()
	before, err := domain.FoldNeed(needID, evs[:len(evs)-1])
	if err != nil {
		t.Fatal(err)
	}
	after, err := domain.FoldNeed(needID, evs)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	author := uuid.Nil
	if evs[len(evs)-1].Actor() == refUserA {
		author = refA
	}
	for _, d := range plan("cause", evs[len(evs)-1], before, after, author) {
		if d.Key != keyOf("cause", d.Kind, d.Role, d.To) || d.NeedID != needID || d.Version != int64(len(evs)) {
			t.Errorf("delivery %+v", d)
		}
		who := d.To.String()[len(d.To.String())-2:]
		out = append(out, string(d.Kind)+"→"+string(d.Role)+":"+who)
	}
	slices.Sort(out)
	return out
}

func TestPlan(t *testing.T) {
	t.Parallel()
	m := func(h int, by domain.Actor) domain.Meta {
		return domain.Meta{At: t0.Add(time.Duration(h) * time.Hour), By: by}
	}
	captured := domain.NeedCaptured{Meta: m(0, advisor), NeedID: needID, SIRET: "73282932000074", CompanyName: "B",
		Commune: "59350", Subject: "recruitment", Contact: domain.SealedContact{KeyID: "k", Ciphertext: []byte{1}}, AdvisorID: advisorID}
	forwarded := domain.NeedForwarded{Meta: m(1, advisor), NeedID: needID, Referents: []domain.MatchRef{{ReferentID: refA, OrganisationID: org}, {ReferentID: refB, OrganisationID: org}}}
	change := func(h int, ref uuid.UUID, from, to domain.MatchStatus) domain.MatchStatusChanged {
		return domain.MatchStatusChanged{Meta: m(h, refUserA), NeedID: needID, ReferentID: ref, From: from, To: to}
	}
	for _, tc := range []struct {
		name string
		evs  []domain.Event
		want []string
	}{
		{"capture", []domain.Event{captured}, nil},
		{"forward to two", []domain.Event{captured, forwarded}, []string{"forwarded→referent:0a", "forwarded→referent:0b"}},
		{"take charge", []domain.Event{captured, forwarded, change(2, refA, domain.MatchQuo, domain.MatchTakingCare)},
			[]string{"advisor_taken_charge→user:02", "taken_charge→contact:00"}},
		{"second referent takes charge", []domain.Event{captured, forwarded, change(2, refA, domain.MatchQuo, domain.MatchTakingCare),
			change(3, refB, domain.MatchQuo, domain.MatchTakingCare)}, []string{"advisor_taken_charge→user:02", "taken_charge→contact:00"}},
		{"take charge again after a reopening", []domain.Event{captured, forwarded, change(2, refA, domain.MatchQuo, domain.MatchTakingCare),
			change(3, refA, domain.MatchTakingCare, domain.MatchQuo), change(4, refA, domain.MatchQuo, domain.MatchTakingCare)},
			[]string{"taken_charge→contact:00"}},
		{"take charge after a reopened decline", []domain.Event{captured, forwarded, change(2, refA, domain.MatchQuo, domain.MatchNotForMe),
			change(3, refA, domain.MatchNotForMe, domain.MatchQuo), change(4, refA, domain.MatchQuo, domain.MatchTakingCare)},
			[]string{"advisor_taken_charge→user:02", "taken_charge→contact:00"}},
		{"the advisor's own take-charge", []domain.Event{captured, forwarded, domain.MatchStatusChanged{Meta: m(2, advisor), NeedID: needID,
			ReferentID: refA, From: domain.MatchQuo, To: domain.MatchTakingCare}}, []string{"taken_charge→contact:00"}},
		{"one declines", []domain.Event{captured, forwarded, change(2, refA, domain.MatchQuo, domain.MatchNotForMe)}, nil},
		{"reopen tells nobody", []domain.Event{captured, forwarded, change(2, refA, domain.MatchQuo, domain.MatchTakingCare),
			change(3, refA, domain.MatchTakingCare, domain.MatchQuo)}, nil},
		{"all decline", []domain.Event{captured, forwarded, change(2, refA, domain.MatchQuo, domain.MatchNotForMe),
			change(3, refB, domain.MatchQuo, domain.MatchNotForMe)}, []string{"all_declined→user:02"}},
		{"done", []domain.Event{captured, forwarded, change(2, refA, domain.MatchQuo, domain.MatchTakingCare),
			change(3, refA, domain.MatchTakingCare, domain.MatchDone)}, []string{"done→contact:00"}},
		{"second done tells nobody", []domain.Event{captured, forwarded, change(2, refA, domain.MatchQuo, domain.MatchTakingCare),
			change(3, refA, domain.MatchTakingCare, domain.MatchDone), change(4, refB, domain.MatchQuo, domain.MatchTakingCare),
			change(5, refB, domain.MatchTakingCare, domain.MatchDone)}, nil},
		{"not reachable tells nobody", []domain.Event{captured, forwarded, change(2, refA, domain.MatchQuo, domain.MatchTakingCare),
			change(3, refA, domain.MatchTakingCare, domain.MatchDoneNotReachable)}, nil},
		{"erased contact", []domain.Event{captured, forwarded, domain.ContactErased{Meta: m(2, advisor), NeedID: needID, KeyID: "k"},
			change(3, refA, domain.MatchQuo, domain.MatchTakingCare)}, []string{"advisor_taken_charge→user:02"}},
		{"animateur's reminder", []domain.Event{captured, forwarded, change(2, refA, domain.MatchQuo, domain.MatchNotForMe),
			domain.ReminderSent{Meta: m(3, advisor), NeedID: needID, Kind: domain.ReminderLastChance}}, []string{"last_chance→referent:0b"}},
		{"abandon", []domain.Event{captured, forwarded, domain.NeedAbandoned{Meta: m(2, advisor), NeedID: needID, Reason: "x"}}, []string{"abandoned→user:02"}},
		{"advisor comments", []domain.Event{captured, forwarded, domain.CommentAdded{Meta: m(2, advisor), NeedID: needID, Text: "x"}},
			[]string{"comment→referent:0a", "comment→referent:0b"}},
		{"referent comments", []domain.Event{captured, forwarded, domain.CommentAdded{Meta: m(2, refUserA), NeedID: needID, Text: "x"}},
			[]string{"comment→referent:0b", "comment→user:02"}},
		{"declined referent is no participant", []domain.Event{captured, forwarded, change(2, refB, domain.MatchQuo, domain.MatchNotForMe),
			domain.CommentAdded{Meta: m(3, advisor), NeedID: needID, Text: "x"}}, []string{"comment→referent:0a"}},
	} {
		if got := planOf(t, tc.evs...); !slices.Equal(got, tc.want) {
			t.Errorf("%s: planned %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLastDigestDue(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ at, want string }{
		{"2026-03-10T09:00:00+01:00", "2026-03-10T09:00:00+01:00"}, // Tuesday 09:00 exactly
		{"2026-03-10T08:59:59+01:00", "2026-03-03T09:00:00+01:00"},
		{"2026-03-09T12:00:00+01:00", "2026-03-03T09:00:00+01:00"}, // Monday
		{"2026-03-31T10:00:00+02:00", "2026-03-31T09:00:00+02:00"}, // summer time
		{"2026-03-30T10:00:00+02:00", "2026-03-24T09:00:00+01:00"}, // across the change
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		want, _ := time.Parse(time.RFC3339, tc.want)
		if got := lastDigestDue(at, paris); !got.Equal(want) {
			t.Errorf("lastDigestDue(%s) = %s, want %s", tc.at, got.In(paris), tc.want)
		}
	}
}

func TestRetryPolicyDoublesUpToItsMax(t *testing.T) {
	t.Parallel()
	p := retryPolicy{base: time.Second, max: 10 * time.Second}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 20: 10 * time.Second} {
		start := time.Now()
		d := p.NextRetry(&rivertype.JobRow{Attempt: attempt}).Sub(start)
		if d < want || d > want+want/10+50*time.Millisecond {
			t.Errorf("attempt %d waits %s, want %s plus a tenth at most", attempt, d, want)
		}
	}
}
