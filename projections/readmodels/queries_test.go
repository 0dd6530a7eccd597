package readmodels_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections/needs"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
)

func mustAllNeeds(t *testing.T, e *readmodels.Engine, f needs.NeedFilter) []needs.NeedRow {
	t.Helper()
	var out []needs.NeedRow
	f.Limit = 37
	for {
		page, err := e.ListNeeds(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		f.Cursor = page.NextCursor
	}
}

func countNeeds(folded []*domain.Need, keep func(*domain.Need) bool) int {
	n := 0
	for _, x := range folded {
		if keep(x) {
			n++
		}
	}
	return n
}

// List, inbox and directory queries agree with needs folded by the domain.
func TestQueriesAgreeWithDomain(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			pt.MustRun(t, e)
			start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			now := start.AddDate(0, 0, 80)
			res := pt.MustSimulate(t, b.Store, simulate.Options{Seed: 21, Start: start, Months: 3, NeedsPerMonth: 70, Now: now})
			pt.MustWait(t, e, res.Last)
			folded := pt.MustFoldNeeds(t, b.Store)
			geo := domain.DefaultGeography()
			th := domain.DefaultThresholds()
			ctx := context.Background()

			all := mustAllNeeds(t, e, needs.NeedFilter{Now: now})
			if len(all) != len(folded) {
				t.Fatalf("listed %d needs, want %d", len(all), len(folded))
			}
			seen := map[uuid.UUID]bool{}
			for i, r := range all {
				if seen[r.ID] {
					t.Fatalf("need %s listed twice", r.ID)
				}
				seen[r.ID] = true
				if i > 0 && r.CapturedAt.After(all[i-1].CapturedAt) {
					t.Fatalf("not newest first at %d", i)
				}
			}

			dep := func(n *domain.Need) string { c, _ := geo.Commune(n.Captured().Commune); return c.Departement }
			ref := res.Referents[0].ID
			for _, c := range []struct {
				name string
				f    needs.NeedFilter
				keep func(*domain.Need) bool
			}{
				{"status", needs.NeedFilter{Status: "taking_care"}, func(n *domain.Need) bool { return n.Status() == domain.NeedTakingCare }},
				{"abandoned", needs.NeedFilter{Status: "abandoned"}, func(n *domain.Need) bool { return n.Status() == domain.NeedAbandonedStatus }},
				{"departement", needs.NeedFilter{Departement: "59"}, func(n *domain.Need) bool { return dep(n) == "59" }},
				{"scope", needs.NeedFilter{ScopeZones: []domain.Zone{{Level: domain.LevelDepartement, Code: "62"}}}, func(n *domain.Need) bool { return dep(n) == "62" }},
				{"empty scope", needs.NeedFilter{ScopeZones: []domain.Zone{}}, func(*domain.Need) bool { return false }},
				{"subject", needs.NeedFilter{Subject: "recruitment"}, func(n *domain.Need) bool { return n.Captured().Subject == "recruitment" }},
				{"referent", needs.NeedFilter{Referent: ref}, func(n *domain.Need) bool { _, ok := n.Match(ref); return ok }},
				{"poke", needs.NeedFilter{Basket: "poke"}, func(n *domain.Need) bool { return n.Basket(now, th) == domain.BasketPoke }},
				{"last chance", needs.NeedFilter{Basket: "last_chance"}, func(n *domain.Need) bool { return n.Basket(now, th) == domain.BasketLastChance }},
				{"no basket", needs.NeedFilter{Basket: "none"}, func(n *domain.Need) bool { return n.Basket(now, th) == domain.BasketNone }},
				{"captured from", needs.NeedFilter{CapturedFrom: start.AddDate(0, 1, 0)}, func(n *domain.Need) bool { return !n.CapturedAt().Before(start.AddDate(0, 1, 0)) }},
			} {
				c.f.Now = now
				got, want := len(mustAllNeeds(t, e, c.f)), countNeeds(folded, c.keep)
				if got != want {
					t.Errorf("%s: %d needs, want %d", c.name, got, want)
				}
			}
			if want := countNeeds(folded, func(n *domain.Need) bool { return n.Basket(now, th) == domain.BasketPoke }); want == 0 {
				t.Error("the workload has no need to poke: the basket check proves nothing")
			}
			if _, err := e.ListNeeds(ctx, needs.NeedFilter{Cursor: "nope"}); err == nil {
				t.Error("bad cursor accepted")
			}

			tabs := map[string]int{}
			for _, n := range folded {
				if m, ok := n.Match(ref); ok {
					switch {
					case domain.MatchExpired(m.Status, m.SentAt, now, th):
						tabs["expired"]++
					case m.Status.Closed():
						tabs["done"]++
					default:
						tabs[string(m.Status)]++
					}
				}
			}
			for _, tab := range []string{"quo", "taking_care", "done", "not_for_me", "expired"} {
				var got int
				cursor := ""
				for {
					page, err := e.Inbox(ctx, ref, tab, now, 7, cursor)
					if err != nil {
						t.Fatal(err)
					}
					got += len(page.Items)
					if cursor = page.NextCursor; cursor == "" {
						break
					}
				}
				if got != tabs[tab] {
					t.Errorf("inbox %s: %d, want %d", tab, got, tabs[tab])
				}
			}

			sugg, err := e.Suggest(ctx, "59350", "recruitment")
			if err != nil {
				t.Fatal(err)
			}
			if len(sugg) == 0 {
				t.Fatal("no suggestion for recruitment in Lille")
			}
			for _, s := range sugg {
				if !slices.Contains(s.Subjects, "recruitment") {
					t.Errorf("suggested %s does not cover recruitment", s.Name)
				}
			}
			r, err := e.Referent(ctx, ref)
			if err != nil || r.Name != res.Referents[0].Name || r.OrganisationName == "" {
				t.Fatalf("referent = %+v, %v", r, err)
			}
			org, err := e.Organisation(ctx, r.OrganisationID)
			if err != nil || len(org.Antennes) == 0 {
				t.Fatalf("organisation = %+v, %v", org, err)
			}
			advisor := res.Users[domain.RoleAdvisor][0]
			names, err := e.ActorNames(ctx, []uuid.UUID{ref, advisor, uuid.New()})
			if err != nil {
				t.Fatal(err)
			}
			if len(names) != 2 || names[ref].Role != domain.RoleReferent || names[advisor].Name != res.Names[advisor] {
				t.Fatalf("names = %+v", names)
			}
		})
	}
}

