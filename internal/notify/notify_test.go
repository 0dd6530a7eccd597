package notify_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/testwait"
)

// notifications returns the notification steps of a history.
func notifications(h []app.HistoryEvent) []domain.NotificationSent {
	var out []domain.NotificationSent
	for _, s := range h {
		if s.Type == domain.TypeNotificationSent {
			var n domain.NotificationSent
			_ = json.Unmarshal(s.Data, &n)
			out = append(out, n)
		}
	}
	return out
}

// A need forwarded to two referents mails each of them once, with the
// link; its history records both deliveries after the forward. The rest of
// its life mails the company and the participants.
func TestNeedLifeMailsEachRecipientOnce(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			e := mustEnv(t, envOptions{store: store})
			id, contact := e.mustCapture()
			e.mustForward(id, e.ref1, e.ref2)
			e.mp.WaitCount(t, 2, 20*time.Second)
			e.waitIdle()
			got := e.mp.Messages(t)
			to := recipients(got)
			slices.Sort(to)
			if want := []string{"chloe.nord@referents.test", "david.region@referents.test"}; !slices.Equal(to, want) {
				t.Fatalf("forward mailed %v, want %v", to, want)
			}
			link := baseURL + "/besoins/" + id.String()
			for _, m := range got {
				full := e.mp.Message(t, m.ID)
				if !strings.Contains(full.Text, link) || !strings.Contains(full.HTML, `href="`+link+`"`) ||
					!strings.HasPrefix(full.Subject, "Nouveau besoin : Boulangerie") || !strings.Contains(full.Text, "Lille (59)") {
					t.Errorf("forward mail to %v:\nsubject %s\n%s", m.To, full.Subject, full.Text)
				}
			}
			h := e.history(id)
			types := make([]string, len(h))
			for i, s := range h {
				types[i] = s.Type
			}
			if want := []string{"NeedCaptured", "NeedForwarded", "NotificationSent", "NotificationSent"}; !slices.Equal(types, want) {
				t.Fatalf("history %v, want %v", types, want)
			}
			for _, n := range notifications(h) {
				if n.Kind != domain.NotifyForwarded || n.To.Role != domain.RecipientReferent || n.To.Name == "" {
					t.Errorf("recorded %+v", n)
				}
			}

			// The referent takes charge: the company and the advisor hear of
			// it. A comment by that referent goes to the advisor and the other
			// referent, not back to its author. Closing it tells the company
			// again.
			if _, err := e.svc.ChangeMatch(ctx, e.refUser1, id, e.ref1, "take_charge", "", app.CommandMeta{}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Comment(ctx, e.refUser1, id, "Rendez-vous pris mardi", app.CommandMeta{}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.ChangeMatch(ctx, e.refUser1, id, e.ref1, "done", "", app.CommandMeta{}); err != nil {
				t.Fatal(err)
			}
			e.mp.WaitCount(t, 7, 20*time.Second)
			e.waitIdle()
			got = e.mp.Messages(t)
			bySubject := map[string][]string{}
			for _, m := range got {
				if strings.HasPrefix(m.Subject, "Nouveau besoin") {
					continue
				}
				bySubject[m.Subject] = append(bySubject[m.Subject], m.To[0].Address)
			}
			want := map[string][]string{
				"Votre demande est prise en charge":                                           {contact},
				"Votre besoin pour Boulangerie 1 est pris en charge par Chloe Nord, CCI Test": {e.advisorEmail},
				"Nouveau commentaire sur le besoin de Boulangerie 1":                          {"adele.conseil@users.test", "david.region@referents.test"},
				"Votre demande a été traitée":                                                 {contact},
			}
			if len(got) != 7 || len(bySubject) != len(want) {
				t.Fatalf("after the forward: %v", bySubject)
			}
			for subj, to := range want {
				have := bySubject[subj]
				slices.Sort(have)
				if !slices.Equal(have, to) {
					t.Errorf("%q went to %v, want %v", subj, have, to)
				}
			}
			for _, m := range got {
				if m.Subject == "Votre demande a été traitée" {
					if full := e.mp.Message(t, m.ID); !strings.Contains(full.Text, "Chloe Nord (CCI Test)") || !strings.Contains(full.Text, "aide proposée") {
						t.Errorf("done mail:\n%s", full.Text)
					}
				}
			}
			if n := len(notifications(e.history(id))); n != 7 {
				t.Errorf("history records %d deliveries, want 7", n)
			}
			sent, err := e.svc.ListNotifications(ctx, e.admin, app.NotificationFilter{Status: app.NotificationSent})
			if err != nil || len(sent) != 7 {
				t.Fatalf("sent deliveries %d, %v; want 7", len(sent), err)
			}
			if _, err := e.svc.ListNotifications(ctx, e.advisor, app.NotificationFilter{}); !errors.Is(err, app.ErrForbidden) {
				t.Errorf("an advisor listed deliveries: %v", err)
			}
		})
	}
}

