package app_test

import (
	"testing"

	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/auth"
	"github.com/reso-fr/reso/internal/keys"
)

// TestStaleNeedCache: a second Service on the same store (another
// replica) changes a need the first one has cached; the first one's next
// command neither loses the other's event nor decides on the stale state.
func TestStaleNeedCache(t *testing.T) {
	t.Parallel()
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := mustFixture(t, kind)
			kr, err := keys.New(ctx, f.handle, testMaster)
			if err != nil {
				t.Fatal(err)
			}
			as, err := auth.New(ctx, f.handle, f.store)
			if err != nil {
				t.Fatal(err)
			}
			other, err := app.New(app.Config{Store: f.store, Keys: kr, Auth: as, Suggester: &routes{}})
			if err != nil {
				t.Fatal(err)
			}
			// f.svc captured and forwarded it: its cache holds the need.
			id := f.mustNeed(t, lille, f.refA)
			if _, err := other.Comment(ctx, f.advisor, id, "from the other replica", app.CommandMeta{}); err != nil {
				t.Fatal(err)
			}
			// Stale entry, valid decision: the append conflicts, is decided
			// again on the stream, and both comments stay.
			r, err := f.svc.Comment(ctx, f.advisor, id, "from this replica", app.CommandMeta{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Need.Version != 4 {
				t.Errorf("version after both comments: %d, want 4", r.Need.Version)
			}
			// Stale entry whose state refuses the command: the other replica
			// took the match in charge, which only a fresh read shows; done
			// needs it.
			if _, err := other.ChangeMatch(ctx, f.referentA, id, f.refA, "take_charge", "", app.CommandMeta{}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.ChangeMatch(ctx, f.referentA, id, f.refA, "done", "aidé", app.CommandMeta{}); err != nil {
				t.Fatalf("done after the other replica's take charge: %v", err)
			}
			h, err := f.svc.History(ctx, f.admin, id)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, e := range h {
				types = append(types, e.Type)
			}
			want := []string{"NeedCaptured", "NeedForwarded", "CommentAdded", "CommentAdded", "MatchStatusChanged", "MatchStatusChanged"}
			if len(types) != len(want) {
				t.Fatalf("history %v, want %v", types, want)
			}
			for i := range want {
				if types[i] != want[i] {
					t.Fatalf("history %v, want %v", types, want)
				}
			}
			if c := conflicts(t, f.svc); c != 0 {
				t.Errorf("%v conflicts counted: a stale cache entry is not a writers' conflict", c)
			}
		})
	}
}
