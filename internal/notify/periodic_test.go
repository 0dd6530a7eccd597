package notify_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/mailtest"
)

// The periodic job reminds the referents of an untouched need at day 9
// and day 21, and sends each referent with pending needs the Tuesday
// digest, on the notifier's clock.
func TestRemindersAndDigestFollowTheClock(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			e := mustEnv(t, envOptions{store: store})
			paris, _ := time.LoadLocation("Europe/Paris")
			id, _ := e.mustCapture()
			pos := e.mustForward(id, e.ref1, e.ref2)
			e.mp.WaitCount(t, 2, 20*time.Second)
			// The read models must know the need waits before the scan asks them.
			if err := e.srv.Backend().Projections.WaitFor(ctx, pos); err != nil {
				t.Fatal(err)
			}
			e.waitIdle()
			// Three weeks hold three Tuesdays: the digests they bring are
			// counted apart (digestsTo), the reminders by their subjects.
			const poke = "Relance : le besoin de Boulangerie 1 attend votre réponse"
			const last = "Dernière relance : le besoin de Boulangerie 1 attend votre réponse"

			// Day 8 and 23 hours after the forward (on the real clock, which
			// the forward used): no reminder yet. Then day 9: both referents.
			forwarded := time.Now()
			e.clock.AdvanceTo(forwarded.Add(9*24*time.Hour - time.Hour))
			waitScanned(t, e)
			e.waitIdle()
			if got := subjectTo(t, e, poke); len(got) != 0 {
				t.Fatalf("reminders before day 9: %v", got)
			}
			e.clock.AdvanceTo(forwarded.Add(9*24*time.Hour + time.Minute))
			pokes := waitSubject(t, e, poke, 2)
			slices.Sort(pokes)
			if !slices.Equal(pokes, []string{"chloe.nord@referents.test", "david.region@referents.test"}) {
				t.Fatalf("day 9 reminders went to %v", pokes)
			}

			// The first referent declines; at day 21 only the second is
			// reminded, once, however often the scan runs.
			if _, err := e.svc.ChangeMatch(ctx, e.refUser1, id, e.ref1, "decline", "", app.CommandMeta{}); err != nil {
				t.Fatal(err)
			}
			e.clock.AdvanceTo(forwarded.Add(21*24*time.Hour + time.Minute))
			waitSubject(t, e, last, 1)
			waitScanned(t, e)
			waitScanned(t, e)
			e.waitIdle()
			if lastTo := subjectTo(t, e, last); !slices.Equal(lastTo, []string{"david.region@referents.test"}) {
				t.Fatalf("day 21 reminder went to %v", lastTo)
			}
			if got := subjectTo(t, e, poke); len(got) != 2 {
				t.Fatalf("day 9 reminders %v after more scans, want 2", got)
			}

			// The next Tuesday 09:00 in Paris: a digest to the referent who
			// still has the need pending, listing it with its link; none to
			// the one who declined it.
			tue := e.clock.Now().In(paris)
			for tue.Weekday() != time.Tuesday {
				tue = tue.AddDate(0, 0, 1)
			}
			tue = time.Date(tue.Year(), tue.Month(), tue.Day(), 9, 0, 30, 0, paris)
			if tue.Before(e.clock.Now()) {
				tue = tue.AddDate(0, 0, 7)
			}
			e.clock.AdvanceTo(tue.Add(-time.Minute))
			waitScanned(t, e)
			e.waitIdle()
			before := digestsTo(t, e)
			e.clock.AdvanceTo(tue)
			waitScanned(t, e)
			e.waitIdle()
			after := digestsTo(t, e)
			if len(after) != len(before)+1 || after[len(after)-1].To[0].Address != "david.region@referents.test" {
				t.Fatalf("digests before Tuesday 09:00 %d, after %d (last to %v); want one more, to the second referent",
					len(before), len(after), after[len(after)-1].To)
			}
			full := e.mp.Message(t, after[len(after)-1].ID)
			if full.Subject != "Vos besoins en attente de réponse (1)" ||
				!strings.Contains(full.Text, "Boulangerie 1 – Recruter un ou plusieurs salariés") ||
				!strings.Contains(full.Text, baseURL+"/besoins/"+id.String()) {
				t.Errorf("digest %q:\n%s", full.Subject, full.Text)
			}
			waitScanned(t, e)
			e.waitIdle()
			if n := len(digestsTo(t, e)); n != len(after) {
				t.Fatalf("%d digests after another scan, want %d", n, len(after))
			}
		})
	}
}

// digestsTo lists the digests Mailpit holds, oldest first.
func digestsTo(t *testing.T, e *env) []mailtest.Summary {
	t.Helper()
	var out []mailtest.Summary
	for _, m := range e.mp.Messages(t) {
		if strings.HasPrefix(m.Subject, "Vos besoins en attente") {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b mailtest.Summary) int { return a.Created.Compare(b.Created) })
	return out
}

// subjectTo lists the recipients of the mails with subject.
func subjectTo(t *testing.T, e *env, subject string) []string {
	t.Helper()
	var to []string
	for _, m := range e.mp.Messages(t) {
		if m.Subject == subject {
			to = append(to, m.To[0].Address)
		}
	}
	return to
}

// waitScanned waits until a scan has run entirely after this call: the
// periodic job runs every 200 ms; the cursor of the reminders moving to a
// clock reading taken now or later says one did.
func waitScanned(t *testing.T, e *env) {
	t.Helper()
	mark := e.clock.Now()
	waitFor(t, "a scan", func() bool {
		at, err := e.srv.Notifier().ScannedUntil(ctx)
		return err == nil && !at.Before(mark)
	})
}

// waitSubject waits until n mails with subject are in Mailpit and the
// notifier is idle, and returns their recipients.
func waitSubject(t *testing.T, e *env, subject string, n int) []string {
	t.Helper()
	var to []string
	waitFor(t, subject, func() bool {
		to = subjectTo(t, e, subject)
		return len(to) >= n
	})
	e.waitIdle()
	return to
}
