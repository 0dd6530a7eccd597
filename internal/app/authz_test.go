package app_test

import (
	"errors"
	"testing"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// TestNeedPermissions runs every need action as every kind of principal on
// a need captured by f.advisor in Lille (Nord) and forwarded to referent A.
func TestNeedPermissions(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "memory")
	type op func(p app.Principal, id uuidT) error
	ops := map[string]op{
		"get":     func(p app.Principal, id uuidT) error { _, err := f.svc.GetNeed(ctx, p, id, nil); return err },
		"history": func(p app.Principal, id uuidT) error { _, err := f.svc.History(ctx, p, id); return err },
		"comment": func(p app.Principal, id uuidT) error {
			_, err := f.svc.Comment(ctx, p, id, "un mot", app.CommandMeta{})
			return err
		},
		"suggestions": func(p app.Principal, id uuidT) error { _, err := f.svc.Suggestions(ctx, p, id); return err },
		"forward": func(p app.Principal, id uuidT) error {
			_, err := f.svc.ForwardNeed(ctx, p, id, []uuidT{f.refB}, app.CommandMeta{})
			return err
		},
		"take_charge_A": func(p app.Principal, id uuidT) error {
			_, err := f.svc.ChangeMatch(ctx, p, id, f.refA, "take_charge", "", app.CommandMeta{})
			return err
		},
		"remind": func(p app.Principal, id uuidT) error {
			_, err := f.svc.Remind(ctx, p, id, "poke", app.CommandMeta{})
			return err
		},
		"abandon": func(p app.Principal, id uuidT) error {
			_, err := f.svc.Abandon(ctx, p, id, "sans suite", app.CommandMeta{})
			return err
		},
	}
	// allowed[principal] lists the ops it may do; every other op must be
	// ErrForbidden.
	principals := []struct {
		name    string
		p       app.Principal
		allowed []string
	}{
		{"admin", f.admin, []string{"get", "history", "comment", "suggestions", "forward", "take_charge_A", "remind", "abandon"}},
		{"advisor who captured", f.advisor, []string{"get", "history", "comment", "suggestions", "forward"}},
		{"other advisor", f.advisor2, nil},
		{"referent forwarded to", f.referentA, []string{"get", "history", "comment", "take_charge_A"}},
		{"referent not forwarded to", f.referentB, nil},
		{"animateur in scope", f.animNord, []string{"get", "history", "comment", "suggestions", "forward", "remind", "abandon"}},
		{"animateur out of scope", f.animOise, nil},
		{"funder", f.funder, nil},
	}
	for _, pr := range principals {
		for name, do := range ops {
			// A fresh need per case: commands change what is allowed next.
			id := f.mustNeed(t, lille, f.refA)
			err := do(pr.p, id)
			want := contains(pr.allowed, name)
			switch {
			case want && err != nil:
				t.Errorf("%s %s: %v, want allowed", pr.name, name, err)
			case !want && !errors.Is(err, app.ErrForbidden):
				t.Errorf("%s %s: %v, want ErrForbidden", pr.name, name, err)
			}
		}
	}
	// A referent acting on another referent's match is refused even when
	// forwarded the need.
	id := f.mustNeed(t, lille, f.refA, f.refB)
	if _, err := f.svc.ChangeMatch(ctx, f.referentA, id, f.refB, "take_charge", "", app.CommandMeta{}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("referent A on B's match: %v", err)
	}
	// Capture: advisors and admins only.
	for _, pr := range principals {
		_, err := f.svc.CaptureNeed(ctx, pr.p, capture(lille), app.CommandMeta{})
		want := pr.p.Role == domain.RoleAdvisor || pr.p.Role == domain.RoleAdmin
		if want != (err == nil) || (!want && !errors.Is(err, app.ErrForbidden)) {
			t.Errorf("%s capture: %v", pr.name, err)
		}
	}
	// Unknown need: not found for whoever may see needs, forbidden for a funder.
	if _, err := f.svc.GetNeed(ctx, f.advisor, uuidT{9}, nil); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("unknown need: %v", err)
	}
	if _, err := f.svc.GetNeed(ctx, f.funder, uuidT{9}, nil); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("funder unknown need: %v", err)
	}
}

func TestCan(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "memory")
	admin := []string{app.ActionEvents, app.ActionProjections, app.ActionRebuild, app.ActionCreateUser,
		app.ActionCreateOrganisation, app.ActionRegisterReferent, app.ActionErase}
	cases := []struct {
		p       app.Principal
		allowed []string
	}{
		{f.admin, append([]string{app.ActionStats, app.ActionListNeeds, app.ActionCaptureNeed, app.ActionInbox, app.ActionSubjects, app.ActionReadDirectory}, admin...)},
		{f.advisor, []string{app.ActionListNeeds, app.ActionCaptureNeed, app.ActionSubjects, app.ActionReadDirectory}},
		{f.referentA, []string{app.ActionListNeeds, app.ActionInbox, app.ActionSubjects, app.ActionReadDirectory}},
		{f.animNord, []string{app.ActionStats, app.ActionListNeeds, app.ActionSubjects, app.ActionReadDirectory}},
		{f.funder, []string{app.ActionStats, app.ActionSubjects}},
	}
	all := append([]string{app.ActionStats, app.ActionListNeeds, app.ActionCaptureNeed, app.ActionInbox, app.ActionSubjects, app.ActionReadDirectory, "no.such.action"}, admin...)
	for _, c := range cases {
		for _, a := range all {
			if got, want := f.svc.Can(c.p, a), contains(c.allowed, a) || (c.p.Role == domain.RoleAdmin && a == "no.such.action"); got != want {
				t.Errorf("%s Can(%s) = %v, want %v", c.p.Role, a, got, want)
			}
		}
	}
	// Directory commands are refused to non-admins.
	if _, _, err := f.svc.CreateOrganisation(ctx, f.animNord, "X", "cci", app.CommandMeta{}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("animateur creates organisation: %v", err)
	}
	if _, _, _, err := f.svc.RegisterUser(ctx, f.advisor, app.UserInput{Name: "x", Email: "x@x.fr", Role: domain.RoleAdmin}, app.CommandMeta{}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("advisor registers admin: %v", err)
	}
	if _, _, err := f.svc.Erase(ctx, f.funder, app.EraseInput{SIRET: siret}, app.CommandMeta{}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("funder erases: %v", err)
	}
	if _, err := f.svc.Authenticate(ctx, "reso_wrong"); !errors.Is(err, app.ErrUnauthenticated) {
		t.Errorf("bad token: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
