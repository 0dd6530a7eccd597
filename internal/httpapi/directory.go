package httpapi

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// suggestionView is one referent routing suggests for a need.
type suggestionView struct {
	ReferentID       uuid.UUID     `json:"referent_id"`
	OrganisationID   uuid.UUID     `json:"organisation_id"`
	OrganisationName string        `json:"organisation_name"`
	Name             string        `json:"name"`
	Subjects         []string      `json:"subjects"`
	Zones            []domain.Zone `json:"zones"`
}

func suggestionViews(cov []domain.Coverage) []suggestionView {
	out := make([]suggestionView, 0, len(cov))
	for _, c := range cov {
		out = append(out, suggestionView{ReferentID: c.ReferentID, OrganisationID: c.OrganisationID,
			OrganisationName: c.OrganisationName, Name: c.Name,
			Subjects: nonNil(c.Subjects), Zones: nonNil(c.Zones)})
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// subjectView is one entry of GET /api/subjects.
type subjectView struct {
	Code       string `json:"code"`
	Label      string `json:"label"`
	Theme      string `json:"theme"`
	ThemeLabel string `json:"theme_label"`
}

func (a *api) listSubjects(w http.ResponseWriter, r *http.Request) {
	subjects, err := a.d.Service.Subjects(principalOf(r.Context()))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]subjectView, 0, len(subjects))
	for _, s := range subjects {
		out = append(out, subjectView{Code: s.Code, Label: s.Label, Theme: s.Theme, ThemeLabel: s.ThemeLabel})
	}
	writeJSON(w, http.StatusOK, out)
}

// optionalID parses an optional id of a body.
func optionalID(field, s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, invalidField(field, "not an id")
	}
	return id, nil
}

type userBody struct {
	Name           string        `json:"name"`
	Email          string        `json:"email"`
	Role           string        `json:"role"`
	OrganisationID string        `json:"organisation_id"`
	ReferentID     string        `json:"referent_id"`
	Territories    []domain.Zone `json:"territories"`
}

func (a *api) createUser(w http.ResponseWriter, r *http.Request) {
	var b userBody
	if err := decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	org, err := optionalID("organisation_id", b.OrganisationID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ref, err := optionalID("referent_id", b.ReferentID)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	switch domain.Role(b.Role) {
	case domain.RoleAdvisor, domain.RoleReferent, domain.RoleAnimateur, domain.RoleFunder, domain.RoleAdmin:
	default:
		a.fail(w, r, invalidField("role", "one of advisor, referent, animateur, funder, admin"))
		return
	}
	id, token, pos, err := a.d.Service.RegisterUser(r.Context(), principalOf(r.Context()), app.UserInput{
		Name: b.Name, Email: b.Email, Role: domain.Role(b.Role), OrganisationID: org, ReferentID: ref, Territories: b.Territories,
	}, meta(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set(positionHeader, pos.String())
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "token": token})
}

type organisationBody struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

func (a *api) createOrganisation(w http.ResponseWriter, r *http.Request) {
	var b organisationBody
	if err := decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	id, pos, err := a.d.Service.CreateOrganisation(r.Context(), principalOf(r.Context()), b.Name, b.Kind, meta(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set(positionHeader, pos.String())
	writeJSON(w, http.StatusCreated, map[string]any{"id": id})
}

type referentBody struct {
	OrganisationID string        `json:"organisation_id"`
	Name           string        `json:"name"`
	Email          string        `json:"email"`
	Subjects       []string      `json:"subjects"`
	Zones          []domain.Zone `json:"zones"`
}

func (a *api) createReferent(w http.ResponseWriter, r *http.Request) {
	var b referentBody
	if err := decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	org, err := uuid.Parse(b.OrganisationID)
	if err != nil {
		a.fail(w, r, invalidField("organisation_id", "not an id"))
		return
	}
	id, pos, err := a.d.Service.RegisterReferent(r.Context(), principalOf(r.Context()), app.ReferentInput{
		OrganisationID: org, Name: b.Name, Email: b.Email, Subjects: b.Subjects, Zones: b.Zones,
	}, meta(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set(positionHeader, pos.String())
	writeJSON(w, http.StatusCreated, map[string]any{"id": id})
}

type erasureBody struct {
	ContactEmail string `json:"contact_email"`
	SIRET        string `json:"siret"`
}

func (a *api) erase(w http.ResponseWriter, r *http.Request) {
	var b erasureBody
	if err := decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	if (b.ContactEmail == "") == (b.SIRET == "") {
		a.fail(w, r, invalidField("contact_email", "give exactly one of contact_email and siret"))
		return
	}
	res, pos, err := a.d.Service.Erase(r.Context(), principalOf(r.Context()), app.EraseInput{ContactEmail: b.ContactEmail, SIRET: b.SIRET}, meta(r))
	if err != nil {
		a.fail(w, r, fmt.Errorf("erase: %w", err))
		return
	}
	w.Header().Set(positionHeader, pos.String())
	writeJSON(w, http.StatusOK, res)
}

func (a *api) searchCommunes(w http.ResponseWriter, r *http.Request) {
	cs, err := a.d.Service.SearchCommunes(principalOf(r.Context()), r.URL.Query().Get("q"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"communes": cs})
}

func (a *api) me(w http.ResponseWriter, r *http.Request) {
	me, err := a.d.Service.Me(r.Context(), principalOf(r.Context()))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, me)
}

func (a *api) listOrganisations(w http.ResponseWriter, r *http.Request) {
	orgs, err := a.d.Service.Organisations(r.Context(), principalOf(r.Context()))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"organisations": orgs})
}

func (a *api) listReferents(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := app.ReferentQuery{Subject: v.Get("subject"), Commune: v.Get("commune"), Name: v.Get("q")}
	var err error
	if q.Organisation, err = queryID(r, "organisation"); err != nil {
		a.fail(w, r, err)
		return
	}
	if q.Active, err = boolParam(r, "active"); err != nil {
		a.fail(w, r, err)
		return
	}
	refs, err := a.d.Service.FindReferents(r.Context(), principalOf(r.Context()), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"referents": refs})
}
