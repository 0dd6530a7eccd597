package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/internal/app"
)

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

// intParam parses an optional positive integer query parameter.
func intParam(r *http.Request, name string, def, max int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, invalidField(name, "an integer from 1 to "+strconv.Itoa(max))
	}
	return n, nil
}

// timeParam parses an optional RFC 3339 query parameter.
func timeParam(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && strings.Contains(s, " ") {
		// An offset sent unencoded: a '+' in a query string means a space.
		return time.Time{}, invalidField(name, fmt.Sprintf(
			"%q is not an RFC 3339 time: a '+' in a URL query stands for a space, so encode the offset's '+' as %%2B (e.g. 2026-03-01T00:00:00%%2B01:00), or give the time in UTC with Z", s))
	}
	if err != nil {
		return time.Time{}, invalidField(name, "an RFC 3339 time, e.g. 2026-03-01T00:00:00Z")
	}
	return t.UTC(), nil
}

func (a *api) listNeeds(w http.ResponseWriter, r *http.Request) {
	q, err := needQuery(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.d.Service.ListNeeds(r.Context(), principalOf(r.Context()), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.setLag(w, r)
	writeJSON(w, http.StatusOK, page)
}

// needQuery decodes GET /api/needs's query; the service checks the values.
func needQuery(r *http.Request) (app.NeedQuery, error) {
	v := r.URL.Query()
	q := app.NeedQuery{
		Status: v.Get("status"), Basket: v.Get("basket"),
		Region: v.Get("region"), Departement: v.Get("departement"), EPCI: v.Get("epci"),
		Commune: v.Get("commune"), Subject: v.Get("subject"), Cursor: v.Get("cursor"),
		SFAlert: v.Get("sf_alert"),
	}
	var err error
	if q.Referent, err = queryID(r, "referent"); err != nil {
		return q, err
	}
	if q.Advisor, err = queryID(r, "advisor"); err != nil {
		return q, err
	}
	if q.Limit, err = intParam(r, "limit", app.DefaultLimit, app.MaxLimit); err != nil {
		return q, err
	}
	if q.CapturedFrom, err = timeParam(r, "captured_from"); err != nil {
		return q, err
	}
	if q.CapturedTo, err = timeParam(r, "captured_to"); err != nil {
		return q, err
	}
	q.MinPosition, err = minPosition(r)
	return q, err
}

func (a *api) inbox(w http.ResponseWriter, r *http.Request) {
	q := app.InboxQuery{Tab: r.URL.Query().Get("tab"), Cursor: r.URL.Query().Get("cursor")}
	var err error
	if q.Referent, err = queryID(r, "referent"); err != nil {
		a.fail(w, r, err)
		return
	}
	if q.Limit, err = intParam(r, "limit", app.DefaultLimit, app.MaxLimit); err != nil {
		a.fail(w, r, err)
		return
	}
	if q.MinPosition, err = minPosition(r); err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.d.Service.Inbox(r.Context(), principalOf(r.Context()), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.setLag(w, r)
	writeJSON(w, http.StatusOK, page)
}
