package needs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/query"
)

// Queries answers questions on the needs read model: lists of needs,
// needs, their matches and the referents' inboxes. It is safe for
// concurrent use.
type Queries struct {
	db         *sql.DB
	thresholds domain.Thresholds
}

// NewQueries returns the queries on the needs and matches tables of db;
// thresholds place needs in reminder baskets and matches among the
// expired.
func NewQueries(db *sql.DB, thresholds domain.Thresholds) *Queries {
	return &Queries{db: db, thresholds: thresholds}
}

// NeedFilter selects needs. Empty fields do not filter. The scope fields
// restrict what the caller may see: ScopeZones (non-nil, even empty) to
// needs in one of those zones (animateurs), ScopeReferent to needs matched
// with that referent, ScopeAdvisor to needs that advisor captured.
type NeedFilter struct {
	Status      string // a domain.NeedStatus
	Region      string
	Departement string
	EPCI        string
	Commune     string
	Subject     string
	Referent    uuid.UUID
	Advisor     uuid.UUID
	// Organisation selects needs forwarded to a referent of it.
	Organisation uuid.UUID
	// Basket is a domain.Basket, computed as of Now.
	Basket string
	Now    time.Time
	// CapturedFrom and CapturedTo bound the capture instant: [from, to).
	CapturedFrom time.Time
	CapturedTo   time.Time

	ScopeZones    []domain.Zone
	ScopeReferent uuid.UUID
	ScopeAdvisor  uuid.UUID

	// SF, when set, joins a Signaux Faibles list to the needs of its
	// companies (see SFJoin).
	SF *SFJoin

	Limit  int    // default 50, at most 500
	Cursor string // NextCursor of the previous page
}

// SFJoin joins the Signaux Faibles list that applies, import Seq, to the
// needs of its companies, through the signaux read model's sf_need_flags
// (projections/signaux, which owns that table: this package only reads
// it): each row then carries its company's flag (NeedRow.SignauxFaibles,
// naming the list by List and Periode), and Alerts, when set, keeps only
// the needs of companies at those levels. sf_need_flags holds the needs of
// the import that applies only: a Seq that no longer applies (an import
// made since the caller asked) finds no flag.
type SFJoin struct {
	Seq           int64
	List, Periode string
	Alerts        []domain.SFAlert
}

// NeedRow is a need as the read model has it. It holds no personal data:
// the contact is only named by its key id, empty once erased.
type NeedRow struct {
	ID                uuid.UUID  `json:"id"`
	Version           int64      `json:"version"`
	Status            string     `json:"status"`
	SIRET             string     `json:"siret"`
	CompanyName       string     `json:"company_name"`
	Commune           string     `json:"commune"`
	EPCI              string     `json:"epci"`
	Departement       string     `json:"departement"`
	Region            string     `json:"region"`
	Subject           string     `json:"subject"`
	Theme             string     `json:"theme"`
	AdvisorID         uuid.UUID  `json:"advisor_id"`
	CapturedAt        time.Time  `json:"captured_at"`
	ForwardedAt       *time.Time `json:"forwarded_at"`
	FirstTakeChargeAt *time.Time `json:"first_take_charge_at"`
	ClosedAt          *time.Time `json:"closed_at"`
	AbandonedAt       *time.Time `json:"abandoned_at"`
	Basket            string     `json:"basket"`
	Reminders         int        `json:"reminders"`
	LastReminder      string     `json:"last_reminder,omitempty"`
	LastReminderAt    *time.Time `json:"last_reminder_at,omitempty"`
	MatchCount        int        `json:"match_count"`
	ContactKeyID      string     `json:"contact_key_id,omitempty"`
	ContactErased     bool       `json:"contact_erased"`
	// SignauxFaibles is the company's flag in the list NeedFilter.SF
	// joined; nil without one, or when the list does not name it.
	SignauxFaibles *domain.SFFlag `json:"signaux_faibles,omitempty"`
}

// NeedPage is one page of needs, newest capture first.
type NeedPage struct {
	Items      []NeedRow `json:"items"`
	NextCursor string    `json:"next_cursor"` // "" on the last page
}

const needColumns = `SELECT id, version, status, siret, company_name, commune, epci, departement, region,
	subject, theme, advisor_id, captured_at, forwarded_at, first_taken_at, closed_at, abandoned_at,
	waiting, reminders, last_reminder, last_reminder_at, match_count, contact_key_id, contact_erased`

const needSelect = needColumns + ` FROM needs`

func optTime(us int64) *time.Time {
	if us == 0 {
		return nil
	}
	t := projections.FromMicros(us)
	return &t
}

