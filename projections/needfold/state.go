// Package needfold folds the events of needs into per-need states, and
// keeps those states between batches: the part of the needs and statistics
// read models (projections/needs, projections/stats) that is the same in
// both. It depends on the projections runtime only.
package needfold

import (
	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
)

// State is what the needs and statistics projections remember of one
// need between batches. Each stores what it needs of it beside its rows
// (the needs projection in its columns, statistics in a binary form), so
// that a projection resumes from its tables alone. It never holds the
// contact's personal data: only the id of the key that seals it.
type State struct {
	ID           uuid.UUID
	SIRET        string
	CompanyName  string
	Commune      string
	EPCI         string
	Departement  string
	Region       string
	Subject      string
	Theme        string
	AdvisorID    uuid.UUID
	ContactKeyID string
	Erased       bool
	CapturedAt   int64
	ForwardedAt  int64
	FirstTakenAt int64
	ClosedAt     int64
	AbandonedAt  int64
	Abandoned    bool
	Reminders    int
	LastReminder string
	LastRemindAt int64
	Matches      []Match
	Version      int64 // the stream's
	// SFAlert is the company's alert in the Signaux Faibles list that
	// applied when the need was captured (F1, F2, or "none"), set by the
	// statistics projection (Cache.OnCapture); "" elsewhere.
	SFAlert string

	// dirty says the state is in its cache's dirty list: a field rather
	// than a set beside the cache, since folding asks for every event.
	dirty bool
}

// Match is one referent's match on the need, as State keeps it. Times are
// microseconds (projections.Micros), 0 when unset.
type Match struct {
	ReferentID     uuid.UUID
	OrganisationID uuid.UUID
	Status         domain.MatchStatus
	SentAt         int64
	TakenAt        int64 // first quo -> engaged
	ClosedAt       int64 // entered its current closed status
	UpdatedAt      int64
}

// NewState is the state of the need e captures, placed in its EPCI,
// département and région by geo.
func NewState(e domain.NeedCaptured, geo *domain.Geography) *State {
	s := &State{
		ID: e.NeedID, SIRET: e.SIRET, CompanyName: e.CompanyName, Commune: e.Commune,
		Subject: e.Subject, AdvisorID: e.AdvisorID, ContactKeyID: e.Contact.KeyID,
		CapturedAt: projections.Micros(e.At),
	}
	if c, ok := geo.Commune(e.Commune); ok {
		s.EPCI, s.Departement, s.Region = c.EPCI, c.Departement, c.Region
	}
	if sub, ok := domain.SubjectByCode(e.Subject); ok {
		s.Theme = sub.Theme
	}
	return s
}

func (s *State) statuses() []domain.MatchStatus {
	out := make([]domain.MatchStatus, len(s.Matches))
	for i, m := range s.Matches {
		out[i] = m.Status
	}
	return out
}

// Status is the need's derived status (DESIGN.md's rules, via the domain).
func (s *State) Status() domain.NeedStatus {
	return domain.DeriveStatus(s.statuses(), s.Abandoned)
}

// Waiting mirrors domain.Need.Waiting: forwarded, not abandoned, and no
// match taking care or closed.
func (s *State) Waiting() bool {
	if s.ForwardedAt == 0 || s.Abandoned {
		return false
	}
	for _, m := range s.Matches {
		if m.Status.Engaged() {
			return false
		}
	}
	return true
}

// Settled reports whether the need has come to rest: abandoned, or with
// every match closed or declined and at least one closed. Only a
// reopening, a comment or an erasure moves such a need again, while one
// captured, waiting (declined by all is still waiting: reminders and
// abandonment follow) or taken in charge is sure to move.
func (s *State) Settled() bool {
	if s.Abandoned {
		return true
	}
	closed := false
	for _, m := range s.Matches {
		switch {
		case m.Status.Closed():
			closed = true
		case m.Status != domain.MatchNotForMe:
			return false
		}
	}
	return closed
}

func (s *State) match(referent uuid.UUID) *Match {
	for i := range s.Matches {
		if s.Matches[i].ReferentID == referent {
			return &s.Matches[i]
		}
	}
	return nil
}

// Apply folds one need event (other than NeedCaptured) into s, with the
// same rules as domain.Need, and records version as the stream's. It
// returns an error wrapping domain.ErrEventMismatch for an event that does
// not fit.
func (s *State) Apply(e domain.Event, version int64) error {
	at := projections.Micros(e.OccurredAt())
	switch e := e.(type) {
	case domain.NeedCaptured:
		return projections.Unfit("need %s captured twice", s.ID)
	case domain.NeedForwarded:
		if len(e.Referents) == 0 {
			return projections.Unfit("need %s forwarded to no referent", s.ID)
		}
		for _, r := range e.Referents {
			if s.match(r.ReferentID) != nil {
				return projections.Unfit("need %s: referent %s already matched", s.ID, r.ReferentID)
			}
			s.Matches = append(s.Matches, Match{
				ReferentID: r.ReferentID, OrganisationID: r.OrganisationID,
				Status: domain.MatchQuo, SentAt: at, UpdatedAt: at,
			})
		}
		if s.ForwardedAt == 0 || at < s.ForwardedAt {
			s.ForwardedAt = at
		}
	case domain.MatchStatusChanged:
		m := s.match(e.ReferentID)
		if m == nil {
			return projections.Unfit("need %s has no match with referent %s", s.ID, e.ReferentID)
		}
		if m.Status != e.From {
			return projections.Unfit("need %s: match of %s is %s, not %s", s.ID, e.ReferentID, m.Status, e.From)
		}
		if err := domain.CheckTransition(e.From, e.To); err != nil {
			return projections.Unfit("need %s: %v", s.ID, err)
		}
		before := s.Status()
		m.Status, m.UpdatedAt = e.To, at
		if e.From == domain.MatchQuo && e.To.Engaged() {
			if m.TakenAt == 0 {
				m.TakenAt = at
			}
			if s.FirstTakenAt == 0 {
				s.FirstTakenAt = at
			}
		}
		if e.To.Closed() {
			m.ClosedAt = at
		} else {
			m.ClosedAt = 0
		}
		after := s.Status()
		switch {
		case !after.Closed():
			s.ClosedAt = 0
		case !before.Closed() || before != after:
			s.ClosedAt = at
		}
	case domain.CommentAdded:
	case domain.ReminderSent:
		s.Reminders++
		s.LastReminder, s.LastRemindAt = string(e.Kind), at
	case domain.NeedAbandoned:
		if s.Abandoned {
			return projections.Unfit("need %s abandoned twice", s.ID)
		}
		s.Abandoned, s.AbandonedAt = true, at
	case domain.ContactErased:
		s.Erased, s.ContactKeyID = true, ""
	default:
		return projections.Unfit("%s is not an event of a need", e.EventType())
	}
	s.Version = version
	return nil
}

// NeedID returns the need an event is about, and false for directory
// events.
func NeedID(e domain.Event) (uuid.UUID, bool) {
	switch e := e.(type) {
	case domain.NeedCaptured:
		return e.NeedID, true
	case domain.NeedForwarded:
		return e.NeedID, true
	case domain.MatchStatusChanged:
		return e.NeedID, true
	case domain.CommentAdded:
		return e.NeedID, true
	case domain.ReminderSent:
		return e.NeedID, true
	case domain.NeedAbandoned:
		return e.NeedID, true
	case domain.ContactErased:
		return e.NeedID, true
	}
	return uuid.Nil, false
}
