package needs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/query"
)

// Inbox tabs.
const (
	TabQuo        = "quo"
	TabTakingCare = "taking_care"
	// TabDone holds the closed matches (done, done_no_help and
	// done_not_reachable) and the untouched ones of needs another referent
	// closed (domain.HandledElsewhere).
	TabDone     = "done"
	TabNotForMe = "not_for_me"
	TabExpired  = "expired" // quo for Thresholds.Expire days or more
)

// MatchRow is one match with what an inbox shows of its need.
type MatchRow struct {
	NeedID         uuid.UUID  `json:"need_id"`
	ReferentID     uuid.UUID  `json:"referent_id"`
	OrganisationID uuid.UUID  `json:"organisation_id"`
	Status         string     `json:"status"`
	SentAt         time.Time  `json:"sent_at"`
	TakenCareOfAt  *time.Time `json:"taken_care_of_at"`
	ClosedAt       *time.Time `json:"closed_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	Expired        bool       `json:"expired"`
	// HandledElsewhere: untouched, while another referent closed the need.
	HandledElsewhere bool      `json:"handled_elsewhere"`
	NeedStatus       string    `json:"need_status"`
	CompanyName      string    `json:"company_name"`
	Commune          string    `json:"commune"`
	Subject          string    `json:"subject"`
	CapturedAt       time.Time `json:"captured_at"`
}

// MatchPage is one page of an inbox, the latest sent first.
type MatchPage struct {
	Items      []MatchRow `json:"items"`
	NextCursor string     `json:"next_cursor"`
}

const matchSelect = `SELECT m.need_id, m.referent_id, m.organisation_id, m.status, m.sent_at, m.taken_at,
	m.closed_at, m.updated_at, m.handled_elsewhere, n.status, n.company_name, n.commune, n.subject, n.captured_at
	FROM matches m JOIN needs n ON n.id = m.need_id`

// Inbox returns a page of a referent's matches in tab (quo, taking_care,
// done, not_for_me, expired) as of now. It returns projections.ErrInvalidQuery for an
// unknown tab or a bad cursor, or the database error.
func (qs *Queries) Inbox(ctx context.Context, referentID uuid.UUID, tab string, now time.Time, limit int, cursor string) (MatchPage, error) {
	if now.IsZero() {
		now = time.Now()
	}
	expiry := now.Add(-time.Duration(qs.thresholds.Expire) * 24 * time.Hour).UnixMicro()
	var w query.Where
	w.Add("m.referent_id=%s", referentID.String())
	switch tab {
	case TabQuo:
		w.Add("m.status='quo' AND m.handled_elsewhere=0 AND m.sent_at>%s", expiry)
	case TabExpired:
		w.Add("m.status='quo' AND m.handled_elsewhere=0 AND m.sent_at<=%s", expiry)
	case TabTakingCare:
		w.Add("m.status='taking_care'")
	case TabDone:
		w.Add("(m.status IN ('done','done_no_help','done_not_reachable') OR m.handled_elsewhere=1)")
	case TabNotForMe:
		w.Add("m.status='not_for_me'")
	default:
		return MatchPage{}, fmt.Errorf("%w: unknown inbox tab %q", projections.ErrInvalidQuery, tab)
	}
	return qs.matchPage(ctx, w, now, limit, cursor)
}

// Matches returns every match of a need, the latest sent first. It returns
// the database error.
func (qs *Queries) Matches(ctx context.Context, needID uuid.UUID, now time.Time) ([]MatchRow, error) {
	var w query.Where
	w.Add("m.need_id=%s", needID.String())
	page, err := qs.matchPage(ctx, w, now, query.MaxLimit, "")
	return page.Items, err
}

func (qs *Queries) matchPage(ctx context.Context, w query.Where, now time.Time, limit int, cursor string) (MatchPage, error) {
	if cursor != "" {
		us, id, err := query.DecodeCursor(cursor)
		if err != nil {
			return MatchPage{}, err
		}
		w.Add("(m.sent_at<%s OR (m.sent_at=%s AND m.need_id<%s))", us, us, id)
	}
	limit = query.Limit(limit)
	// The page's matches are chosen before they are joined to their needs:
	// a tab of a thousand closed matches then costs a walk of the inbox
	// index and a sort, not a thousand joins (the subquery's LIMIT keeps
	// SQLite from flattening it).
	order := fmt.Sprintf(" ORDER BY m.sent_at DESC, m.need_id DESC LIMIT %d", limit+1)
	q := strings.Replace(matchSelect, "FROM matches m", "FROM (SELECT * FROM matches m"+w.SQL()+order+") m", 1) + order
	rows, err := qs.db.QueryContext(ctx, q, w.Args...)
	if err != nil {
		return MatchPage{}, fmt.Errorf("inbox: %w", err)
	}
	defer rows.Close()
	page := MatchPage{Items: []MatchRow{}}
	for rows.Next() {
		var r MatchRow
		var need, ref, org string
		var sent, taken, closed, updated, captured int64
		var elsewhere int
		if err := rows.Scan(&need, &ref, &org, &r.Status, &sent, &taken, &closed, &updated, &elsewhere,
			&r.NeedStatus, &r.CompanyName, &r.Commune, &r.Subject, &captured); err != nil {
			return MatchPage{}, fmt.Errorf("inbox: %w", err)
		}
		r.NeedID, _ = uuid.Parse(need)
		r.ReferentID, _ = uuid.Parse(ref)
		r.OrganisationID, _ = uuid.Parse(org)
		r.SentAt, r.UpdatedAt, r.CapturedAt = projections.FromMicros(sent), projections.FromMicros(updated), projections.FromMicros(captured)
		r.TakenCareOfAt, r.ClosedAt = optTime(taken), optTime(closed)
		r.HandledElsewhere = elsewhere != 0
		r.Expired = !r.HandledElsewhere && domain.MatchExpired(domain.MatchStatus(r.Status), r.SentAt, now, qs.thresholds)
		page.Items = append(page.Items, r)
	}
	if err := rows.Err(); err != nil {
		return MatchPage{}, fmt.Errorf("inbox: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = query.EncodeCursor(last.SentAt.UnixMicro(), last.NeedID.String())
	}
	return page, nil
}
