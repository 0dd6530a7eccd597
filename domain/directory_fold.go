package domain

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Organisation is a public organisation of the network.
type Organisation struct {
	ID        uuid.UUID
	Name      string
	Kind      OrganisationKind
	CreatedAt time.Time
}

// Antenne is a local branch of an organisation.
type Antenne struct {
	ID             uuid.UUID
	OrganisationID uuid.UUID
	Name           string
	Zone           Zone
}

// Referent is an expert who receives needs.
type Referent struct {
	ID             uuid.UUID
	OrganisationID uuid.UUID
	AntenneID      uuid.UUID
	Name           string
	Email          string
	Phone          string // "" when none was given
	Function       string // "Fonction": the referent's job title, "" when none
	Subjects       []string
	Zones          []Zone
	Active         bool
	RegisteredAt   time.Time
}

// Coverage is the referent as Route needs it.
func (r Referent) Coverage() Coverage {
	return Coverage{
		ReferentID:     r.ID,
		OrganisationID: r.OrganisationID,
		Name:           r.Name,
		Subjects:       slices.Clone(r.Subjects),
		Zones:          slices.Clone(r.Zones),
		Active:         r.Active,
	}
}

// User is a person who can act in Réso.
type User struct {
	ID             uuid.UUID
	Name           string
	Email          string
	Role           Role
	OrganisationID uuid.UUID
	ReferentID     uuid.UUID
	Territories    []Zone
}

// Directory is the fold of the directory events (organisations, antennes,
// referents, users) in global order. Tests and the simulator use it; the
// server keeps its directory in read models. It is not safe for concurrent
// use.
type Directory struct {
	organisations map[uuid.UUID]*Organisation
	antennes      map[uuid.UUID]*Antenne
	referents     map[uuid.UUID]*Referent
	users         map[uuid.UUID]*User
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{
		organisations: map[uuid.UUID]*Organisation{},
		antennes:      map[uuid.UUID]*Antenne{},
		referents:     map[uuid.UUID]*Referent{},
		users:         map[uuid.UUID]*User{},
	}
}

// Apply folds one directory event. Need events, import records and
// territory openings are ignored (nil), so that a caller may feed it the
// whole log. It returns an error wrapping ErrEventMismatch, leaving the
// directory unchanged, for an id created twice, an antenne or referent of
// an unknown organisation, or a change to an unknown referent.
func (d *Directory) Apply(e Event) error {
	if err := d.apply(e); err != nil {
		return fmt.Errorf("apply %s to directory: %w", typeName(e), err)
	}
	return nil
}

func (d *Directory) apply(e Event) error {
	switch e := e.(type) {
	case OrganisationCreated:
		if _, dup := d.organisations[e.OrganisationID]; dup {
			return mismatch("organisation %s already exists", e.OrganisationID)
		}
		d.organisations[e.OrganisationID] = &Organisation{ID: e.OrganisationID, Name: e.Name, Kind: e.Kind, CreatedAt: e.At}
	case AntenneCreated:
		if _, ok := d.organisations[e.OrganisationID]; !ok {
			return mismatch("unknown organisation %s", e.OrganisationID)
		}
		if _, dup := d.antennes[e.AntenneID]; dup {
			return mismatch("antenne %s already exists", e.AntenneID)
		}
		d.antennes[e.AntenneID] = &Antenne{ID: e.AntenneID, OrganisationID: e.OrganisationID, Name: e.Name, Zone: e.Zone}
	case ReferentRegistered:
		if _, ok := d.organisations[e.OrganisationID]; !ok {
			return mismatch("unknown organisation %s", e.OrganisationID)
		}
		if _, dup := d.referents[e.ReferentID]; dup {
			return mismatch("referent %s already exists", e.ReferentID)
		}
		d.referents[e.ReferentID] = &Referent{
			ID: e.ReferentID, OrganisationID: e.OrganisationID, AntenneID: e.AntenneID,
			Name: e.Name, Email: e.Email,
			Subjects: slices.Clone(e.Subjects), Zones: slices.Clone(e.Zones),
			Active: true, RegisteredAt: e.At,
		}
	case ReferentCoverageChanged:
		r, ok := d.referents[e.ReferentID]
		if !ok {
			return mismatch("unknown referent %s", e.ReferentID)
		}
		r.Subjects = slices.Clone(e.Subjects)
		r.Zones = slices.Clone(e.Zones)
	case ReferentDeactivated:
		r, ok := d.referents[e.ReferentID]
		if !ok {
			return mismatch("unknown referent %s", e.ReferentID)
		}
		r.Active = false
	case ReferentReactivated:
		r, ok := d.referents[e.ReferentID]
		if !ok {
			return mismatch("unknown referent %s", e.ReferentID)
		}
		r.Active = true
	case ReferentDetailsChanged:
		r, ok := d.referents[e.ReferentID]
		if !ok {
			return mismatch("unknown referent %s", e.ReferentID)
		}
		r.Name, r.Phone, r.Function, r.AntenneID = e.Name, e.Phone, e.Function, e.AntenneID
	case UserRegistered:
		if _, dup := d.users[e.UserID]; dup {
			return mismatch("user %s already exists", e.UserID)
		}
		d.users[e.UserID] = &User{
			ID: e.UserID, Name: e.Name, Email: e.Email, Role: e.Role,
			OrganisationID: e.OrganisationID, ReferentID: e.ReferentID,
			Territories: slices.Clone(e.Territories),
		}
	case NeedCaptured, NeedForwarded, MatchStatusChanged, CommentAdded, ReminderSent, NeedAbandoned, ContactErased,
		NotificationSent, NotificationFailed, DirectoryImported, TerritoryOpened:
		// Not directory state.
	default:
		return mismatch("unknown event %T", e)
	}
	return nil
}

