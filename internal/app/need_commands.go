package app

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/keys"
)

// CaptureNeed records a new need captured by an advisor (or an admin, who
// is then its advisor). The contact is sealed before any event is built.
// With an idempotency key, a repeat answers with the need the first run
// created (idempotency.go); so do repeats of the other need commands.
// It returns ErrForbidden for other roles and a *domain.ValidationError for
// a bad SIRET, NAF code, commune, subject or missing field.
func (s *Service) CaptureNeed(ctx context.Context, p Principal, in CaptureInput, m CommandMeta) (Result, error) {
	if err := s.Authorize(p, ActionCaptureNeed); err != nil {
		return Result{}, err
	}
	commune, placeErr := s.resolveCommune(in.Commune, in.PostalCode)
	id, err := captureID(p, m)
	if err != nil {
		return Result{}, fmt.Errorf("need id: %w", err)
	}
	if m.IdempotencyKey != "" {
		if res, ok, err := s.earlierCapture(ctx, p, id, m); ok || err != nil {
			return res, err
		}
	}
	at := s.now().UTC()
	c := domain.Capture{
		NeedID: id, SIRET: in.SIRET, CompanyName: in.CompanyName, NAFCode: in.NAFCode, Commune: commune,
		Subject: in.Subject, Description: in.Description, AdvisorID: p.UserID,
	}
	// Validate every field before sealing, so that refused input leaves no
	// key behind and a form is corrected in one go.
	dry := c
	dry.Contact = domain.SealedContact{KeyID: "validation", Ciphertext: []byte{0}}
	domainErr := domain.NewNeed(id).Capture(dry, s.geo, actor(p), at)
	if placeErr != nil {
		// The place was refused already, with a better reason.
		domainErr = withoutField(domainErr, "commune")
	}
	if err := domain.JoinValidation(placeErr, domainErr,
		domain.CheckContact(in.Contact.Name, in.Contact.Email, in.Contact.Phone)); err != nil {
		return Result{}, err
	}
	siret, _ := domain.ParseSIRET(in.SIRET)
	if s.keys == nil {
		return Result{}, fmt.Errorf("capture need: %w", keys.ErrNoMasterKey)
	}
	sealed, err := s.keys.Seal(ctx, id, string(siret), keys.Contact(in.Contact))
	if err != nil {
		return Result{}, fmt.Errorf("capture need: %w", err)
	}
	c.Contact = sealed
	n := domain.NewNeed(id)
	if err := n.Capture(c, s.geo, actor(p), at); err != nil {
		return Result{}, err
	}
	res, news, err := s.appendEvents(ctx, "capture", domain.NeedStream(id), eventstore.NoStream, p, m, n.Changes())
	if err != nil && m.IdempotencyKey != "" && isNeedCapture(err) {
		// A repeat of this capture running at the same time won.
		if res, ok, err := s.earlierCapture(ctx, p, id, m); ok || err != nil {
			return res, err
		}
	}
	if err != nil {
		return Result{}, err
	}
	s.remember(id, nil, news)
	// The contact was sealed a moment ago from this very input: showing it
	// needs no key read (an erasure racing the capture is the same as one
	// just after it, which the next read shows).
	cv := ContactView{Name: in.Contact.Name, Email: in.Contact.Email, Phone: in.Contact.Phone}
	return Result{Need: render(n, cv), Position: res.Position}, nil
}

// ForwardNeed sends a need to referents, who must exist and be active. An
// advisor forwards the needs they captured; an animateur those in scope.
// It returns ErrNotFound, ErrForbidden, a *domain.ValidationError (field
// "referent_ids") for an unknown or inactive referent, and the domain's
// errors (ErrAlreadyMatched, ErrNeedAbandoned).
func (s *Service) ForwardNeed(ctx context.Context, p Principal, needID uuid.UUID, referentIDs []uuid.UUID, m CommandMeta) (Result, error) {
	if len(referentIDs) == 0 {
		return Result{}, &domain.ValidationError{Field: "referent_ids", Message: "at least one referent is required"}
	}
	refs := make([]domain.MatchRef, 0, len(referentIDs))
	for _, rid := range referentIDs {
		r, err := s.referent(ctx, rid)
		if err != nil {
			return Result{}, err
		}
		refs = append(refs, domain.MatchRef{ReferentID: rid, OrganisationID: r.OrganisationID})
	}
	return s.execute(ctx, "forward", p, needID, m, ActionForwardNeed, func(n *domain.Need, at time.Time) error {
		return n.Forward(refs, actor(p), at)
	})
}

// matchActions maps the API's actions to the match status they lead to.
var matchActions = map[string]domain.MatchStatus{
	"take_charge":        domain.MatchTakingCare,
	"decline":            domain.MatchNotForMe,
	"done":               domain.MatchDone,
	"done_no_help":       domain.MatchDoneNoHelp,
	"done_not_reachable": domain.MatchDoneNotReachable,
	"reopen":             domain.MatchQuo,
}

// MatchActions lists the actions ChangeMatch accepts.
func MatchActions() []string {
	return []string{"take_charge", "decline", "done", "done_no_help", "done_not_reachable", "reopen"}
}

