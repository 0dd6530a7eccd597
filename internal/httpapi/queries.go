package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/needs"
	"github.com/reso-fr/reso/projections/stats"
)

// This file is the one adapter between the HTTP queries and the
// projections' query API.

// needsPage is the body of GET /api/needs.
type needsPage struct {
	Items      any    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func (a *api) queryNeeds(ctx context.Context, q needQuery) (needsPage, error) {
	f := needs.NeedFilter{
		Status: q.status, Region: q.region, Departement: q.departement, EPCI: q.epci, Commune: q.commune,
		Subject: q.subject, Referent: q.referent, Advisor: q.advisor, Basket: q.basket,
		CapturedFrom: q.capturedFrom, CapturedTo: q.capturedTo,
		Now: a.d.Now(), Limit: q.limit, Cursor: q.cursor,
		ScopeZones: q.scope.zones, ScopeReferent: q.scope.referent, ScopeAdvisor: q.scope.advisor,
	}
	page, err := a.d.Projections.ListNeeds(ctx, f)
	if err != nil {
		return needsPage{}, err
	}
	return needsPage{Items: nonNil(page.Items), NextCursor: page.NextCursor}, nil
}

func (a *api) queryInbox(ctx context.Context, referent uuid.UUID, tab string, limit int, cursor string) (needsPage, error) {
	page, err := a.d.Projections.Inbox(ctx, referent, tab, a.d.Now(), limit, cursor)
	if err != nil {
		return needsPage{}, err
	}
	return needsPage{Items: nonNil(page.Items), NextCursor: page.NextCursor}, nil
}

func (a *api) queryStats(ctx context.Context, q statsQuery) ([]stats.StatsRow, error) {
	rows, err := a.d.Projections.Stats(ctx, stats.StatsQuery{
		From: q.from, To: q.to, GroupBy: q.groupBy,
		Region: q.region, Departement: q.departement, Organisation: q.organisation, Subject: q.subject,
		ScopeZones: q.zones,
	})
	if err != nil {
		return nil, err
	}
	return nonNil(rows), nil
}

// cursorProblem names the cursor field when the read model refused a query
// that carried one (the other inputs were checked before).
func cursorProblem(err error, cursor string) error {
	if cursor != "" && errors.Is(err, projections.ErrInvalidQuery) {
		return newProblem(http.StatusUnprocessableEntity, "validation", "Invalid value", err.Error(),
			FieldError{Field: "cursor", Message: "not a cursor this API returned"})
	}
	return err
}