// scanNeed reads a row of needSelect, followed, with sf, by the alert and
// score SFJoin adds.
func (qs *Queries) scanNeed(sc interface{ Scan(...any) error }, now time.Time, sf *SFJoin) (NeedRow, error) {
	var r NeedRow
	var id, advisor string
	var captured, fwd, taken, closed, abandoned, remindAt int64
	var waiting, erased int
	var alert sql.NullString
	var score sql.NullFloat64
	dest := []any{&id, &r.Version, &r.Status, &r.SIRET, &r.CompanyName, &r.Commune, &r.EPCI, &r.Departement,
		&r.Region, &r.Subject, &r.Theme, &advisor, &captured, &fwd, &taken, &closed, &abandoned, &waiting,
		&r.Reminders, &r.LastReminder, &remindAt, &r.MatchCount, &r.ContactKeyID, &erased}
	if sf != nil {
		dest = append(dest, &alert, &score)
	}
	if err := sc.Scan(dest...); err != nil {
		return r, err
	}
	if alert.Valid {
		r.SignauxFaibles = &domain.SFFlag{Alert: domain.SFAlert(alert.String), Score: score.Float64, List: sf.List, Periode: sf.Periode}
	}
	r.ID, _ = uuid.Parse(id)
	r.AdvisorID, _ = uuid.Parse(advisor)
	r.CapturedAt = projections.FromMicros(captured)
	r.ForwardedAt, r.FirstTakeChargeAt, r.ClosedAt, r.AbandonedAt = optTime(fwd), optTime(taken), optTime(closed), optTime(abandoned)
	r.LastReminderAt = optTime(remindAt)
	r.ContactErased = erased != 0
	r.Basket = string(domain.BasketFor(projections.FromMicros(fwd), waiting != 0, now, qs.thresholds))
	return r, nil
}

// Need returns one need. It returns projections.ErrNotFound when the read model has no
// such need, or the database error.
func (qs *Queries) Need(ctx context.Context, id uuid.UUID, now time.Time) (NeedRow, error) {
	r, err := qs.scanNeed(qs.db.QueryRowContext(ctx, needSelect+` WHERE id=$1`, id.String()), now, nil)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("need %s: %w", id, projections.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("need %s: %w", id, err)
	}
	return r, nil
}

func zoneCond(w *query.Where, zones []domain.Zone) {
	if zones == nil {
		return
	}
	var ors []string
	for _, z := range zones {
		switch z.Level {
		case domain.LevelNational:
			ors = append(ors, "1=1")
		case domain.LevelRegion:
			ors = append(ors, "region="+w.Arg(z.Code))
		case domain.LevelDepartement:
			ors = append(ors, "departement="+w.Arg(z.Code))
		case domain.LevelEPCI:
			ors = append(ors, "epci="+w.Arg(z.Code))
		case domain.LevelCommune:
			ors = append(ors, "commune="+w.Arg(z.Code))
		}
	}
	if len(ors) == 0 {
		w.Conds = append(w.Conds, "1=0")
		return
	}
	w.Conds = append(w.Conds, "("+strings.Join(ors, " OR ")+")")
}

// basketCond selects the needs in basket b as of now, with BasketFor's
// rule: waiting, and whole days since the first forward in the basket's
// range.
func (qs *Queries) basketCond(w *query.Where, b string, now time.Time) error {
	th := qs.thresholds
	daysAgo := func(d int) int64 { return now.Add(-time.Duration(d) * 24 * time.Hour).UnixMicro() }
	switch domain.Basket(b) {
	case domain.BasketNone:
		w.Add("NOT (waiting=1 AND forwarded_at<=%s)", daysAgo(th.Poke))
	case domain.BasketPoke:
		w.Add("waiting=1 AND forwarded_at<=%s AND forwarded_at>%s", daysAgo(th.Poke), daysAgo(th.LastChance))
	case domain.BasketLastChance:
		w.Add("waiting=1 AND forwarded_at<=%s AND forwarded_at>%s", daysAgo(th.LastChance), daysAgo(th.Abandon))
	case domain.BasketAbandon:
		w.Add("waiting=1 AND forwarded_at<=%s", daysAgo(th.Abandon))
	default:
		return fmt.Errorf("%w: unknown basket %q", projections.ErrInvalidQuery, b)
	}
	return nil
}

