package app_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
)

// mustReadService is a service over f's store with the real read models on
// f's SQLite file, their workers running until the test ends.
func (f *fixture) mustReadService(t *testing.T) *app.Service {
	t.Helper()
	return f.mustImportService(t, nil, nil, true)
}

// TestListsFollowScope lists needs, inboxes and statistics as every role
// over the real read models: each sees what its scope holds, and the
// service refuses, with a reason, what the role may not do.
func TestListsFollowScope(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "sqlite")
	svc := f.mustReadService(t)
	lilleNeed := f.mustNeed(t, lille, f.refA)
	r, err := svc.CaptureNeed(ctx, f.advisor2, capture(beauv), app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	fw, err := svc.ForwardNeed(ctx, f.advisor2, r.Need.ID, []uuid.UUID{f.refB}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	oiseNeed, last := r.Need.ID, fw.Position

	for _, c := range []struct {
		name string
		p    app.Principal
		want []uuid.UUID
	}{
		{"admin", f.admin, []uuid.UUID{lilleNeed, oiseNeed}},
		{"advisor", f.advisor, []uuid.UUID{lilleNeed}},
		{"other advisor", f.advisor2, []uuid.UUID{oiseNeed}},
		{"referent A", f.referentA, []uuid.UUID{lilleNeed}},
		{"referent B", f.referentB, []uuid.UUID{oiseNeed}},
		{"animateur Nord", f.animNord, []uuid.UUID{lilleNeed}},
		{"animateur Oise", f.animOise, []uuid.UUID{oiseNeed}},
	} {
		page, err := svc.ListNeeds(ctx, c.p, app.NeedQuery{MinPosition: last})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []uuid.UUID
		for _, it := range page.Items {
			got = append(got, it.ID)
		}
		slices.SortFunc(got, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		slices.SortFunc(c.want, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
		if !slices.Equal(got, c.want) {
			t.Errorf("%s lists %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := svc.ListNeeds(ctx, f.funder, app.NeedQuery{}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("funder lists needs: %v", err)
	}
	orphan := f.referentA
	orphan.ReferentID = uuid.Nil
	if _, err := svc.ListNeeds(ctx, orphan, app.NeedQuery{}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("referent without referent lists needs: %v", err)
	}

	// Inboxes: one's own; an admin names it.
	in, err := svc.Inbox(ctx, f.referentA, app.InboxQuery{MinPosition: last})
	if err != nil || len(in.Items) != 1 || in.Items[0].NeedID != lilleNeed {
		t.Errorf("referent A's inbox: %+v, %v", in.Items, err)
	}
	if _, err := svc.Inbox(ctx, f.referentA, app.InboxQuery{Referent: f.refB}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("referent A reads B's inbox: %v", err)
	}
	in, err = svc.Inbox(ctx, f.admin, app.InboxQuery{Referent: f.refB})
	if err != nil || len(in.Items) != 1 || in.Items[0].NeedID != oiseNeed {
		t.Errorf("admin reads B's inbox: %+v, %v", in.Items, err)
	}
	mustField(t, "admin without referent", errOf(svc.Inbox(ctx, f.admin, app.InboxQuery{})), "referent")
	if _, err := svc.Inbox(ctx, f.animNord, app.InboxQuery{}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("animateur reads an inbox: %v", err)
	}

	// Statistics: the network for a funder, the territory for an animateur.
	for _, c := range []struct {
		name  string
		p     app.Principal
		needs int64
	}{{"funder", f.funder, 2}, {"admin", f.admin, 2}, {"animateur Nord", f.animNord, 1}} {
		rows, err := svc.Stats(ctx, c.p, app.StatsQuery{MinPosition: last})
		if err != nil {
			t.Fatalf("%s stats: %v", c.name, err)
		}
		var n int64
		for _, row := range rows {
			n += row.Needs
		}
		if n != c.needs {
			t.Errorf("%s counts %d needs, want %d", c.name, n, c.needs)
		}
	}
	lonely := f.animNord
	lonely.Territories = nil
	if _, err := svc.Stats(ctx, lonely, app.StatsQuery{}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("animateur without territory reads stats: %v", err)
	}
	tb, err := svc.StatsTable(ctx, f.funder, app.StatsQuery{GroupBy: []string{"departement"}, MinPosition: last})
	if err != nil || len(tb.Rows) != 2 || tb.Columns[0] != "departement" || tb.Columns[1] != "needs" {
		t.Errorf("stats table %+v, %v", tb, err)
	}
}

// TestListValidation refuses bad filters with the field they came from,
// before reading anything.
func TestListValidation(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "sqlite")
	svc := f.mustReadService(t)
	for _, c := range []struct {
		name  string
		err   error
		field string
	}{
		{"status", errOf(svc.ListNeeds(ctx, f.admin, app.NeedQuery{Status: "lost"})), "status"},
		{"basket", errOf(svc.ListNeeds(ctx, f.admin, app.NeedQuery{Basket: "someday"})), "basket"},
		{"subject", errOf(svc.ListNeeds(ctx, f.admin, app.NeedQuery{Subject: "astrology"})), "subject"},
		{"limit", errOf(svc.ListNeeds(ctx, f.admin, app.NeedQuery{Limit: app.MaxLimit + 1})), "limit"},
		{"cursor", errOf(svc.ListNeeds(ctx, f.admin, app.NeedQuery{Cursor: "not-a-cursor"})), "cursor"},
		{"tab", errOf(svc.Inbox(ctx, f.referentA, app.InboxQuery{Tab: "spam"})), "tab"},
		{"month", errOf(svc.Stats(ctx, f.funder, app.StatsQuery{From: "2026-13"})), "from"},
		{"months order", errOf(svc.Stats(ctx, f.funder, app.StatsQuery{From: "2026-05", To: "2026-04"})), "to"},
		{"dimension", errOf(svc.Stats(ctx, f.funder, app.StatsQuery{GroupBy: []string{"weather"}})), "group_by"},
		{"dimension twice", errOf(svc.Stats(ctx, f.funder, app.StatsQuery{GroupBy: []string{"month", "month"}})), "group_by"},
	} {
		mustField(t, c.name, c.err, c.field)
	}
	if err := svc.StartRebuild(ctx, f.admin, "nosuch"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("rebuild of an unknown projection: %v", err)
	}
	if sts, _ := svc.Rebuilds(f.admin); len(sts) != 0 {
		t.Errorf("a refused rebuild left a state: %+v", sts)
	}
	if _, err := svc.Events(ctx, f.funder, eventstore.Position{}, 10); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("funder reads the log: %v", err)
	}
}

func errOf[T any](_ T, err error) error { return err }

func mustField(t *testing.T, name string, err error, field string) {
	t.Helper()
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || ve.Field != field {
		t.Errorf("%s: %v, want a validation error on %s", name, err, field)
	}
}
