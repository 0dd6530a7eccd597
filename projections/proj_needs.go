package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// needsProjection maintains needs (one row per need) and matches (one row per
// need × referent).
type needsProjection struct {
	geo   *domain.Geography
	cache *stateCache
}

func (p *needsProjection) name() string    { return Needs }
func (p *needsProjection) tables() []table { return needsTables }

var needCols = []string{"id", "siret", "company_name", "commune", "epci", "departement", "region",
	"subject", "theme", "advisor_id", "status", "captured_at", "forwarded_at", "first_taken_at",
	"closed_at", "abandoned_at", "waiting", "reminders", "last_reminder", "last_reminder_at",
	"match_count", "contact_key_id", "contact_erased", "version"}

var matchCols = []string{"need_id", "referent_id", "organisation_id", "status", "sent_at",
	"taken_at", "closed_at", "updated_at"}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// foldNeeds applies the need events of evs to the states of cache, loading
// the missing ones from stateTable, and marks them dirty.
func foldNeeds(ctx context.Context, tx txn, cache *stateCache, stateTable string, geo *domain.Geography, evs []decoded) error {
	var ids []uuid.UUID
	for _, d := range evs {
		if id, ok := needIDOf(d.e); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if err := cache.load(ctx, tx, stateTable, ids); err != nil {
		return err
	}
	for _, d := range evs {
		id, ok := needIDOf(d.e)
		if !ok {
			continue
		}
		s := cache.m[id]
		if (s == nil || !s.dirty) && cache.trackBefore {
			if s == nil {
				cache.before[id] = nil
			} else {
				cache.before[id] = s.clone()
			}
		}
		if c, isCapture := d.e.(domain.NeedCaptured); isCapture && s == nil {
			s = newNeedState(c, geo)
			s.Version = d.ev.Version
			cache.m[id] = s
		} else if s == nil {
			return fmt.Errorf("event %s (%s of %s): %w", d.ev.ID, d.ev.Type, d.ev.StreamID,
				errUnfit("need %s was never captured", id))
		} else if err := s.apply(d.e, d.ev.Version); err != nil {
			return fmt.Errorf("event %s (%s of %s): %w", d.ev.ID, d.ev.Type, d.ev.StreamID, err)
		}
		if !s.dirty {
			s.dirty = true
			cache.dirty = append(cache.dirty, s)
		}
	}
	return nil
}

func (s *needState) clone() *needState {
	c := *s
	c.Matches = append([]matchState(nil), s.Matches...)
	c.dirty = false // a copy is in no dirty list
	return &c
}

func (p *needsProjection) idle() bool { return len(p.cache.dirty) == 0 }

// hold makes flush leave needs in progress for a later flush (on), or
// write every changed need again (off).
func (p *needsProjection) hold(on bool) { p.cache.settling = on }

func (p *needsProjection) apply(ctx context.Context, tx txn, suffix string, evs []decoded) error {
	return foldNeeds(ctx, tx, p.cache, "needs"+suffix, p.geo, evs)
}

// upgradeNeedsLayout drops the state column that needs had before its
// columns and matches were read back instead (the rows are otherwise the
// same, so the projection goes on from its checkpoint). It returns the
// database error.
func upgradeNeedsLayout(ctx context.Context, db *sql.DB, d Dialect) error {
	if typ, err := columnType(ctx, db, d, "needs", "state"); err != nil || typ == "" {
		return err // no such column (or table): nothing to upgrade
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE needs DROP COLUMN state`); err != nil {
		return fmt.Errorf("upgrade needs table: %w", err)
	}
	return nil
}

// readNeedRows reads the states of ids back from the rows of needs (table)
// and of their matches: the columns hold the whole state, so that it is not
// stored twice.
func readNeedRows(ctx context.Context, tx txn, table string, ids []any, into map[uuid.UUID]*needState) error {
	matchesT := "matches" + strings.TrimPrefix(table, "needs")
	var b strings.Builder
	fmt.Fprintf(&b, `SELECT id, siret, company_name, commune, epci, departement, region, subject, theme,
		advisor_id, status, captured_at, forwarded_at, first_taken_at, closed_at, abandoned_at, reminders,
		last_reminder, last_reminder_at, contact_key_id, contact_erased, version FROM %s WHERE id IN `, table)
	tx.d.placeholders(&b, 0, len(ids))
	rows, err := tx.QueryContext(ctx, b.String(), ids...)
	if err != nil {
		return fmt.Errorf("load states from %s: %w", table, err)
	}
	defer rows.Close()
	got := make(map[string]*needState, len(ids))
	for rows.Next() {
		s := new(needState)
		var id, advisor, status string
		var erased int
		if err := rows.Scan(&id, &s.SIRET, &s.CompanyName, &s.Commune, &s.EPCI, &s.Departement, &s.Region,
			&s.Subject, &s.Theme, &advisor, &status, &s.CapturedAt, &s.ForwardedAt, &s.FirstTakenAt,
			&s.ClosedAt, &s.AbandonedAt, &s.Reminders, &s.LastReminder, &s.LastRemindAt, &s.ContactKeyID,
			&erased, &s.Version); err != nil {
			return fmt.Errorf("load states from %s: %w", table, err)
		}
		if s.ID, err = uuid.Parse(id); err != nil {
			return fmt.Errorf("load states from %s: %w", table, err)
		}
		if s.AdvisorID, err = uuid.Parse(advisor); err != nil {
			return fmt.Errorf("load state of %s from %s: %w", id, table, err)
		}
		// DeriveStatus puts abandonment first.
		s.Abandoned, s.Erased = status == string(domain.NeedAbandonedStatus), erased != 0
		got[id] = s
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load states from %s: %w", table, err)
	}
	if len(got) == 0 {
		return nil
	}
	b.Reset()
	fmt.Fprintf(&b, `SELECT need_id, referent_id, organisation_id, status, sent_at, taken_at, closed_at, updated_at
		FROM %s WHERE need_id IN `, matchesT)
	tx.d.placeholders(&b, 0, len(ids))
	b.WriteString(" ORDER BY need_id, sent_at, referent_id")
	mrows, err := tx.QueryContext(ctx, b.String(), ids...)
	if err != nil {
		return fmt.Errorf("load matches from %s: %w", matchesT, err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var need, referent, org, status string
		var m matchState
		if err := mrows.Scan(&need, &referent, &org, &status, &m.SentAt, &m.TakenAt, &m.ClosedAt, &m.UpdatedAt); err != nil {
			return fmt.Errorf("load matches from %s: %w", matchesT, err)
		}
		s := got[need]
		if s == nil {
			return fmt.Errorf("load matches from %s: need %s has matches but no row", matchesT, need)
		}
		if m.ReferentID, err = uuid.Parse(referent); err != nil {
			return fmt.Errorf("load matches of %s from %s: %w", need, matchesT, err)
		}
		if m.OrganisationID, err = uuid.Parse(org); err != nil {
			return fmt.Errorf("load matches of %s from %s: %w", need, matchesT, err)
		}
		m.Status = domain.MatchStatus(status)
		s.Matches = append(s.Matches, m)
	}
	if err := mrows.Err(); err != nil {
		return fmt.Errorf("load matches from %s: %w", matchesT, err)
	}
	for _, s := range got {
		into[s.ID] = s
	}
	return nil
}

func (p *needsProjection) flush(ctx context.Context, tx txn, suffix string) error {
	needsT, matchesT := "needs"+suffix, "matches"+suffix
	touched := p.cache.take()
	if len(touched) == 0 {
		return nil
	}
	needRows := make([][]any, 0, len(touched))
	var matchRows [][]any
	for _, s := range touched {
		id := tx.d.idArg(s.ID)
		needRows = append(needRows, []any{id, s.SIRET, s.CompanyName, s.Commune, s.EPCI,
			s.Departement, s.Region, s.Subject, s.Theme, tx.d.idArg(s.AdvisorID), string(s.status()),
			s.CapturedAt, s.ForwardedAt, s.FirstTakenAt, s.ClosedAt, s.AbandonedAt, b2i(s.waiting()),
			s.Reminders, s.LastReminder, s.LastRemindAt, len(s.Matches), s.ContactKeyID, b2i(s.Erased),
			s.Version})
		for _, m := range s.Matches {
			matchRows = append(matchRows, []any{id, tx.d.idArg(m.ReferentID), tx.d.idArg(m.OrganisationID),
				string(m.Status), m.SentAt, m.TakenAt, m.ClosedAt, m.UpdatedAt})
		}
	}
	if err := upsert(ctx, tx, needsT, needCols, needCols[:1], replaceAll(needCols, needCols[:1]), needRows); err != nil {
		return err
	}
	if err := upsert(ctx, tx, matchesT, matchCols, matchCols[:2], replaceAll(matchCols, matchCols[:2]), matchRows); err != nil {
		return err
	}
	p.cache.flushed()
	return nil
}
