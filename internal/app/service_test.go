package app_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
)

var stores = []string{"memory", "sqlite", "postgres"}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := mustFixture(t, kind)
			m := app.CommandMeta{IdempotencyKey: "k1", CorrelationID: "corr-1"}
			r, err := f.svc.CaptureNeed(ctx, f.advisor, capture(lille), m)
			if err != nil {
				t.Fatal(err)
			}
			id := r.Need.ID
			if r.Need.Status != domain.NeedCapturedStatus || r.Need.Version != 1 || r.Position.IsZero() {
				t.Errorf("after capture: %+v at %v", r.Need, r.Position)
			}
			if c := r.Need.Contact; c == nil || c.Email != "camille.dupont@beffroi.fr" || c.Erased {
				t.Errorf("contact = %+v", c)
			}
			sugg, err := f.svc.Suggestions(ctx, f.advisor, id)
			if err != nil || len(sugg) != 2 || sugg[0].ReferentID != f.refA {
				t.Errorf("suggestions = %+v, %v", sugg, err)
			}
			r2, err := f.svc.ForwardNeed(ctx, f.advisor, id, []uuidT{f.refA, f.refB}, app.CommandMeta{})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Position.Less(r2.Position) || r2.Need.Status != domain.NeedQuo || len(r2.Need.Matches) != 2 || r2.Need.ForwardedAt == nil {
				t.Errorf("after forward: %+v", r2.Need)
			}
			if r2.Need.Matches[0].OrganisationID != f.org {
				t.Errorf("match organisation = %s", r2.Need.Matches[0].OrganisationID)
			}
			// Every later command happens a minute after beforeTake, on the
			// service's clock.
			beforeTake := f.now().UTC()
			f.skew.Add(int64(time.Minute))
			steps := []struct {
				p      app.Principal
				ref    uuidT
				action string
				want   domain.NeedStatus
			}{
				{f.referentB, f.refB, "decline", domain.NeedQuo},
				{f.referentA, f.refA, "take_charge", domain.NeedTakingCare},
				{f.referentA, f.refA, "done", domain.NeedDone},
				{f.referentA, f.refA, "reopen", domain.NeedQuo},
				{f.referentA, f.refA, "take_charge", domain.NeedTakingCare},
				{f.referentA, f.refA, "done_no_help", domain.NeedDoneNoHelp},
			}
			for _, s := range steps {
				res, err := f.svc.ChangeMatch(ctx, s.p, id, s.ref, s.action, "because", app.CommandMeta{})
				if err != nil {
					t.Fatalf("%s: %v", s.action, err)
				}
				if res.Need.Status != s.want {
					t.Errorf("%s: status %s, want %s", s.action, res.Need.Status, s.want)
				}
			}
			if _, err := f.svc.Comment(ctx, f.referentA, id, "Entreprise rappelée", app.CommandMeta{}); err != nil {
				t.Fatal(err)
			}
			v, err := f.svc.GetNeed(ctx, f.animNord, id, nil)
			if err != nil {
				t.Fatal(err)
			}
			if v.Version != 9 || v.Status != domain.NeedDoneNoHelp || v.FirstTakeChargeAt == nil {
				t.Errorf("need = %+v", v)
			}
			// Time travel: before anyone took charge.
			old, err := f.svc.GetNeed(ctx, f.admin, id, &beforeTake)
			if err != nil {
				t.Fatal(err)
			}
			if old.Status != domain.NeedQuo || old.Version != 2 || old.FirstTakeChargeAt != nil {
				t.Errorf("as of %v: %+v", beforeTake, old)
			}
			long := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
			if _, err := f.svc.GetNeed(ctx, f.admin, id, &long); !errors.Is(err, app.ErrNotFound) {
				t.Errorf("as of 2000: %v, want ErrNotFound", err)
			}

			h, err := f.svc.History(ctx, f.animNord, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != 9 {
				t.Fatalf("history has %d events", len(h))
			}
			if h[0].Type != domain.TypeNeedCaptured || h[0].Actor.Name != "Alain Conseiller" || h[0].Actor.Role != domain.RoleAdvisor {
				t.Errorf("first = %+v", h[0])
			}
			if h[3].Actor.Name != "Rémi Référent" || h[3].Version != 4 {
				t.Errorf("fourth = %+v", h[3])
			}
			var captured struct {
				Contact app.ContactView `json:"contact"`
			}
			if err := json.Unmarshal(h[0].Data, &captured); err != nil || captured.Contact.Name != "Camille Dupont" {
				t.Errorf("history contact = %+v, %v", captured, err)
			}
			if strings.Contains(string(h[0].Data), "ciphertext") || strings.Contains(string(h[0].Data), "key_id") {
				t.Errorf("history leaks the sealed contact: %s", h[0].Data)
			}
			for i := 1; i < len(h); i++ {
				if !mustPos(t, h[i-1].Position).Less(mustPos(t, h[i].Position)) {
					t.Errorf("history out of order at %d", i)
				}
			}
			// Metadata reached the log.
			raw, err := f.store.ReadStream(ctx, domain.NeedStream(id), 1, 1)
			if err != nil {
				t.Fatal(err)
			}
			md := raw[0].Metadata
			if md.ActorID != f.advisor.UserID.String() || md.ActorRole != "advisor" || md.CorrelationID != "corr-1" || md.IdempotencyKey != "k1" {
				t.Errorf("metadata = %+v", md)
			}
		})
	}
}

