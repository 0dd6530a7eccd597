package domain

import (
	"cmp"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Coverage is what a referent covers, as routing needs it.
type Coverage struct {
	ReferentID       uuid.UUID
	OrganisationID   uuid.UUID
	OrganisationName string // for people reading suggestions; routing ignores it
	Name             string
	Subjects         []string
	Zones            []Zone
	Active           bool
}

// Route suggests the referents for a need in commune with subject: the active
// ones covering subject on a zone that contains commune.
//
// The order is deterministic: by the most specific zone through which the
// referent covers the commune (commune, then EPCI, département, région,
// national), so that local experts come first; then by name; then by
// referent id. An unknown commune gets no referent. A nil geo is
// DefaultGeography.
func Route(geo *Geography, referents []Coverage, commune, subject string) []Coverage {
	if geo == nil {
		geo = DefaultGeography()
	}
	c := geo.commune(commune)
	if c == nil {
		return nil
	}
	type hit struct {
		cov  Coverage
		rank int
	}
	var hits []hit
	for _, r := range referents {
		if !r.Active || !slices.Contains(r.Subjects, subject) {
			continue
		}
		best := -1
		for _, z := range r.Zones {
			if containsCommune(z, c) && (best < 0 || z.Rank() < best) {
				best = z.Rank()
			}
		}
		if best >= 0 {
			hits = append(hits, hit{r, best})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		return cmp.Or(
			cmp.Compare(a.rank, b.rank),
			strings.Compare(a.cov.Name, b.cov.Name),
			compareIDs(a.cov.ReferentID, b.cov.ReferentID),
		)
	})
	out := make([]Coverage, len(hits))
	for i, h := range hits {
		out[i] = h.cov
	}
	return out
}

// MatchRefs turns routed coverages into the referents to forward to.
func MatchRefs(covs []Coverage) []MatchRef {
	out := make([]MatchRef, len(covs))
	for i, c := range covs {
		out[i] = MatchRef{ReferentID: c.ReferentID, OrganisationID: c.OrganisationID}
	}
	return out
}