// ListNeeds returns a page of needs matching f, newest capture first. It
// returns projections.ErrInvalidQuery for a bad cursor or basket, or the database error.
func (qs *Queries) ListNeeds(ctx context.Context, f NeedFilter) (NeedPage, error) {
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	var w query.Where
	for _, c := range []struct{ col, v string }{{"status", f.Status}, {"region", f.Region},
		{"departement", f.Departement}, {"epci", f.EPCI}, {"commune", f.Commune}, {"subject", f.Subject}} {
		if c.v != "" {
			w.Add(c.col+"=%s", c.v)
		}
	}
	for _, ref := range []uuid.UUID{f.Referent, f.ScopeReferent} {
		if ref != uuid.Nil {
			w.Add("EXISTS (SELECT 1 FROM matches m WHERE m.need_id=needs.id AND m.referent_id=%s)", ref.String())
		}
	}
	if f.Organisation != uuid.Nil {
		w.Add("EXISTS (SELECT 1 FROM matches m WHERE m.need_id=needs.id AND m.organisation_id=%s)", f.Organisation.String())
	}
	for _, adv := range []uuid.UUID{f.Advisor, f.ScopeAdvisor} {
		if adv != uuid.Nil {
			w.Add("advisor_id=%s", adv.String())
		}
	}
	if f.Basket != "" {
		if err := qs.basketCond(&w, f.Basket, f.Now); err != nil {
			return NeedPage{}, err
		}
	}
	if !f.CapturedFrom.IsZero() {
		w.Add("captured_at>=%s", f.CapturedFrom.UnixMicro())
	}
	if !f.CapturedTo.IsZero() {
		w.Add("captured_at<%s", f.CapturedTo.UnixMicro())
	}
	if f.Basket != "" {
		// The waiting needs are few: their partial index beats a
		// territory's, which the planner would otherwise pick.
		zoneCondFenced(&w, f.ScopeZones)
	} else {
		zoneCond(&w, f.ScopeZones)
	}
	// Filtered by alert, the page is read in capture order from the needs
	// of alerted companies (sf_need_flags' sf_at and sf_need are the
	// needs' captured_at and id).
	sel, at, id := needSelect, "captured_at", "id"
	filtered := f.SF != nil && len(f.SF.Alerts) > 0
	if filtered {
		sel, at, id = sfSelect(&w, f.SF), "f.sf_at", "f.sf_need"
	}
	if f.Cursor != "" {
		us, cid, err := query.DecodeCursor(f.Cursor)
		if err != nil {
			return NeedPage{}, err
		}
		w.Add("("+at+"<%s OR ("+at+"=%s AND "+id+"<%s))", us, us, cid)
	}
	limit := query.Limit(f.Limit)
	q := sel + w.SQL() + fmt.Sprintf(" ORDER BY %s DESC, %s DESC LIMIT %d", at, id, limit+1)
	rows, err := qs.db.QueryContext(ctx, q, w.Args...)
	if err != nil {
		return NeedPage{}, fmt.Errorf("list needs: %w", err)
	}
	defer rows.Close()
	page := NeedPage{Items: []NeedRow{}}
	for rows.Next() {
		var sf *SFJoin
		if filtered {
			sf = f.SF
		}
		r, err := qs.scanNeed(rows, f.Now, sf)
		if err != nil {
			return NeedPage{}, fmt.Errorf("list needs: %w", err)
		}
		page.Items = append(page.Items, r)
	}
	if err := rows.Err(); err != nil {
		return NeedPage{}, fmt.Errorf("list needs: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = query.EncodeCursor(last.CapturedAt.UnixMicro(), last.ID.String())
	}
	if f.SF != nil && !filtered {
		if err := qs.sfFlags(ctx, f.SF, page.Items); err != nil {
			return NeedPage{}, err
		}
	}
	return page, nil
}

// sfFlags sets the flags of a page's needs: one lookup by primary key
// each, in one statement. The import is checked here rather than in the
// statement, whose planner could otherwise prefer the index by import.
func (qs *Queries) sfFlags(ctx context.Context, sf *SFJoin, items []NeedRow) error {
	if len(items) == 0 {
		return nil
	}
	args := make([]any, 0, len(items))
	ph := make([]string, len(items))
	byID := make(map[uuid.UUID]*NeedRow, len(items))
	for i := range items {
		args = append(args, items[i].ID.String())
		ph[i] = fmt.Sprintf("$%d", i+1)
		byID[items[i].ID] = &items[i]
	}
	rows, err := qs.db.QueryContext(ctx, `SELECT sf_need, sf_seq, sf_alert, sf_score FROM sf_need_flags WHERE sf_need IN (`+
		strings.Join(ph, ",")+`)`, args...)
	if err != nil {
		return fmt.Errorf("list needs: signaux faibles flags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, alert string
		var seq int64
		var score float64
		if err := rows.Scan(&id, &seq, &alert, &score); err != nil {
			return fmt.Errorf("list needs: signaux faibles flags: %w", err)
		}
		if seq != sf.Seq {
			continue
		}
		nid, err := uuid.Parse(id)
		if err != nil {
			return fmt.Errorf("list needs: signaux faibles flags: %w", err)
		}
		if r := byID[nid]; r != nil {
			r.SignauxFaibles = &domain.SFFlag{Alert: domain.SFAlert(alert), Score: score, List: sf.List, Periode: sf.Periode}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list needs: signaux faibles flags: %w", err)
	}
	return nil
}

// sfSelect is the select of the needs of alerted companies: from the flags
// of the list that applies, at the levels asked for, joined to their needs
// by primary key. Read in capture order (sf_at), a page costs at most one
// lookup per need of an alerted company, however many needs or lines there
// are. The flags' columns have names of their own, so that the conditions
// on needs stay unqualified.
func sfSelect(w *query.Where, sf *SFJoin) string {
	ph := make([]string, len(sf.Alerts))
	for i, a := range sf.Alerts {
		ph[i] = w.Arg(string(a))
	}
	w.Conds = append(w.Conds, "f.sf_seq="+w.Arg(sf.Seq), "f.sf_alert IN ("+strings.Join(ph, ",")+")")
	return needColumns + ", f.sf_alert, f.sf_score FROM sf_need_flags f JOIN needs ON needs.id=f.sf_need"
}
