package app_test

import (
	"errors"
	"slices"
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
	// actions are the matrix rows the ops require.
	actions := map[string]app.Action{
		"get": app.ActionReadNeed, "history": app.ActionReadNeed, "comment": app.ActionComment,
		"suggestions": app.ActionSuggestions, "forward": app.ActionForwardNeed, "take_charge_A": app.ActionChangeMatch,
		"remind": app.ActionRemind, "abandon": app.ActionAbandon,
	}
	// allowed[principal] lists the ops it may do. Every other op is
	// ErrForbidden when the role may not attempt it, and ErrNotFound when
	// it may but the need lies outside the principal's scope: a refusal
	// must not tell that the need exists.
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
			roleMay := app.Allowed(pr.p.Role, actions[name])
			switch {
			case want && err != nil:
				t.Errorf("%s %s: %v, want allowed", pr.name, name, err)
			case !want && !roleMay && !errors.Is(err, app.ErrForbidden):
				t.Errorf("%s %s: %v, want ErrForbidden", pr.name, name, err)
			case !want && roleMay && !errors.Is(err, app.ErrNotFound):
				t.Errorf("%s %s: %v, want ErrNotFound (out of scope)", pr.name, name, err)
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
	admin := []app.Action{app.ActionEvents, app.ActionProjections, app.ActionRebuild, app.ActionCreateUser,
		app.ActionCreateOrganisation, app.ActionRegisterReferent, app.ActionErase, app.ActionReadUsers,
		app.ActionImportDirectory, app.ActionExportDirectory, app.ActionOpenTerritory, app.ActionNotifications, app.ActionOutbox}
	cases := []struct {
		p       app.Principal
		allowed []app.Action
	}{
		{f.admin, append([]app.Action{app.ActionStats, app.ActionListNeeds, app.ActionCaptureNeed, app.ActionInbox, app.ActionSubjects, app.ActionReadDirectory, app.ActionReadTerritories, app.ActionDashboard}, admin...)},
		{f.advisor, []app.Action{app.ActionListNeeds, app.ActionCaptureNeed, app.ActionSubjects, app.ActionReadDirectory, app.ActionReadTerritories}},
		{f.referentA, []app.Action{app.ActionListNeeds, app.ActionInbox, app.ActionSubjects, app.ActionReadDirectory, app.ActionReadTerritories}},
		{f.animNord, []app.Action{app.ActionStats, app.ActionListNeeds, app.ActionSubjects, app.ActionReadDirectory, app.ActionReadTerritories, app.ActionDashboard}},
		{f.funder, []app.Action{app.ActionStats, app.ActionSubjects, app.ActionReadTerritories}},
	}
	// An action without a row is refused to everyone, admins included:
	// deny by default.
	all := append([]app.Action{app.ActionStats, app.ActionListNeeds, app.ActionCaptureNeed, app.ActionInbox, app.ActionSubjects, app.ActionReadDirectory, app.ActionReadTerritories, app.ActionDashboard, "no.such.action"}, admin...)
	for _, c := range cases {
		for _, a := range all {
			if got, want := f.svc.Can(c.p, a), slices.Contains(c.allowed, a); got != want {
				t.Errorf("%s Can(%s) = %v, want %v", c.p.Role, a, got, want)
			}
		}
	}
	// Refusals say what was refused.
	_, err := f.svc.Stats(ctx, f.advisor, app.StatsQuery{})
	var fe *app.ForbiddenError
	if !errors.As(err, &fe) || fe.Error() != "role advisor may not read statistics" || fe.Action != app.ActionStats {
		t.Errorf("advisor reads stats: %#v", err)
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
