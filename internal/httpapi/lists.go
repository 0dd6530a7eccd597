package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// needStatuses are the values of the status filter.
var needStatuses = []string{"captured", "quo", "taking_care", "done", "done_no_help", "done_not_reachable", "not_for_me", "abandoned"}

// inboxTabs are the tabs of GET /api/inbox.
var inboxTabs = []string{"quo", "taking_care", "done", "not_for_me", "expired"}

// scope restricts what a principal may list; the zero scope is an
// admin's: everything.
type scope struct {
	advisor  uuid.UUID
	referent uuid.UUID
	zones    []domain.Zone // non-nil restricts, even empty
}

// listScope is the principal's scope on the needs read model.
func listScope(p app.Principal) (scope, bool) {
	switch p.Role {
	case domain.RoleAdmin:
		return scope{}, true
	case domain.RoleAdvisor:
		return scope{advisor: p.UserID}, true
	case domain.RoleReferent:
		if p.ReferentID == uuid.Nil {
			return scope{}, false
		}
		return scope{referent: p.ReferentID}, true
	case domain.RoleAnimateur:
		// A non-nil slice restricts, even empty: no territory, no need.
		zones := append([]domain.Zone{}, p.Territories...)
		return scope{zones: zones}, true
	}
	return scope{}, false
}

// queryID parses an optional id of the query string.
func queryID(r *http.Request, name string) (uuid.UUID, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, invalidField(name, "not an id")
	}
	return id, nil
}

// oneOf checks an optional enumerated query parameter.
func oneOf(r *http.Request, name string, values []string) (string, error) {
	s := r.URL.Query().Get(name)
	if s != "" && !contains(values, s) {
		return "", invalidField(name, "one of "+strings.Join(values, ", "))
	}
	return s, nil
}

func (a *api) listNeeds(w http.ResponseWriter, r *http.Request) {
	if !a.allow(w, r, app.ActionListNeeds) {
		return
	}
	p := principalOf(r.Context())
	sc, ok := listScope(p)
	if !ok {
		a.fail(w, r, app.ErrForbidden)
		return
	}
	q, err := a.needQuery(r, sc)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.waitMinPosition(r); err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.queryNeeds(r.Context(), q)
	if err != nil {
		a.fail(w, r, cursorProblem(err, q.cursor))
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// needQuery is a parsed GET /api/needs.
type needQuery struct {
	scope                                                       scope
	status, region, departement, epci, commune, subject, basket string
	referent, advisor                                           uuid.UUID
	capturedFrom, capturedTo                                    time.Time
	limit                                                       int
	cursor                                                      string
}

func (a *api) needQuery(r *http.Request, sc scope) (needQuery, error) {
	q := needQuery{scope: sc}
	var err error
	v := r.URL.Query()
	if q.status, err = oneOf(r, "status", needStatuses); err != nil {
		return q, err
	}
	if q.basket, err = oneOf(r, "basket", []string{"poke", "last_chance", "abandon"}); err != nil {
		return q, err
	}
	q.region, q.departement, q.epci, q.commune, q.subject = v.Get("region"), v.Get("departement"), v.Get("epci"), v.Get("commune"), v.Get("subject")
	if q.subject != "" {
		if _, ok := domain.SubjectByCode(q.subject); !ok {
			return q, invalidField("subject", "unknown subject")
		}
	}
	if q.referent, err = queryID(r, "referent"); err != nil {
		return q, err
	}
	if q.advisor, err = queryID(r, "advisor"); err != nil {
		return q, err
	}
	if q.limit, err = intParam(r, "limit", 50, 500); err != nil {
		return q, err
	}
	if q.capturedFrom, err = timeParam(r, "captured_from"); err != nil {
		return q, err
	}
	if q.capturedTo, err = timeParam(r, "captured_to"); err != nil {
		return q, err
	}
	q.cursor = v.Get("cursor")
	return q, nil
}

// timeParam parses an optional RFC 3339 query parameter.
func timeParam(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalidField(name, "an RFC 3339 time, e.g. 2026-03-01T00:00:00Z")
	}
	return t.UTC(), nil
}

func (a *api) inbox(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r.Context())
	tab, err := oneOf(r, "tab", inboxTabs)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if tab == "" {
		tab = "quo"
	}
	ref, err := queryID(r, "referent")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	switch {
	case p.Role == domain.RoleReferent && p.ReferentID != uuid.Nil && (ref == uuid.Nil || ref == p.ReferentID):
		ref = p.ReferentID
	case p.Role == domain.RoleAdmin && ref != uuid.Nil:
	case p.Role == domain.RoleAdmin:
		a.fail(w, r, invalidField("referent", "an admin names the referent whose inbox to read"))
		return
	default:
		a.fail(w, r, app.ErrForbidden)
		return
	}
	limit, err := intParam(r, "limit", 50, 500)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.waitMinPosition(r); err != nil {
		a.fail(w, r, err)
		return
	}
	cursor := r.URL.Query().Get("cursor")
	page, err := a.queryInbox(r.Context(), ref, tab, limit, cursor)
	if err != nil {
		a.fail(w, r, cursorProblem(err, cursor))
		return
	}
	writeJSON(w, http.StatusOK, page)
}
