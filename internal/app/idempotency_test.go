package app_test

import (
	"sync"
	"testing"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// A command repeated with its idempotency key after its answer was lost
// (the HTTP layer had no answer to replay) takes effect once, and the
// repeat answers as the first run did; concurrent repeats too.
func TestRepeatedCommandsTakeEffectOnce(t *testing.T) {
	t.Parallel()
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := mustFixture(t, kind)
			m := app.CommandMeta{IdempotencyKey: "capture-1"}
			first, err := f.svc.CaptureNeed(ctx, f.advisor, capture(lille), m)
			if err != nil {
				t.Fatal(err)
			}
			again, err := f.svc.CaptureNeed(ctx, f.advisor, capture(lille), m)
			if err != nil || again.Need.ID != first.Need.ID || again.Position != first.Position || again.Need.Version != 1 {
				t.Fatalf("repeat of a capture: %+v at %s, %v; first %s at %s", again.Need.ID, again.Position, err, first.Need.ID, first.Position)
			}
			if c := again.Need.Contact; c == nil || c.Email != "camille.dupont@beffroi.fr" {
				t.Errorf("repeat shows the contact %+v", c)
			}
			// The same key from another user is another command.
			other, err := f.svc.CaptureNeed(ctx, f.advisor2, capture(lille), m)
			if err != nil || other.Need.ID == first.Need.ID {
				t.Fatalf("same key, other user: %v, %v", other.Need.ID, err)
			}
			// Without a key, every call is a new capture.
			a, _ := f.svc.CaptureNeed(ctx, f.advisor, capture(lille), app.CommandMeta{})
			b, _ := f.svc.CaptureNeed(ctx, f.advisor, capture(lille), app.CommandMeta{})
			if a.Need.ID == b.Need.ID {
				t.Fatal("two captures without a key made one need")
			}

			id := first.Need.ID
			cm := app.CommandMeta{IdempotencyKey: "comment-1"}
			c1, err := f.svc.Comment(ctx, f.advisor, id, "Rappeler", cm)
			if err != nil {
				t.Fatal(err)
			}
			c2, err := f.svc.Comment(ctx, f.advisor, id, "Rappeler", cm)
			if err != nil || c2.Position != c1.Position || c2.Need.Version != 2 {
				t.Fatalf("repeat of a comment: version %d at %s, %v; first at %s", c2.Need.Version, c2.Position, err, c1.Position)
			}

			// Repeats at the same time: one capture, one forward.
			var wg sync.WaitGroup
			ids := make([]string, 8)
			errs := make([]error, 16)
			cc := app.CommandMeta{IdempotencyKey: "capture-2"}
			for i := range 8 {
				wg.Go(func() {
					r, err := f.svc.CaptureNeed(ctx, f.advisor, capture(lille), cc)
					ids[i], errs[i] = r.Need.ID.String(), err
				})
			}
			wg.Wait()
			fm := app.CommandMeta{IdempotencyKey: "forward-1"}
			for i := range 8 {
				wg.Go(func() {
					_, errs[8+i] = f.svc.ForwardNeed(ctx, f.advisor, first.Need.ID, []uuidT{f.refA}, fm)
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("concurrent repeat %d: %v", i, err)
				}
			}
			for _, got := range ids {
				if got != ids[0] {
					t.Fatalf("concurrent repeats made needs %v", ids)
				}
			}
			for _, c := range []struct {
				need  string
				types []string
			}{
				{first.Need.ID.String(), []string{domain.TypeNeedCaptured, domain.TypeCommentAdded, domain.TypeNeedForwarded}},
				{ids[0], []string{domain.TypeNeedCaptured}},
			} {
				h, err := f.svc.History(ctx, f.admin, mustParse(t, c.need))
				if err != nil {
					t.Fatal(err)
				}
				if len(h) != len(c.types) {
					t.Fatalf("need %s has %d events, want %v", c.need, len(h), c.types)
				}
				for i, e := range h {
					if e.Type != c.types[i] {
						t.Errorf("need %s event %d is %s, want %s", c.need, i+1, e.Type, c.types[i])
					}
				}
			}
		})
	}
}

func mustParse(t *testing.T, s string) uuidT {
	t.Helper()
	var id uuidT
	if err := id.UnmarshalText([]byte(s)); err != nil {
		t.Fatal(err)
	}
	return id
}
