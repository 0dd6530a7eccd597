package console

import (
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// scopeChoices says which régions and départements a filter offers p: all
// of them, or for an animateur those that meet their territories. It reads
// the geography once per page rather than testing every zone against every
// territory.
type scopeChoices struct {
	all           bool
	regions, deps map[string]bool
}

func newScopeChoices(geo *domain.Geography, p app.Principal) scopeChoices {
	if p.Role != domain.RoleAnimateur {
		return scopeChoices{all: true}
	}
	s := scopeChoices{regions: map[string]bool{}, deps: map[string]bool{}}
	for _, t := range p.Territories {
		switch t.Level {
		case domain.LevelNational:
			return scopeChoices{all: true}
		case domain.LevelRegion:
			s.regions[t.Code] = true
			for _, d := range geo.Departements() {
				if d.Region == t.Code {
					s.deps[d.Code] = true
				}
			}
		default:
			for _, c := range geo.CommunesIn(t) {
				s.regions[c.Region], s.deps[c.Departement] = true, true
			}
		}
	}
	return s
}

func (s scopeChoices) region(code string) bool { return s.all || s.regions[code] }
func (s scopeChoices) dep(code string) bool    { return s.all || s.deps[code] }
