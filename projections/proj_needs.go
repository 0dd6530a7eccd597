package projections

import (
	"context"
	"encoding/json"
	"fmt"

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
	"match_count", "contact_key_id", "contact_erased", "version", "state"}

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
		if !cache.isDirty[id] && cache.trackBefore {
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
		if !cache.isDirty[id] {
			cache.isDirty[id] = true
			cache.dirty = append(cache.dirty, s)
		}
	}
	return nil
}

func (s *needState) clone() *needState {
	c := *s
	c.Matches = append([]matchState(nil), s.Matches...)
	return &c
}

func (p *needsProjection) apply(ctx context.Context, tx txn, suffix string, evs []decoded) error {
	return foldNeeds(ctx, tx, p.cache, "needs"+suffix, p.geo, evs)
}

func (p *needsProjection) flush(ctx context.Context, tx txn, suffix string) error {
	needsT, matchesT := "needs"+suffix, "matches"+suffix
	touched := p.cache.sortedDirty()
	if len(touched) == 0 {
		return nil
	}
	needRows := make([][]any, 0, len(touched))
	var matchRows [][]any
	for _, s := range touched {
		raw, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("encode need %s: %w", s.ID, err)
		}
		needRows = append(needRows, []any{s.ID.String(), s.SIRET, s.CompanyName, s.Commune, s.EPCI,
			s.Departement, s.Region, s.Subject, s.Theme, s.AdvisorID.String(), string(s.status()),
			s.CapturedAt, s.ForwardedAt, s.FirstTakenAt, s.ClosedAt, s.AbandonedAt, b2i(s.waiting()),
			s.Reminders, s.LastReminder, s.LastRemindAt, len(s.Matches), s.ContactKeyID, b2i(s.Erased),
			s.Version, string(raw)})
		for _, m := range s.Matches {
			matchRows = append(matchRows, []any{s.ID.String(), m.ReferentID.String(), m.OrganisationID.String(),
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
