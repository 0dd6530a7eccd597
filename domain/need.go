package domain

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Need is the aggregate of one need's stream: the state folded from its
// events. Commands (need_commands.go) check the rules against it and record
// new events, which they apply at once; Changes returns them for the store.
//
// Rules shared by every command:
//   - a need that was never captured refuses everything but Capture with
//     ErrNeedNotFound;
//   - an abandoned need still takes comments and contact erasure (history and
//     GDPR go on) and refuses forwards, match changes and reminders with
//     ErrNeedAbandoned, and a second abandon with ErrAbandonRefused: nobody
//     works on an abandoned need any more; capture a new one;
//   - the instant must be set: a zero time is a *ValidationError (field
//     "at"); it is stored in UTC.
//
// A Need is not safe for concurrent use: load one per command.
type Need struct {
	id       uuid.UUID
	captured bool
	capture  NeedCaptured

	matches map[uuid.UUID]*Match
	order   []uuid.UUID // referents by sent time, then id

	forwardedAt     time.Time
	firstTakeCharge time.Time
	closedAt        time.Time // when the need entered its current closed status
	abandoned       bool
	abandon         NeedAbandoned
	contactErased   bool
	contactErasedAt time.Time
	comments        []CommentAdded
	reminders       []ReminderSent
	lastEventAt     time.Time
	version         int64
	changes         []Event
}

// NewNeed returns the empty state of need id, before any event.
func NewNeed(id uuid.UUID) *Need {
	return &Need{id: id, matches: map[uuid.UUID]*Match{}}
}

// FoldNeed applies events, in stream order, to a new Need. It returns the
// first Apply error, wrapped with the event's index.
func FoldNeed(id uuid.UUID, events []Event) (*Need, error) {
	n := NewNeed(id)
	for i, e := range events {
		if err := n.Apply(e); err != nil {
			return nil, fmt.Errorf("fold need %s event %d: %w", id, i+1, err)
		}
	}
	return n, nil
}

// FoldNeedUntil is the need as it stood at instant t: the fold of its events
// whose OccurredAt is at or before t. Version then counts those events only.
// It returns the first Apply error, wrapped with the event's index.
func FoldNeedUntil(id uuid.UUID, events []Event, t time.Time) (*Need, error) {
	n := NewNeed(id)
	for i, e := range events {
		if e != nil && e.OccurredAt().After(t) {
			continue
		}
		if err := n.Apply(e); err != nil {
			return nil, fmt.Errorf("fold need %s until %s event %d: %w", id, t.Format(time.RFC3339), i+1, err)
		}
	}
	return n, nil
}

// Apply folds one event of the need's stream into the state. It is how
// history is loaded; commands use it too for the events they record.
//
// Apply checks that the history is consistent, not the commands' rules (an
// imported history may hold what today's commands refuse, such as a match
// change after an abandon). It returns an error wrapping ErrEventMismatch,
// and leaves the state unchanged, when the event does not fit: another need's event, an event
// before NeedCaptured or a second NeedCaptured, a forward to a referent
// already matched, a status change of a match that does not exist or that
// does not start from the match's status or breaks the transition table,
// or a type that is not a need event.
func (n *Need) Apply(e Event) error {
	if err := n.apply(e); err != nil {
		return fmt.Errorf("apply %s to need %s: %w", typeName(e), n.id, err)
	}
	n.version++
	if at := e.OccurredAt(); at.After(n.lastEventAt) {
		n.lastEventAt = at
	}
	return nil
}

func typeName(e Event) string {
	if e == nil {
		return "nil event"
	}
	return e.EventType()
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrEventMismatch, fmt.Sprintf(format, args...))
}

func (n *Need) checkID(id uuid.UUID) error {
	if id != n.id {
		return mismatch("event of need %s", id)
	}
	if !n.captured {
		return mismatch("need not captured yet")
	}
	return nil
}

