// Package needs is the needs read model: one row per need (its place,
// subject, derived status, key instants, reminder-basket inputs) and one
// per match, folded from the log by the projections engine, and the
// queries on them: lists of needs with filters and scopes, a need, its
// matches, and the referents' inboxes. It depends on the projections
// runtime and on projections/needfold; projections/readmodels registers
// it.
package needs

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/projections"
	"github.com/reso-fr/reso/projections/needfold"
)

// Name is the read model's name, and its checkpoint's; Version the
// schema version of its tables (projections.ReadModel.Version: raise it
// when they change, and the engine rebuilds them).
//
// Version 2: matches.handled_elsewhere (an untouched match of a need
// another referent closed leaves the new-needs tab).
const (
	Version = 2
	Name    = "needs"
)

// ReadModel declares the needs read model to the engine; geo places the
// communes of needs in their EPCI, département and région.
func ReadModel(geo *domain.Geography) projections.ReadModel {
	return projections.ReadModel{Name: Name, Version: Version, Tables: tables, New: func(fresh bool) projections.Projection {
		return &projection{geo: geo, cache: needfold.NewCache(fresh, false, readRows)}
	}}
}

// projection maintains needs (one row per need) and matches (one row per
// need × referent).
type projection struct {
	geo   *domain.Geography
	cache *needfold.Cache
}

var needCols = []string{"id", "siret", "company_name", "commune", "epci", "departement", "region",
	"subject", "theme", "advisor_id", "status", "captured_at", "forwarded_at", "first_taken_at",
	"closed_at", "abandoned_at", "waiting", "reminders", "last_reminder", "last_reminder_at",
	"match_count", "contact_key_id", "contact_erased", "version"}

var matchCols = []string{"need_id", "referent_id", "organisation_id", "status", "sent_at",
	"taken_at", "closed_at", "updated_at", "handled_elsewhere"}

func (p *projection) Idle() bool { return p.cache.Idle() }

// Hold makes Flush leave needs in progress for a later flush (on), or
// write every changed need again (off).
func (p *projection) Hold(on bool) { p.cache.Settle(on) }

func (p *projection) Apply(ctx context.Context, tx projections.Txn, suffix string, evs []projections.Decoded) error {
	return needfold.Fold(ctx, tx, p.cache, "needs"+suffix, p.geo, evs)
}

// readRows reads the states of ids back from the rows of needs (table)
// and of their matches: the columns hold the whole state, so that it is not
// stored twice.
func readRows(ctx context.Context, tx projections.Txn, table string, ids []any, into map[uuid.UUID]*needfold.State) error {
	matchesT := "matches" + strings.TrimPrefix(table, "needs")
	var b strings.Builder
	fmt.Fprintf(&b, `SELECT id, siret, company_name, commune, epci, departement, region, subject, theme,
		advisor_id, status, captured_at, forwarded_at, first_taken_at, closed_at, abandoned_at, reminders,
		last_reminder, last_reminder_at, contact_key_id, contact_erased, version FROM %s WHERE id IN `, table)
	projections.Placeholders(&b, tx.Dialect(), 0, len(ids))
	rows, err := tx.QueryContext(ctx, b.String(), ids...)
	if err != nil {
		return fmt.Errorf("load states from %s: %w", table, err)
	}
	defer rows.Close()
	got := make(map[string]*needfold.State, len(ids))
	for rows.Next() {
		s := new(needfold.State)
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
	projections.Placeholders(&b, tx.Dialect(), 0, len(ids))
	b.WriteString(" ORDER BY need_id, sent_at, referent_id")
	mrows, err := tx.QueryContext(ctx, b.String(), ids...)
	if err != nil {
		return fmt.Errorf("load matches from %s: %w", matchesT, err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var need, referent, org, status string
		var m needfold.Match
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

func (p *projection) Flush(ctx context.Context, tx projections.Txn, suffix string) error {
	needsT, matchesT := "needs"+suffix, "matches"+suffix
	touched := p.cache.Take()
	if len(touched) == 0 {
		return nil
	}
	d := tx.Dialect()
	needRows := make([][]any, 0, len(touched))
	var matchRows [][]any
	for _, s := range touched {
		id := projections.IDArg(d, s.ID)
		needRows = append(needRows, []any{id, s.SIRET, s.CompanyName, s.Commune, s.EPCI,
			s.Departement, s.Region, s.Subject, s.Theme, projections.IDArg(d, s.AdvisorID), string(s.Status()),
			s.CapturedAt, s.ForwardedAt, s.FirstTakenAt, s.ClosedAt, s.AbandonedAt, projections.Flag(s.Waiting()),
			s.Reminders, s.LastReminder, s.LastRemindAt, len(s.Matches), s.ContactKeyID, projections.Flag(s.Erased),
			s.Version})
		closed := s.Status().Closed()
		for _, m := range s.Matches {
			matchRows = append(matchRows, []any{id, projections.IDArg(d, m.ReferentID), projections.IDArg(d, m.OrganisationID),
				string(m.Status), m.SentAt, m.TakenAt, m.ClosedAt, m.UpdatedAt,
				projections.Flag(domain.HandledElsewhere(m.Status, closed))})
		}
	}
	if err := projections.Upsert(ctx, tx, needsT, needCols, needCols[:1], projections.ReplaceAll(needCols, needCols[:1]), needRows); err != nil {
		return err
	}
	if err := projections.Upsert(ctx, tx, matchesT, matchCols, matchCols[:2], projections.ReplaceAll(matchCols, matchCols[:2]), matchRows); err != nil {
		return err
	}
	p.cache.Flushed()
	return nil
}