// ChangeMatch applies a referent's action to their match on a need. A
// referent acts only on their own match; an admin on any. It returns
// ErrNotFound, ErrForbidden, a *domain.ValidationError (field "action") for
// an unknown action, domain.ErrMatchNotFound and a *domain.TransitionError.
func (s *Service) ChangeMatch(ctx context.Context, p Principal, needID, referentID uuid.UUID, action string, comment string, m CommandMeta) (Result, error) {
	to, ok := matchActions[action]
	if !ok {
		return Result{}, &domain.ValidationError{Field: "action", Message: fmt.Sprintf("unknown action %q (one of %s)", action, strings.Join(MatchActions(), ", "))}
	}
	return s.execute(ctx, "change_match", p, needID, m, ActionChangeMatch, func(n *domain.Need, at time.Time) error {
		if p.Role == domain.RoleReferent && referentID != p.ReferentID {
			return forbid(p, ActionChangeMatch, "a referent may only change their own match")
		}
		return n.ChangeMatch(referentID, to, comment, actor(p), at)
	})
}

// Comment adds a comment to a need. It returns ErrNotFound, ErrForbidden and
// a *domain.ValidationError for an empty or too long text.
func (s *Service) Comment(ctx context.Context, p Principal, needID uuid.UUID, text string, m CommandMeta) (Result, error) {
	return s.execute(ctx, "comment", p, needID, m, ActionComment, func(n *domain.Need, at time.Time) error {
		return n.Comment(text, actor(p), at)
	})
}

// Remind sends a reminder ("poke" or "last_chance") about a need. It returns
// ErrNotFound, ErrForbidden and the domain's errors.
func (s *Service) Remind(ctx context.Context, p Principal, needID uuid.UUID, kind string, m CommandMeta) (Result, error) {
	return s.execute(ctx, "remind", p, needID, m, ActionRemind, func(n *domain.Need, at time.Time) error {
		return n.Remind(domain.ReminderKind(kind), actor(p), at)
	})
}

// Abandon gives a need up while nobody has taken it in charge. It returns
// ErrNotFound, ErrForbidden, domain.ErrAbandonRefused and the domain's
// validation errors.
func (s *Service) Abandon(ctx context.Context, p Principal, needID uuid.UUID, reason string, m CommandMeta) (Result, error) {
	return s.execute(ctx, "abandon", p, needID, m, ActionAbandon, func(n *domain.Need, at time.Time) error {
		return n.Abandon(reason, actor(p), at)
	})
}

// execute is the command loop: authorise the role, load, check the scope,
// decide, append with the expected version; on a concurrency conflict, read
// again and decide again.
func (s *Service) execute(ctx context.Context, command string, p Principal, needID uuid.UUID, m CommandMeta, action Action, decide func(n *domain.Need, at time.Time) error) (Result, error) {
	if err := s.Authorize(p, action); err != nil {
		return Result{}, err
	}
	// The response shows the contact: its key is read alongside the first
	// load, and serves every attempt (a key never changes, only goes).
	key := s.keyAhead(ctx, needID)
	// A command without an idempotency key may start from the cached need
	// (need_cache.go); any failure on it is decided again on the stream.
	trust := m.IdempotencyKey == ""
	for attempt := 1; ; attempt++ {
		l, n, cached, err := s.loadForCommand(ctx, p, needID, trust)
		if err != nil {
			return Result{}, err
		}
		if pos, ok := l.done(p, m); ok {
			// Done before, its answer lost (idempotency.go).
			v, err := s.view(ctx, n, key)
			if err != nil {
				return Result{}, err
			}
			return Result{Need: v, Position: pos}, nil
		}
		if err := decide(n, s.now().UTC()); err != nil {
			if cached {
				s.needs.drop(needID)
				trust, attempt = false, attempt-1
				continue
			}
			return Result{}, err
		}
		res, news, err := s.appendEvents(ctx, command, domain.NeedStream(needID), eventstore.Exactly(n.LoadedVersion()), p, m, n.Changes())
		if err == nil {
			s.remember(needID, l.events, news)
			v, err := s.view(ctx, n, key)
			if err != nil {
				return Result{}, err
			}
			return Result{Need: v, Position: res.Position}, nil
		}
		if !errors.Is(err, eventstore.ErrConcurrency) {
			return Result{}, err
		}
		if cached {
			// Stale: another writer appended since.
			s.needs.drop(needID)
			trust, attempt = false, attempt-1
			continue
		}
		// What this attempt read is stale too: the next one reads again,
		// or finds what a writer of this process cached since.
		s.needs.drop(needID)
		s.conflicts.Inc()
		if attempt >= s.attempts {
			return Result{}, fmt.Errorf("%s need %s after %d attempts: %w", command, needID, attempt, ErrConflict)
		}
		// Jitter spreads writers that collided so they do not collide again.
		d := time.Duration(rand.IntN(1+min(attempt, 10)*500)) * time.Microsecond
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-time.After(d):
		}
	}
}

// EraseContact records that a need's contact key is gone. It is the internal
// half of Erase, idempotent: an already erased contact is not an error.
func (s *Service) eraseContact(ctx context.Context, p Principal, needID uuid.UUID, m CommandMeta) (eventstore.Position, error) {
	r, err := s.execute(ctx, "erase_contact", p, needID, m, ActionErase, func(n *domain.Need, at time.Time) error {
		return n.EraseContact(actor(p), at)
	})
	if errors.Is(err, domain.ErrAlreadyErased) || errors.Is(err, ErrNotFound) {
		return eventstore.Position{}, nil
	}
	return r.Position, err
}