// Organisation returns the organisation with id id.
func (d *Directory) Organisation(id uuid.UUID) (Organisation, bool) {
	o, ok := d.organisations[id]
	if !ok {
		return Organisation{}, false
	}
	return *o, true
}

// Organisations returns every organisation, by name then id.
func (d *Directory) Organisations() []Organisation {
	out := make([]Organisation, 0, len(d.organisations))
	for _, o := range d.organisations {
		out = append(out, *o)
	}
	slices.SortFunc(out, func(a, b Organisation) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), compareIDs(a.ID, b.ID))
	})
	return out
}

// Antennes returns the antennes of organisation organisationID, by name then
// id.
func (d *Directory) Antennes(organisationID uuid.UUID) []Antenne {
	var out []Antenne
	for _, a := range d.antennes {
		if a.OrganisationID == organisationID {
			out = append(out, *a)
		}
	}
	slices.SortFunc(out, func(a, b Antenne) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), compareIDs(a.ID, b.ID))
	})
	return out
}

// Antenne returns the antenne with id id.
func (d *Directory) Antenne(id uuid.UUID) (Antenne, bool) {
	a, ok := d.antennes[id]
	if !ok {
		return Antenne{}, false
	}
	return *a, true
}

func (r *Referent) clone() Referent {
	c := *r
	c.Subjects = slices.Clone(r.Subjects)
	c.Zones = slices.Clone(r.Zones)
	return c
}

// Referent returns the referent with id id.
func (d *Directory) Referent(id uuid.UUID) (Referent, bool) {
	r, ok := d.referents[id]
	if !ok {
		return Referent{}, false
	}
	return r.clone(), true
}

// Referents returns every referent, active or not, by name then id.
func (d *Directory) Referents() []Referent {
	out := make([]Referent, 0, len(d.referents))
	for _, r := range d.referents {
		out = append(out, r.clone())
	}
	slices.SortFunc(out, func(a, b Referent) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), compareIDs(a.ID, b.ID))
	})
	return out
}

// Coverages returns the coverage of every referent, for Route.
func (d *Directory) Coverages() []Coverage {
	refs := d.Referents()
	out := make([]Coverage, len(refs))
	for i, r := range refs {
		out[i] = r.Coverage()
	}
	return out
}

// Route suggests the directory's referents for a need (see Route).
func (d *Directory) Route(geo *Geography, commune, subject string) []Coverage {
	return Route(geo, d.Coverages(), commune, subject)
}

// User returns the user with id id.
func (d *Directory) User(id uuid.UUID) (User, bool) {
	u, ok := d.users[id]
	if !ok {
		return User{}, false
	}
	c := *u
	c.Territories = slices.Clone(u.Territories)
	return c, true
}

// Users returns every user, by name then id.
func (d *Directory) Users() []User {
	out := make([]User, 0, len(d.users))
	for id := range d.users {
		u, _ := d.User(id)
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), compareIDs(a.ID, b.ID))
	})
	return out
}

// UserByEmail returns the user whose email is email, ignoring case.
func (d *Directory) UserByEmail(email string) (User, bool) {
	email = strings.TrimSpace(email)
	for _, u := range d.Users() {
		if strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return User{}, false
}
