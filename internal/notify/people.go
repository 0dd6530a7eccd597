package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// person is who a mail goes to or speaks of, as the log knows them.
type person struct {
	Name, Email    string
	Active         bool      // referents: not deactivated
	OrganisationID uuid.UUID // referents
	ReferentID     uuid.UUID // users who are referents
}

// errNoSuchPerson means the log has no such user or referent.
var errNoSuchPerson = errors.New("notify: no such person in the log")

// peopleCache reads users and organisations from their streams once (their
// names and addresses never change); referents are read each time, as they
// may be deactivated.
type peopleCache struct {
	store eventstore.Store
	mu    sync.Mutex
	users map[uuid.UUID]person
	orgs  map[uuid.UUID]string
}

func (c *peopleCache) first(ctx context.Context, stream string, all bool) ([]domain.Event, error) {
	limit := 1
	if all {
		limit = 0
	}
	raw, err := c.store.ReadStream(ctx, stream, 1, limit)
	if errors.Is(err, eventstore.ErrNotFound) {
		return nil, fmt.Errorf("%s: %w", stream, errNoSuchPerson)
	}
	if err != nil {
		return nil, fmt.Errorf("notify: read %s: %w", stream, err)
	}
	out := make([]domain.Event, 0, len(raw))
	for _, r := range raw {
		e, err := domain.Unmarshal(r.Type, r.SchemaVersion, r.Data)
		if err != nil {
			return nil, fmt.Errorf("notify: read %s: %w", stream, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// user returns a user (an advisor, an animateur, ...).
func (c *peopleCache) user(ctx context.Context, id uuid.UUID) (person, error) {
	c.mu.Lock()
	p, ok := c.users[id]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	evs, err := c.first(ctx, domain.UserStream(id), false)
	if err != nil {
		return person{}, err
	}
	u, ok := evs[0].(domain.UserRegistered)
	if !ok {
		return person{}, fmt.Errorf("user %s: %w", id, errNoSuchPerson)
	}
	p = person{Name: u.Name, Email: u.Email, Active: true, OrganisationID: u.OrganisationID, ReferentID: u.ReferentID}
	c.mu.Lock()
	if c.users == nil {
		c.users = map[uuid.UUID]person{}
	}
	c.users[id] = p
	c.mu.Unlock()
	return p, nil
}

// referent returns a referent of the directory, with whether they are
// still active.
func (c *peopleCache) referent(ctx context.Context, id uuid.UUID) (person, error) {
	evs, err := c.first(ctx, domain.ReferentStream(id), true)
	if err != nil {
		return person{}, err
	}
	r, ok := evs[0].(domain.ReferentRegistered)
	if !ok {
		return person{}, fmt.Errorf("referent %s: %w", id, errNoSuchPerson)
	}
	p := person{Name: r.Name, Email: r.Email, Active: true, OrganisationID: r.OrganisationID, ReferentID: id}
	for _, e := range evs[1:] {
		if _, ok := e.(domain.ReferentDeactivated); ok {
			p.Active = false
		}
	}
	return p, nil
}

// referentOfUser is the referent id of a user who is a referent
// (uuid.Nil otherwise, or when the user cannot be read).
func (c *peopleCache) referentOfUser(ctx context.Context, userID uuid.UUID) uuid.UUID {
	p, err := c.user(ctx, userID)
	if err != nil {
		return uuid.Nil
	}
	return p.ReferentID
}

// organisation names an organisation ("" when it cannot be read).
func (c *peopleCache) organisation(ctx context.Context, id uuid.UUID) string {
	c.mu.Lock()
	name, ok := c.orgs[id]
	c.mu.Unlock()
	if ok {
		return name
	}
	evs, err := c.first(ctx, domain.OrganisationStream(id), false)
	if err != nil {
		return ""
	}
	if o, ok := evs[0].(domain.OrganisationCreated); ok {
		name = o.Name
	}
	c.mu.Lock()
	if c.orgs == nil {
		c.orgs = map[uuid.UUID]string{}
	}
	c.orgs[id] = name
	c.mu.Unlock()
	return name
}

// actorName names who did something: a user, or Réso itself.
func (c *peopleCache) actorName(ctx context.Context, a domain.Actor) string {
	if a.Role == domain.RoleSystem || a.ID == uuid.Nil {
		return "Réso"
	}
	if p, err := c.user(ctx, a.ID); err == nil {
		return p.Name
	}
	if p, err := c.referent(ctx, a.ID); err == nil {
		return p.Name
	}
	return ""
}