// Every referent declining tells the advisor; abandoning too.
func TestAdvisorHearsOfDeclinesAndAbandon(t *testing.T) {
	t.Parallel()
	e := mustEnv(t, envOptions{store: "sqlite"})
	id, _ := e.mustCapture()
	e.mustForward(id, e.ref1)
	if _, err := e.svc.ChangeMatch(ctx, e.refUser1, id, e.ref1, "decline", "hors de mon champ", app.CommandMeta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Abandon(ctx, e.admin, id, "entreprise fermée", app.CommandMeta{}); err != nil {
		t.Fatal(err)
	}
	e.mp.WaitCount(t, 3, 20*time.Second)
	e.waitIdle()
	var subjects []string
	for _, m := range e.mp.Messages(t) {
		if strings.HasPrefix(m.Subject, "Nouveau besoin") {
			continue
		}
		if m.To[0].Address != e.advisorEmail {
			t.Errorf("%q went to %s, want the advisor", m.Subject, m.To[0].Address)
		}
		subjects = append(subjects, m.Subject)
	}
	slices.Sort(subjects)
	want := []string{"Aucun référent n'a retenu le besoin de Boulangerie 1", "Besoin abandonné : Boulangerie 1"}
	if !slices.Equal(subjects, want) {
		t.Fatalf("advisor got %v, want %v", subjects, want)
	}
}

// The advisor who captured a need hears once of each referent who takes it
// in charge, with a link to the need, and never the company's contact
// details; a referent taking it again after a reopening tells the company
// again, not the advisor.
func TestAdvisorHearsOfEachTakeChargeOnce(t *testing.T) {
	t.Parallel()
	e := mustEnv(t, envOptions{store: "sqlite"})
	id, contact := e.mustCapture()
	e.mustForward(id, e.ref1, e.ref2)
	for _, c := range []struct {
		by       app.Principal
		referent uuid.UUID
		action   string
	}{
		{e.refUser1, e.ref1, "take_charge"}, {e.refUser1, e.ref1, "reopen"}, {e.refUser1, e.ref1, "take_charge"},
		{e.admin, e.ref2, "take_charge"},
	} {
		if _, err := e.svc.ChangeMatch(ctx, c.by, id, c.referent, c.action, "", app.CommandMeta{}); err != nil {
			t.Fatalf("%s of %s: %v", c.action, c.referent, err)
		}
	}
	// 2 forwards, 3 take-charges told to the company, 2 to the advisor.
	e.mp.WaitCount(t, 7, 20*time.Second)
	e.waitIdle()
	got := e.mp.Messages(t)
	if len(got) != 7 {
		t.Fatalf("%d mails, want 7: %v", len(got), recipients(got))
	}
	link := baseURL + "/besoins/" + id.String()
	var toAdvisor []string
	for _, m := range got {
		if m.To[0].Address != e.advisorEmail {
			if strings.HasPrefix(m.Subject, "Votre besoin pour") {
				t.Errorf("%q went to %s", m.Subject, m.To[0].Address)
			}
			continue
		}
		toAdvisor = append(toAdvisor, m.Subject)
		full := e.mp.Message(t, m.ID)
		if !strings.Contains(full.Text, link) || !strings.Contains(full.HTML, `href="`+link+`"`) ||
			!strings.Contains(full.Text, "Boulangerie 1") || !strings.Contains(full.Text, "Recruter un ou plusieurs salariés") {
			t.Errorf("advisor's mail %q:\n%s", m.Subject, full.Text)
		}
		for _, private := range []string{contact, "0320000000", "Camille Dupont", "@referents.test"} {
			if strings.Contains(full.Text, private) || strings.Contains(full.HTML, private) {
				t.Errorf("advisor's mail %q shows %q", m.Subject, private)
			}
		}
	}
	slices.Sort(toAdvisor)
	want := []string{"Votre besoin pour Boulangerie 1 est pris en charge par Chloe Nord, CCI Test",
		"Votre besoin pour Boulangerie 1 est pris en charge par David Region, CCI Test"}
	if !slices.Equal(toAdvisor, want) {
		t.Fatalf("the advisor got %v, want %v", toAdvisor, want)
	}
	var recorded int
	for _, n := range notifications(e.history(id)) {
		if n.Kind == domain.NotifyAdvisorTakenCharge {
			recorded++
			if n.To.Role != domain.RecipientUser || n.To.ID != e.advisor.UserID || n.To.Name != "Adele Conseil" {
				t.Errorf("recorded %+v", n)
			}
		}
	}
	if recorded != 2 {
		t.Errorf("history records %d mails to the advisor, want 2", recorded)
	}
}

// An erased contact gets nothing: the company's address is gone with its
// key, and the notifier kept none.
func TestErasedContactGetsNoMail(t *testing.T) {
	t.Parallel()
	e := mustEnv(t, envOptions{store: "sqlite"})
	id, contact := e.mustCapture()
	e.mustForward(id, e.ref1)
	if _, _, err := e.svc.Erase(ctx, e.admin, app.EraseInput{ContactEmail: contact}, app.CommandMeta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ChangeMatch(ctx, e.refUser1, id, e.ref1, "take_charge", "", app.CommandMeta{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ChangeMatch(ctx, e.refUser1, id, e.ref1, "done", "", app.CommandMeta{}); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	for _, m := range e.mp.Messages(t) {
		if m.To[0].Address == contact {
			t.Errorf("the erased contact got %q", m.Subject)
		}
	}
	got := recipients(e.mp.Messages(t))
	slices.Sort(got)
	if !slices.Equal(got, []string{e.advisorEmail, "chloe.nord@referents.test"}) {
		t.Errorf("mails went to %v, want only the referent and the advisor", got)
	}

	// Erased after the mail was planned, before it could go (the mail
	// server is down): the job finds no key to open, and sends nothing.
	id2, contact2 := e.mustCapture()
	e.mustForward(id2, e.ref1)
	e.mp.WaitCount(t, 3, 20*time.Second)
	e.waitIdle()
	e.mp.Stop()
	if _, err := e.svc.ChangeMatch(ctx, e.refUser1, id2, e.ref1, "take_charge", "", app.CommandMeta{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the take-charge mail to fail", func() bool {
		vs, err := e.svc.ListNotifications(ctx, e.admin, app.NotificationFilter{Status: app.NotificationRetrying})
		return err == nil && slices.ContainsFunc(vs, func(v app.NotificationView) bool { return v.Kind == domain.NotifyTakenCharge })
	})
	if _, _, err := e.svc.Erase(ctx, e.admin, app.EraseInput{ContactEmail: contact2}, app.CommandMeta{}); err != nil {
		t.Fatal(err)
	}
	e.mp.Restart()
	e.mp.WaitCount(t, 4, 30*time.Second) // the advisor's mail, retried
	e.waitIdle()
	for _, m := range e.mp.Messages(t) {
		if m.To[0].Address == contact2 {
			t.Errorf("the contact erased before sending got %q", m.Subject)
		}
	}
	if n := len(e.mp.Messages(t)); n != 4 {
		t.Errorf("%d mails, want the 2 forwards and the advisor's 2", n)
	}
}

// waitFor polls cond until it holds, or fails t after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.MustEventually(t, 30*time.Second, func() error {
		if !cond() {
			return fmt.Errorf("waiting for %s", what)
		}
		return nil
	})
}
