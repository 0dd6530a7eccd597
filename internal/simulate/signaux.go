package simulate

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// With Options.SignauxFaibles, the workload also holds the Signaux Faibles
// lists an admin imports at the start of each month: a pool of companies
// at risk, each on a month's list with a probability that grows with its
// risk, F1 above a score of 0.8, F2 under it; one list is corrected (a
// second import of its period) a few days later. Some needs are those of
// pool companies, so that needs meet the lists, before and after their
// companies are alerted.

// sfCompany is a company of the pool.
type sfCompany struct {
	siren, siret, commune string
	risk                  float64
}

// sfShare is the share of needs captured for a company of the pool.
const sfShare = 0.06

// sfPool draws the companies at risk: a twentieth as many as needs, at
// least 40.
func sfPool(r rng, communes *communePicker, needs int) []sfCompany {
	pool := make([]sfCompany, max(40, needs/20))
	for i := range pool {
		siren := r.siren()
		pool[i] = sfCompany{siren: siren, siret: siretOf(siren), commune: communes.pick(r), risk: r.Float64()}
	}
	return pool
}

// siren draws a valid SIREN (Luhn over 9 digits, never La Poste's).
func (r rng) siren() string {
	for {
		b := make([]byte, 9)
		b[0] = byte('1' + r.IntN(9))
		for i := 1; i < 8; i++ {
			b[i] = byte('0' + r.IntN(10))
		}
		for c := 0; c < 10; c++ {
			b[8] = byte('0' + c)
			if s, err := domain.ParseSIREN(string(b)); err == nil && s != "356000000" {
				return string(s)
			}
		}
	}
}

// siretOf is the head office of siren: NIC 0001 and the key that makes
// the SIRET valid.
func siretOf(siren string) string {
	for c := '0'; c <= '9'; c++ {
		if s, err := domain.ParseSIRET(siren + "0001" + string(c)); err == nil {
			return string(s)
		}
	}
	panic("simulate: no SIRET key for " + siren) // one of ten digits always fits Luhn
}

// sfSteps decides the lists of months 0 to o.Months-1, imported on the
// second day of their month at 09:00 by admin, and the correction of the
// third month's list four days later, as steps of their streams.
func sfSteps(o *Options, pool []sfCompany, admin uuid.UUID) ([]step, error) {
	by := domain.Actor{ID: admin, Role: domain.RoleAdmin}
	var steps []step
	for m := range o.Months {
		r := newRNG(o.Seed, 5000+uint64(m))
		start := o.Start.AddDate(0, m, 0)
		period := start.Format("2006-01")
		var lines []domain.SFLine
		for _, c := range pool {
			if r.Float64() >= c.risk*0.6 {
				continue
			}
			score := min(1, max(0.3, c.risk+0.1*r.NormFloat64()))
			l := domain.SFLine{SIREN: c.siren, Score: float64(int(score*1000)) / 1000, Alert: domain.SFAlertF2,
				Algo: "avec_urssaf", Batch: start.Format("0601"), Commune: c.commune}
			if l.Score >= 0.8 {
				l.Alert = domain.SFAlertF1
			}
			lines = append(lines, l)
		}
		if len(lines) == 0 {
			continue
		}
		at := start.AddDate(0, 0, 1).Add(9 * time.Hour)
		if at.After(o.Now) {
			break
		}
		list := domain.NewSFList(period)
		imports := []struct {
			at    time.Time
			label string
			lines []domain.SFLine
		}{{at, "", lines}}
		if m == 2 && len(lines) > 1 {
			imports = append(imports, struct {
				at    time.Time
				label string
				lines []domain.SFLine
			}{at.AddDate(0, 0, 4), domain.SFPeriodLabel(period) + " (corrigée)", lines[:len(lines)-1]})
		}
		for k, imp := range imports {
			if imp.at.After(o.Now) {
				break
			}
			before := list.Version()
			if err := list.Import(domain.SFListImport{Label: imp.label, Period: period, Lines: imp.lines}, r.idAt(imp.at), by, imp.at); err != nil {
				return nil, fmt.Errorf("simulate list %s: %w", period, err)
			}
			news, err := newEvents(r, list.Changes()[before:], uuid.Nil)
			if err != nil {
				return nil, fmt.Errorf("simulate list %s: %w", period, err)
			}
			// need -1-m keeps lists apart from needs; index 1 keeps them
			// out of the count of needs begun (steps of index 0).
			steps = append(steps, step{at: imp.at, need: -1 - m, index: 1 + k, stream: domain.SFListStream(list.ID()),
				version: before, events: news})
		}
	}
	return steps, nil
}