func (n *Need) apply(e Event) error {
	switch e := e.(type) {
	case NeedCaptured:
		if e.NeedID != n.id {
			return mismatch("event of need %s", e.NeedID)
		}
		if n.captured {
			return mismatch("need already captured")
		}
		n.captured = true
		n.capture = e
	case NeedForwarded:
		if err := n.checkID(e.NeedID); err != nil {
			return err
		}
		if len(e.Referents) == 0 {
			return mismatch("forward to no referent")
		}
		seen := make(map[uuid.UUID]bool, len(e.Referents))
		for _, r := range e.Referents {
			if _, dup := n.matches[r.ReferentID]; dup || seen[r.ReferentID] {
				return mismatch("referent %s already matched", r.ReferentID)
			}
			seen[r.ReferentID] = true
		}
		for _, r := range e.Referents {
			n.matches[r.ReferentID] = &Match{ReferentID: r.ReferentID, OrganisationID: r.OrganisationID, Status: MatchQuo, SentAt: e.At}
			n.order = append(n.order, r.ReferentID)
		}
		n.sortMatches()
		if n.forwardedAt.IsZero() || e.At.Before(n.forwardedAt) {
			n.forwardedAt = e.At
		}
	case MatchStatusChanged:
		if err := n.checkID(e.NeedID); err != nil {
			return err
		}
		m, ok := n.matches[e.ReferentID]
		if !ok {
			return mismatch("no match with referent %s", e.ReferentID)
		}
		if m.Status != e.From {
			return mismatch("match of referent %s is %s, not %s", e.ReferentID, m.Status, e.From)
		}
		if err := CheckTransition(e.From, e.To); err != nil {
			return mismatch("%v", err)
		}
		before := n.Status()
		n.changeMatch(m, e)
		after := n.Status()
		switch {
		case !after.Closed():
			n.closedAt = time.Time{}
		case !before.Closed() || before != after:
			n.closedAt = e.At
		}
	case CommentAdded:
		if err := n.checkID(e.NeedID); err != nil {
			return err
		}
		n.comments = append(n.comments, e)
	case ReminderSent:
		if err := n.checkID(e.NeedID); err != nil {
			return err
		}
		n.reminders = append(n.reminders, e)
	case NeedAbandoned:
		if err := n.checkID(e.NeedID); err != nil {
			return err
		}
		if n.abandoned {
			return mismatch("need already abandoned")
		}
		n.abandoned = true
		n.abandon = e
	case ContactErased:
		if err := n.checkID(e.NeedID); err != nil {
			return err
		}
		if n.contactErased {
			return mismatch("contact already erased")
		}
		n.contactErased = true
		n.contactErasedAt = e.At
	default:
		return mismatch("not an event of a need")
	}
	return nil
}

func (n *Need) changeMatch(m *Match, e MatchStatusChanged) {
	m.Transitions = append(m.Transitions, Transition{From: e.From, To: e.To, At: e.At, By: e.By, Comment: e.Comment})
	m.Status = e.To
	if e.From == MatchQuo && e.To.Engaged() && n.firstTakeCharge.IsZero() {
		n.firstTakeCharge = e.At
	}
	if e.To == MatchTakingCare && m.TakenCareOfAt == nil {
		at := e.At
		m.TakenCareOfAt = &at
	}
	if e.To.Closed() {
		at := e.At
		m.ClosedAt = &at
	} else {
		m.ClosedAt = nil
	}
}

func (n *Need) sortMatches() {
	slices.SortStableFunc(n.order, func(a, b uuid.UUID) int {
		ma, mb := n.matches[a], n.matches[b]
		if c := ma.SentAt.Compare(mb.SentAt); c != 0 {
			return c
		}
		return compareIDs(a, b)
	})
}

