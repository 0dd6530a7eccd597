package app_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/internal/app"
)

// TestConsoleReads reads the console's lists over the real read models:
// tab counts, dashboard, directory; each refuses the roles the matrix
// does not allow.
func TestConsoleReads(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "sqlite")
	svc := f.mustReadService(t)
	id := f.mustNeed(t, lille, f.refA)
	r, err := svc.ChangeMatch(ctx, f.referentA, id, f.refA, "take_charge", "", app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	f.mustNeed(t, lille, f.refA)
	if err := svc.WaitForPosition(ctx, r.Position); err != nil {
		t.Fatal(err)
	}
	counts, err := svc.InboxCounts(ctx, f.referentA, uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	// The second need may not be applied yet: wait for it through a list.
	page, err := svc.Inbox(ctx, f.referentA, app.InboxQuery{Tab: "quo"})
	if err != nil {
		t.Fatal(err)
	}
	if counts["taking_care"] != 1 || counts["quo"] > len(page.Items)+1 || len(counts) != len(app.InboxTabs()) {
		t.Errorf("tab counts %v", counts)
	}
	if _, err := svc.InboxCounts(ctx, f.referentA, f.refB); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("referent A counts B's inbox: %v", err)
	}
	if _, err := svc.InboxCounts(ctx, f.admin, uuid.Nil); err == nil {
		t.Error("an admin counted an inbox without naming it")
	}
	// Fresh needs are in no basket yet.
	d, err := svc.Dashboard(ctx, f.animNord)
	if err != nil || d.Baskets.Total() != 0 {
		t.Errorf("dashboard: %+v %v", d.Baskets, err)
	}
	for _, p := range []app.Principal{f.funder, f.advisor, f.referentA} {
		if _, err := svc.Dashboard(ctx, p); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s dashboard: %v", p.Role, err)
		}
	}
	if _, err := svc.Users(ctx, f.animNord); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("animateur reads users: %v", err)
	}
	if _, err := svc.Organisations(ctx, f.funder); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("funder reads the directory: %v", err)
	}
	if _, err := svc.StatsOrganisations(ctx, f.funder); err != nil {
		t.Errorf("funder names the organisations of statistics: %v", err)
	}
	p, err := svc.PrincipalOfUser(ctx, f.advisor.UserID)
	if err != nil && !errors.Is(err, app.ErrUnauthenticated) {
		t.Errorf("principal of a user: %v", err)
	}
	if err == nil && p.Role != f.advisor.Role {
		t.Errorf("principal %+v", p)
	}
	if _, err := svc.PrincipalOfUser(ctx, uuid.New()); !errors.Is(err, app.ErrUnauthenticated) {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := svc.UserByEmail(ctx, "nobody@nowhere.test"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("unknown email: %v", err)
	}
}