// TestClosedNeedLeavesOtherInboxes: when one referent closes a need, the
// other referents' untouched matches leave their new-needs tab for the
// closed tab, marked handled elsewhere; a reopening puts them back.
func TestClosedNeedLeavesOtherInboxes(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			pt.MustRun(t, e)
			ctx := context.Background()
			id, a, c := uuid.New(), uuid.New(), uuid.New()
			at := time.Now().Add(-time.Hour).UTC()
			n := domain.NewNeed(id)
			by := domain.Actor{ID: uuid.New(), Role: domain.RoleAdvisor}
			if err := n.Capture(domain.Capture{NeedID: id, SIRET: "73282932000074", CompanyName: "Scierie", Commune: "59350",
				Subject: "recruitment", Description: "Recruter", AdvisorID: by.ID,
				Contact: domain.SealedContact{KeyID: "k", Ciphertext: []byte{1}}}, nil, by, at); err != nil {
				t.Fatal(err)
			}
			org := uuid.New()
			if err := n.Forward([]domain.MatchRef{{ReferentID: a, OrganisationID: org}, {ReferentID: c, OrganisationID: org}}, by, at); err != nil {
				t.Fatal(err)
			}
			ref := domain.Actor{ID: a, Role: domain.RoleReferent}
			if err := n.ChangeMatch(a, domain.MatchTakingCare, "", ref, at.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if err := n.ChangeMatch(a, domain.MatchDone, "", ref, at.Add(2*time.Minute)); err != nil {
				t.Fatal(err)
			}
			pos := mustAppendNeed(t, b, n, 0)
			pt.MustWait(t, e, pos)
			tabOf := func() (string, bool) {
				t.Helper()
				for _, tab := range []string{needs.TabQuo, needs.TabTakingCare, needs.TabDone, needs.TabNotForMe, needs.TabExpired} {
					page, err := e.Inbox(ctx, c, tab, time.Now(), 10, "")
					if err != nil {
						t.Fatal(err)
					}
					if len(page.Items) == 1 {
						return tab, page.Items[0].HandledElsewhere
					}
				}
				return "", false
			}
			if tab, elsewhere := tabOf(); tab != needs.TabDone || !elsewhere {
				t.Fatalf("the other referent's match is in %q (handled elsewhere %v), want done, handled elsewhere", tab, elsewhere)
			}
			counts, err := e.InboxCounts(ctx, c, time.Now())
			if err != nil || counts[needs.TabDone] != 1 || counts[needs.TabQuo] != 0 {
				t.Fatalf("counts %v, %v", counts, err)
			}
			// The closer reopens: the need is open again, and so is the
			// other referent's match.
			version := n.Version()
			if err := n.ChangeMatch(a, domain.MatchQuo, "", ref, at.Add(3*time.Minute)); err != nil {
				t.Fatal(err)
			}
			pos = mustAppendNeed(t, b, n, version)
			pt.MustWait(t, e, pos)
			if tab, elsewhere := tabOf(); tab != needs.TabQuo || elsewhere {
				t.Fatalf("after the reopening, the other match is in %q (handled elsewhere %v), want the new needs", tab, elsewhere)
			}
		})
	}
}

// mustAppendNeed appends the changes of n from the from-th on, the stream
// holding from events already, and returns the last one's position.
func mustAppendNeed(t *testing.T, b pt.Backend, n *domain.Need, from int64) eventstore.Position {
	t.Helper()
	var news []eventstore.NewEvent
	for _, e := range n.Changes()[from:] {
		typ, ver, data, err := domain.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		news = append(news, eventstore.NewEvent{ID: uuid.New(), Type: typ, SchemaVersion: ver, Data: data})
	}
	expected := eventstore.NoStream
	if from > 0 {
		expected = eventstore.Exactly(from)
	}
	res, err := b.Store.Append(context.Background(), domain.NeedStream(n.ID()), expected, news...)
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}
