package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/auth"
)

// referentState is a referent folded from its own stream.
type referentState struct {
	OrganisationID uuid.UUID
	Name           string
	Active         bool
}

// referent reads a referent from the log, never from a read model, so that
// a referent registered a moment ago can be forwarded to. It returns a
// *domain.ValidationError (field "referent_ids") when the referent does not
// exist or is inactive.
func (s *Service) referent(ctx context.Context, id uuid.UUID) (referentState, error) {
	stream := domain.ReferentStream(id)
	raw, err := s.store.ReadStream(ctx, stream, 1, 0)
	if errors.Is(err, eventstore.ErrNotFound) || (err == nil && len(raw) == 0) {
		return referentState{}, &domain.ValidationError{Field: "referent_ids", Message: fmt.Sprintf("unknown referent %s", id)}
	}
	if err != nil {
		return referentState{}, fmt.Errorf("read %s: %w", stream, err)
	}
	var r referentState
	for _, ev := range raw {
		e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			return referentState{}, fmt.Errorf("read %s: %w", stream, err)
		}
		switch e := e.(type) {
		case domain.ReferentRegistered:
			r = referentState{OrganisationID: e.OrganisationID, Name: e.Name, Active: true}
		case domain.ReferentDeactivated:
			r.Active = false
		case domain.ReferentReactivated:
			r.Active = true
		case domain.ReferentDetailsChanged:
			r.Name = e.Name
		}
	}
	if !r.Active {
		return referentState{}, &domain.ValidationError{Field: "referent_ids", Message: fmt.Sprintf("referent %s is not active", id)}
	}
	return r, nil
}

// organisationExists reads an organisation's stream. It returns a
// *domain.ValidationError (field "organisation_id") when there is none.
func (s *Service) organisationExists(ctx context.Context, id uuid.UUID) error {
	stream := domain.OrganisationStream(id)
	raw, err := s.store.ReadStream(ctx, stream, 1, 1)
	if errors.Is(err, eventstore.ErrNotFound) || (err == nil && len(raw) == 0) {
		return &domain.ValidationError{Field: "organisation_id", Message: fmt.Sprintf("unknown organisation %s", id)}
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", stream, err)
	}
	return nil
}

// CreateOrganisation records a new organisation (admin only). It returns
// ErrForbidden and a *domain.ValidationError for a bad name or kind.
func (s *Service) CreateOrganisation(ctx context.Context, p Principal, name, kind string, m CommandMeta) (uuid.UUID, eventstore.Position, error) {
	if err := s.Authorize(p, ActionCreateOrganisation); err != nil {
		return uuid.Nil, eventstore.Position{}, err
	}
	k, err := domain.ParseOrganisationKind(kind)
	if err != nil {
		return uuid.Nil, eventstore.Position{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, eventstore.Position{}, fmt.Errorf("organisation id: %w", err)
	}
	ev, err := domain.NewOrganisation(id, name, k, actor(p), s.now().UTC())
	if err != nil {
		return uuid.Nil, eventstore.Position{}, err
	}
	res, err := s.append(ctx, "create_organisation", domain.OrganisationStream(id), eventstore.NoStream, p, m, []domain.Event{ev})
	if err != nil {
		return uuid.Nil, eventstore.Position{}, err
	}
	return id, res.Position, nil
}

// RegisterReferent records a new referent of an existing organisation
// (admin only). It returns ErrForbidden and a *domain.ValidationError for an
// unknown organisation, subject or zone, or a missing name or email.
func (s *Service) RegisterReferent(ctx context.Context, p Principal, in ReferentInput, m CommandMeta) (uuid.UUID, eventstore.Position, error) {
	if err := s.Authorize(p, ActionRegisterReferent); err != nil {
		return uuid.Nil, eventstore.Position{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, eventstore.Position{}, fmt.Errorf("referent id: %w", err)
	}
	ev, err := domain.RegisterReferent(domain.ReferentRegistration{
		ReferentID: id, OrganisationID: in.OrganisationID, Name: in.Name, Email: in.Email,
		Subjects: in.Subjects, Zones: in.Zones,
	}, s.geo, actor(p), s.now().UTC())
	if err != nil {
		return uuid.Nil, eventstore.Position{}, err
	}
	if err := s.organisationExists(ctx, in.OrganisationID); err != nil {
		return uuid.Nil, eventstore.Position{}, err
	}
	res, err := s.append(ctx, "register_referent", domain.ReferentStream(id), eventstore.NoStream, p, m, []domain.Event{ev})
	if err != nil {
		return uuid.Nil, eventstore.Position{}, err
	}
	return id, res.Position, nil
}

// RegisterUser records a new user (admin only) and returns their first
// token, shown once. A referent user must name an existing referent; an
// organisation, when given, must exist. It returns ErrForbidden and a
// *domain.ValidationError.
func (s *Service) RegisterUser(ctx context.Context, p Principal, in UserInput, m CommandMeta) (uuid.UUID, string, eventstore.Position, error) {
	if err := s.Authorize(p, ActionCreateUser); err != nil {
		return uuid.Nil, "", eventstore.Position{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, "", eventstore.Position{}, fmt.Errorf("user id: %w", err)
	}
	at := s.now().UTC()
	ev, err := domain.RegisterUser(domain.UserRegistration{
		UserID: id, Name: in.Name, Email: in.Email, Role: in.Role, OrganisationID: in.OrganisationID,
		ReferentID: in.ReferentID, Territories: in.Territories,
	}, s.geo, actor(p), at)
	if err != nil {
		return uuid.Nil, "", eventstore.Position{}, err
	}
	if in.OrganisationID != uuid.Nil {
		if err := s.organisationExists(ctx, in.OrganisationID); err != nil {
			return uuid.Nil, "", eventstore.Position{}, err
		}
	}
	if in.ReferentID != uuid.Nil {
		r, err := s.referentAny(ctx, in.ReferentID)
		if err != nil {
			return uuid.Nil, "", eventstore.Position{}, err
		}
		if ev.OrganisationID == uuid.Nil {
			ev.OrganisationID = r.OrganisationID
		}
	}
	evID, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, "", eventstore.Position{}, fmt.Errorf("event id: %w", err)
	}
	start := time.Now()
	tok, pos, err := s.auth.Register(ctx, ev, evID, s.metadata(p, m))
	s.appendSeconds.WithLabelValues("register_user").Observe(time.Since(start).Seconds())
	if err != nil {
		return uuid.Nil, "", eventstore.Position{}, err
	}
	return id, tok, pos, nil
}

// referentAny is referent without the active check, with the field name of
// user registration.
func (s *Service) referentAny(ctx context.Context, id uuid.UUID) (referentState, error) {
	r, err := s.referent(ctx, id)
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		return referentState{}, &domain.ValidationError{Field: "referent_id", Message: ve.Message}
	}
	return r, err
}

// IssueToken gives an existing user a new token (the demo uses it for the
// simulated users). It returns the database error, if any.
func (s *Service) IssueToken(ctx context.Context, u auth.User) (string, error) {
	return s.auth.IssueToken(ctx, u)
}