// compareIDs orders uuids like their canonical strings, without building
// them.
func compareIDs(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

// record applies an event a command decided and keeps it in Changes.
func (n *Need) record(e Event) error {
	if err := n.Apply(e); err != nil {
		return err
	}
	n.changes = append(n.changes, e)
	return nil
}

// ID is the need's id.
func (n *Need) ID() uuid.UUID { return n.id }

// Exists reports whether the need was captured.
func (n *Need) Exists() bool { return n.captured }

// Version is the number of events applied, the recorded changes included.
func (n *Need) Version() int64 { return n.version }

// LoadedVersion is the version before the recorded changes: the version the
// store must still have for Changes to be appended.
func (n *Need) LoadedVersion() int64 { return n.version - int64(len(n.changes)) }

// Changes returns the events recorded by commands since the need was loaded
// (or since ClearChanges), in order.
func (n *Need) Changes() []Event { return slices.Clone(n.changes) }

// ClearChanges forgets the recorded changes, once they are stored; they stay
// applied.
func (n *Need) ClearChanges() { n.changes = nil }

// Status is the need's status: abandoned, or derived from its matches by
// DeriveStatus.
func (n *Need) Status() NeedStatus {
	// DeriveStatus's rules without building a slice: the fold calls this
	// twice per status change.
	if n.abandoned {
		return NeedAbandonedStatus
	}
	if len(n.matches) == 0 {
		return NeedCapturedStatus
	}
	best := len(statusPrecedence)
	for _, m := range n.matches {
		for i, s := range statusPrecedence[:best] {
			if m.Status == s {
				best = i
				break
			}
		}
	}
	if best == len(statusPrecedence) {
		return NeedNotForMe
	}
	return NeedStatus(statusPrecedence[best])
}

// Captured returns the capture data (the zero value before capture).
func (n *Need) Captured() NeedCaptured { return n.capture }

// CapturedAt is when the need was captured (zero before capture).
func (n *Need) CapturedAt() time.Time { return n.capture.At }

// Matches returns the matches sorted by sent time, then referent id.
func (n *Need) Matches() []Match {
	out := make([]Match, len(n.order))
	for i, id := range n.order {
		out[i] = n.matches[id].clone()
	}
	return out
}

// Match returns the match of referent referentID.
func (n *Need) Match(referentID uuid.UUID) (Match, bool) {
	m, ok := n.matches[referentID]
	if !ok {
		return Match{}, false
	}
	return m.clone(), true
}

// ForwardedAt is when the need was first forwarded.
func (n *Need) ForwardedAt() (time.Time, bool) { return n.forwardedAt, !n.forwardedAt.IsZero() }

// FirstTakeChargeAt is the first time any match left quo for taking care or
// a closed status. It stays set after a reopening.
func (n *Need) FirstTakeChargeAt() (time.Time, bool) {
	return n.firstTakeCharge, !n.firstTakeCharge.IsZero()
}

// ClosedAt is when the need entered its current closed status (done,
// done_no_help or done_not_reachable); false while it is not closed.
func (n *Need) ClosedAt() (time.Time, bool) { return n.closedAt, !n.closedAt.IsZero() }

// AbandonedAt is when the need was abandoned.
func (n *Need) AbandonedAt() (time.Time, bool) { return n.abandon.At, n.abandoned }

// Abandonment returns the NeedAbandoned event, if the need was abandoned.
func (n *Need) Abandonment() (NeedAbandoned, bool) { return n.abandon, n.abandoned }

// Reminders returns the reminders sent, in order.
func (n *Need) Reminders() []ReminderSent { return slices.Clone(n.reminders) }

// Comments returns the comments, in order.
func (n *Need) Comments() []CommentAdded { return slices.Clone(n.comments) }

// ContactErased reports whether the contact's personal data was erased.
func (n *Need) ContactErased() bool { return n.contactErased }

// ContactErasedAt is when the contact was erased.
func (n *Need) ContactErasedAt() (time.Time, bool) { return n.contactErasedAt, n.contactErased }

// LastEventAt is the latest OccurredAt among the applied events.
func (n *Need) LastEventAt() time.Time { return n.lastEventAt }

// engaged reports whether any match is taking care or closed.
func (n *Need) engaged() bool {
	for _, m := range n.matches {
		if m.Status.Engaged() {
			return true
		}
	}
	return false
}
