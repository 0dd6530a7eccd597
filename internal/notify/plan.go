package notify

import (
	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/reso-fr/reso/domain"
)

// delivery is one mail to send: what about, to whom, why.
type delivery struct {
	Key    string // unique per (cause, kind, recipient)
	NeedID uuid.UUID
	// Version is the need's version the mail speaks of: the cause's.
	Version int64
	Kind    domain.NotificationKind
	Role    domain.RecipientRole
	To      uuid.UUID // referent or user id; uuid.Nil for the contact
}

func keyOf(cause string, kind domain.NotificationKind, role domain.RecipientRole, to uuid.UUID) string {
	return cause + "/" + string(kind) + "/" + string(role) + ":" + to.String()
}

// plan decides the mails one event of a need causes. before and after are
// the need just before and just after the event; cause identifies the
// event (its id); authorReferent is the referent id of the event's author
// when the author is a referent (uuid.Nil otherwise), so that a referent's
// own comment is not mailed back to them. plan is pure.
func plan(cause string, e domain.Event, before, after *domain.Need, authorReferent uuid.UUID) []delivery {
	var out []delivery
	add := func(kind domain.NotificationKind, role domain.RecipientRole, to uuid.UUID) {
		out = append(out, delivery{Key: keyOf(cause, kind, role, to), NeedID: after.ID(), Version: after.Version(),
			Kind: kind, Role: role, To: to})
	}
	advisor := after.Captured().AdvisorID
	switch e := e.(type) {
	case domain.NeedForwarded:
		for _, r := range e.Referents {
			add(domain.NotifyForwarded, domain.RecipientReferent, r.ReferentID)
		}
	case domain.MatchStatusChanged:
		switch {
		case e.From == domain.MatchQuo && e.To == domain.MatchTakingCare:
			if !after.ContactErased() {
				add(domain.NotifyTakenCharge, domain.RecipientContact, uuid.Nil)
			}
			// The advisor hears once of each referent who takes the need
			// in charge: taking it again after a reopening names nobody
			// new (unlike the company's mail above, sent on every
			// take-charge). Nor is the advisor told of their own act.
			if m, ok := before.Match(e.ReferentID); ok && m.TakenCareOfAt == nil && e.Actor().ID != advisor {
				add(domain.NotifyAdvisorTakenCharge, domain.RecipientUser, advisor)
			}
		case e.To == domain.MatchDone || e.To == domain.MatchDoneNoHelp:
			// The company hears that its need is done when the need's status
			// becomes done (or done_no_help), not when a second referent
			// closes it the same way.
			if st := after.Status(); !after.ContactErased() && st != before.Status() &&
				(st == domain.NeedDone || st == domain.NeedDoneNoHelp) {
				add(domain.NotifyDone, domain.RecipientContact, uuid.Nil)
			}
		case e.To == domain.MatchNotForMe:
			if after.Status() == domain.NeedNotForMe && before.Status() != domain.NeedNotForMe {
				add(domain.NotifyAllDeclined, domain.RecipientUser, advisor)
			}
		}
	case domain.ReminderSent:
		kind := domain.NotifyPoke
		if e.Kind == domain.ReminderLastChance {
			kind = domain.NotifyLastChance
		}
		for _, m := range after.Matches() {
			if m.Status == domain.MatchQuo {
				add(kind, domain.RecipientReferent, m.ReferentID)
			}
		}
	case domain.NeedAbandoned:
		add(domain.NotifyAbandoned, domain.RecipientUser, advisor)
	case domain.CommentAdded:
		author := e.Actor().ID
		if advisor != author {
			add(domain.NotifyComment, domain.RecipientUser, advisor)
		}
		for _, m := range after.Matches() {
			if m.Status != domain.MatchNotForMe && m.ReferentID != authorReferent {
				add(domain.NotifyComment, domain.RecipientReferent, m.ReferentID)
			}
		}
	}
	return out
}

// deliverArgs is a delivery job. Key alone makes it unique.
type deliverArgs struct {
	Key     string                  `json:"key" river:"unique"`
	NeedID  uuid.UUID               `json:"need_id"`
	Version int64                   `json:"version"`
	Notice  domain.NotificationKind `json:"notice"`
	Role    domain.RecipientRole    `json:"role"`
	To      uuid.UUID               `json:"to"`
	// Since is when the cause happened (the event's recorded time), for
	// the delay metric.
	SinceMicros int64 `json:"since_us"`
}

// Kind implements river.JobArgs.
func (deliverArgs) Kind() string { return deliverKind }

const deliverKind = "notify_deliver"

// InsertOpts implements river.JobArgsWithInsertOpts: unique by Key across
// every state but cancelled and discarded (River's default), which
// includes completed.
func (deliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func (d delivery) job(sinceMicros int64) riverInsert {
	return riverInsert{Args: deliverArgs{Key: d.Key, NeedID: d.NeedID, Version: d.Version, Notice: d.Kind,
		Role: d.Role, To: d.To, SinceMicros: sinceMicros}}
}