func mustPos(t *testing.T, s string) eventstore.Position {
	t.Helper()
	p, err := eventstore.ParsePosition(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "memory")
	id := f.mustNeed(t, lille, f.refA)
	abandoned := f.mustNeed(t, lille, f.refA)
	if _, err := f.svc.Abandon(ctx, f.animNord, abandoned, "personne", app.CommandMeta{}); err != nil {
		t.Fatal(err)
	}
	taken := f.mustNeed(t, lille, f.refA)
	if _, err := f.svc.ChangeMatch(ctx, f.referentA, taken, f.refA, "take_charge", "", app.CommandMeta{}); err != nil {
		t.Fatal(err)
	}
	var ve *domain.ValidationError
	var te *domain.TransitionError
	bad := func(mut func(*app.CaptureInput)) error {
		in := capture(lille)
		mut(&in)
		_, err := f.svc.CaptureNeed(ctx, f.advisor, in, app.CommandMeta{})
		return err
	}
	cases := []struct {
		name  string
		err   error
		field string // for validation errors
		is    error  // otherwise
	}{
		{"bad siret", bad(func(c *app.CaptureInput) { c.SIRET = "73282932000075" }), "siret", nil},
		{"unknown commune", bad(func(c *app.CaptureInput) { c.Commune = "99999" }), "commune", nil},
		{"unknown subject", bad(func(c *app.CaptureInput) { c.Subject = "astrology" }), "subject", nil},
		{"no contact", bad(func(c *app.CaptureInput) { c.Contact = app.Contact{} }), "contact", nil},
		{"unknown referent", fwd(f, id, uuidT{1}), "referent_ids", nil},
		{"no referent", fwd(f, id), "referent_ids", nil},
		{"already matched", fwd(f, id, f.refA), "", domain.ErrAlreadyMatched},
		{"unknown action", change(f, f.referentA, id, f.refA, "dance"), "action", nil},
		{"bad transition", change(f, f.referentA, id, f.refA, "done"), "", domain.ErrInvalidTransition},
		{"no match", change(f, f.admin, id, f.refB, "take_charge"), "", domain.ErrMatchNotFound},
		{"abandon taken", abandon(f, taken), "", domain.ErrAbandonRefused},
		{"forward abandoned", fwd(f, abandoned, f.refB), "", domain.ErrNeedAbandoned},
		{"unknown need", abandon(f, uuidT{7}), "", app.ErrNotFound},
		{"bad reminder", remind(f, id, "shout"), "kind", nil},
		{"unknown organisation", referent(f, uuidT{3}), "organisation_id", nil},
		{"erase nothing", erase(f, app.EraseInput{}), "contact_email", nil},
	}
	for _, c := range cases {
		switch {
		case c.field != "":
			if !errors.As(c.err, &ve) || ve.Field != c.field {
				t.Errorf("%s: %v, want a validation error on %s", c.name, c.err, c.field)
			}
		case !errors.Is(c.err, c.is):
			t.Errorf("%s: %v, want %v", c.name, c.err, c.is)
		}
	}
	if err := change(f, f.referentA, id, f.refA, "done"); !errors.As(err, &te) || te.From != domain.MatchQuo || te.To != domain.MatchDone {
		t.Errorf("transition error = %v", err)
	}
}

func fwd(f *fixture, id uuidT, refs ...uuidT) error {
	_, err := f.svc.ForwardNeed(ctx, f.admin, id, refs, app.CommandMeta{})
	return err
}

func change(f *fixture, p app.Principal, id, ref uuidT, action string) error {
	_, err := f.svc.ChangeMatch(ctx, p, id, ref, action, "", app.CommandMeta{})
	return err
}

func abandon(f *fixture, id uuidT) error {
	_, err := f.svc.Abandon(ctx, f.admin, id, "trop tard", app.CommandMeta{})
	return err
}

func remind(f *fixture, id uuidT, kind string) error {
	_, err := f.svc.Remind(ctx, f.admin, id, kind, app.CommandMeta{})
	return err
}

func referent(f *fixture, org uuidT) error {
	_, _, err := f.svc.RegisterReferent(ctx, f.admin, app.ReferentInput{
		OrganisationID: org, Name: "X", Email: "x@y.fr", Subjects: []string{"recruitment"},
		Zones: []domain.Zone{domain.National},
	}, app.CommandMeta{})
	return err
}

func erase(f *fixture, in app.EraseInput) error {
	_, _, err := f.svc.Erase(ctx, f.admin, in, app.CommandMeta{})
	return err
}
