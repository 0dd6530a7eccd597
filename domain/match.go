package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// MatchStatuses returns the six match statuses, quo first.
func MatchStatuses() []MatchStatus {
	return []MatchStatus{MatchQuo, MatchTakingCare, MatchDone, MatchDoneNoHelp, MatchDoneNotReachable, MatchNotForMe}
}

// transitions is DESIGN.md's table: the only moves a match may make.
var transitions = map[MatchStatus][]MatchStatus{
	MatchQuo:              {MatchTakingCare, MatchNotForMe},
	MatchNotForMe:         {MatchQuo},
	MatchTakingCare:       {MatchDone, MatchDoneNoHelp, MatchDoneNotReachable, MatchQuo},
	MatchDone:             {MatchQuo},
	MatchDoneNoHelp:       {MatchQuo},
	MatchDoneNotReachable: {MatchQuo},
}

// CanTransition reports whether a match may go from from to to.
func CanTransition(from, to MatchStatus) bool {
	return slices.Contains(transitions[from], to)
}

// CheckTransition returns nil when a match may go from from to to, and a
// *TransitionError (errors.Is ErrInvalidTransition) otherwise.
func CheckTransition(from, to MatchStatus) error {
	if !CanTransition(from, to) {
		return &TransitionError{From: from, To: to}
	}
	return nil
}

// Valid reports whether s is one of the six match statuses.
func (s MatchStatus) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Closed reports whether s is one of the three closed statuses.
func (s MatchStatus) Closed() bool {
	return s == MatchDone || s == MatchDoneNoHelp || s == MatchDoneNotReachable
}

// Engaged reports whether a referent is on it or has closed it: taking care
// or closed. Reminders stop and abandon is refused once a match is engaged.
func (s MatchStatus) Engaged() bool { return s == MatchTakingCare || s.Closed() }

// Label is the French label the field uses.
func (s MatchStatus) Label() string {
	switch s {
	case MatchQuo:
		return "En attente"
	case MatchTakingCare:
		return "Prise en charge"
	case MatchDone:
		return "Aide proposée"
	case MatchDoneNoHelp:
		return "Pas d'aide disponible"
	case MatchDoneNotReachable:
		return "Entreprise injoignable"
	case MatchNotForMe:
		return "Refusé"
	}
	return string(s)
}

// Label is the French label of a need status.
func (s NeedStatus) Label() string {
	switch s {
	case NeedCapturedStatus:
		return "Besoin saisi"
	case NeedAbandonedStatus:
		return "Abandonné"
	}
	return MatchStatus(s).Label()
}

// Closed reports whether the need ended with an answer: done, done_no_help
// or done_not_reachable.
func (s NeedStatus) Closed() bool { return MatchStatus(s).Closed() }

// NeedStatuses returns the eight need statuses.
func NeedStatuses() []NeedStatus {
	return []NeedStatus{NeedCapturedStatus, NeedQuo, NeedTakingCare, NeedDone, NeedDoneNoHelp, NeedDoneNotReachable, NeedNotForMe, NeedAbandonedStatus}
}

// statusPrecedence is the order of rules 2 to 6: the first status any match
// has gives the need's.
var statusPrecedence = [...]MatchStatus{MatchDone, MatchDoneNoHelp, MatchDoneNotReachable, MatchTakingCare, MatchQuo}

// DeriveStatus applies DESIGN.md's rules to a need's match statuses, the
// first that applies winning: abandoned when abandoned; captured without
// matches; then done, done_no_help, done_not_reachable, taking_care, quo if
// any match has it; not_for_me otherwise (all declined).
func DeriveStatus(matches []MatchStatus, abandoned bool) NeedStatus {
	if abandoned {
		return NeedAbandonedStatus
	}
	if len(matches) == 0 {
		return NeedCapturedStatus
	}
	for _, s := range statusPrecedence {
		if slices.Contains(matches, s) {
			return NeedStatus(s)
		}
	}
	return NeedNotForMe
}

// Match is one referent on one need, with its whole history.
type Match struct {
	ReferentID     uuid.UUID
	OrganisationID uuid.UUID
	Status         MatchStatus
	SentAt         time.Time
	// TakenCareOfAt is the first time the referent took charge; reopening
	// does not clear it (Transitions has every later step).
	TakenCareOfAt *time.Time
	// ClosedAt is when the match entered its current closed status; nil
	// while it is not closed.
	ClosedAt    *time.Time
	Transitions []Transition
}

// Transition is one status change of a match.
type Transition struct {
	From    MatchStatus
	To      MatchStatus
	At      time.Time
	By      Actor
	Comment string
}

// Reopenings counts how many times the match went back to quo.
func (m Match) Reopenings() int {
	n := 0
	for _, t := range m.Transitions {
		if t.To == MatchQuo {
			n++
		}
	}
	return n
}

func (m Match) clone() Match {
	m.Transitions = slices.Clone(m.Transitions)
	if m.TakenCareOfAt != nil {
		t := *m.TakenCareOfAt
		m.TakenCareOfAt = &t
	}
	if m.ClosedAt != nil {
		t := *m.ClosedAt
		m.ClosedAt = &t
	}
	return m
}

// HandledElsewhere reports whether a referent's match should leave their
// queue of new needs because another referent answered the need: the match
// is still untouched (quo) while the need is closed (done, done without
// help, not reachable). The field's practice: once one expert has closed a
// company's request, the others need not answer it; their untouched
// matches are shown as handled by someone else, with the closed ones,
// rather than waiting in their inbox until they expire. A reopening by the
// closer puts them back.
func HandledElsewhere(match MatchStatus, needClosed bool) bool {
	return match == MatchQuo && needClosed
}
