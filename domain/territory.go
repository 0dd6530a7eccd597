package domain

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
)

// Commune is a French commune (INSEE code) with the territories it belongs
// to. EPCI and EPCIName are empty for the few communes outside any EPCI.
type Commune struct {
	Code        string
	Name        string
	EPCI        string
	EPCIName    string
	Departement string
	Region      string
	Population  int
	// PostalCodes is shared with the Geography: read it, do not modify it.
	PostalCodes []string
}

// Departement is a French département.
type Departement struct {
	Code   string
	Name   string
	Region string
}

// Region is a French région (or overseas collectivity).
type Region struct {
	Code string
	Name string
}

// EPCI is an intercommunal body (métropole, communauté urbaine,
// d'agglomération or de communes). It may span départements.
type EPCI struct {
	Code string
	Name string
}

// Geography is the official administrative geography: communes, EPCI,
// départements, régions. It is read-only once built, so safe for concurrent
// use.
type Geography struct {
	// communes is sorted by code: a binary search finds one faster than a
	// map of 35,000 keys takes to build at every process start.
	communes     []Commune
	departements map[string]Departement
	regions      map[string]Region
	epcis        map[string]EPCI
	// Indices into communes, per territory, in commune code order. Built on
	// the first CommunesIn: most processes never list a zone's communes.
	indexOnce     sync.Once
	byEPCI        map[string][]int32
	byDepartement map[string][]int32
	byRegion      map[string][]int32
	// searchIdx serves commune searches (territory_search.go).
	searchIdx searchIndex
}

var (
	//go:embed geodata/communes.csv
	communesCSV string
	//go:embed geodata/departements.csv
	departementsCSV string
	//go:embed geodata/regions.csv
	regionsCSV string

	defaultGeoOnce sync.Once
	defaultGeo     *Geography
	defaultGeoErr  error
)

// DefaultGeography returns the geography embedded in the binary (see
// geodata/README.md for its source), parsed once. The embedded data is
// checked by the package's tests; should it ever fail to parse, the result is
// an empty geography, never a panic.
func DefaultGeography() *Geography {
	defaultGeoOnce.Do(func() {
		defaultGeo, defaultGeoErr = ParseEmbeddedGeography()
		if defaultGeoErr != nil {
			defaultGeo = emptyGeography()
		}
	})
	return defaultGeo
}

// ParseEmbeddedGeography parses the embedded geography afresh, without the
// cache of DefaultGeography: benchmarks use it. It returns the parse error,
// which the package's tests make sure never happens.
func ParseEmbeddedGeography() (*Geography, error) {
	return parseGeography(communesCSV, departementsCSV, regionsCSV)
}

// defaultGeographyErr reports the embedded data's parse error, for tests.
func defaultGeographyErr() error {
	DefaultGeography()
	return defaultGeoErr
}

// Commune returns the commune with INSEE code code.
func (g *Geography) Commune(code string) (Commune, bool) {
	c := g.commune(code)
	if c == nil {
		return Commune{}, false
	}
	return *c, true
}

// commune returns a pointer into g.communes, or nil.
func (g *Geography) commune(code string) *Commune {
	i, ok := g.communeIndex(code)
	if !ok {
		return nil
	}
	return &g.communes[i]
}

// communeIndex is the index of code in g.communes.
func (g *Geography) communeIndex(code string) (int, bool) {
	return slices.BinarySearchFunc(g.communes, code, func(c Commune, code string) int {
		return strings.Compare(c.Code, code)
	})
}

// Departement returns the département with code code ("59", "2A", "971").
func (g *Geography) Departement(code string) (Departement, bool) {
	d, ok := g.departements[code]
	return d, ok
}

// Region returns the région with code code ("32").
func (g *Geography) Region(code string) (Region, bool) {
	r, ok := g.regions[code]
	return r, ok
}

// EPCI returns the EPCI with SIREN code code ("200093201").
func (g *Geography) EPCI(code string) (EPCI, bool) {
	e, ok := g.epcis[code]
	return e, ok
}

// Communes returns every commune, sorted by code.
func (g *Geography) Communes() []Commune { return slices.Clone(g.communes) }

// Departements returns every département, sorted by code.
func (g *Geography) Departements() []Departement {
	out := make([]Departement, 0, len(g.departements))
	for _, d := range g.departements {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Departement) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// Regions returns every région, sorted by code.
func (g *Geography) Regions() []Region {
	out := make([]Region, 0, len(g.regions))
	for _, r := range g.regions {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Region) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// EPCIs returns every EPCI, sorted by code.
func (g *Geography) EPCIs() []EPCI {
	out := make([]EPCI, 0, len(g.epcis))
	for _, e := range g.epcis {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b EPCI) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// CommunesIn returns the communes of zone z, sorted by code; none when z is
// unknown.
func (g *Geography) CommunesIn(z Zone) []Commune {
	g.indexOnce.Do(g.buildIndex)
	var idx []int32
	switch z.Level {
	case LevelNational:
		return g.Communes()
	case LevelCommune:
		if c, ok := g.Commune(z.Code); ok {
			return []Commune{c}
		}
		return nil
	case LevelEPCI:
		idx = g.byEPCI[z.Code]
	case LevelDepartement:
		idx = g.byDepartement[z.Code]
	case LevelRegion:
		idx = g.byRegion[z.Code]
	}
	if len(idx) == 0 {
		return nil
	}
	out := make([]Commune, len(idx))
	for i, j := range idx {
		out[i] = g.communes[j]
	}
	return out
}

// Contains reports whether commune communeCode lies in zone z (commune ⊂
// EPCI ⊂ département ⊂ région ⊂ national). An unknown commune is in no zone.
func (g *Geography) Contains(z Zone, communeCode string) bool {
	c := g.commune(communeCode)
	return c != nil && containsCommune(z, c)
}

func containsCommune(z Zone, c *Commune) bool {
	switch z.Level {
	case LevelNational:
		return true
	case LevelRegion:
		return z.Code == c.Region
	case LevelDepartement:
		return z.Code == c.Departement
	case LevelEPCI:
		return z.Code != "" && z.Code == c.EPCI
	case LevelCommune:
		return z.Code == c.Code
	}
	return false
}

// Within reports whether zone inner lies entirely inside zone outer: every
// commune of inner is in outer (an EPCI spanning two départements is within
// neither). Unknown zones are within nothing.
func (g *Geography) Within(inner, outer Zone) bool {
	if g.ValidZone(inner) != nil || g.ValidZone(outer) != nil {
		return false
	}
	if outer.Level == LevelNational || inner == outer {
		return true
	}
	switch inner.Level {
	case LevelNational:
		return false
	case LevelRegion:
		return false // outer is not national and not equal: nothing larger
	case LevelDepartement:
		return outer.Level == LevelRegion && g.departements[inner.Code].Region == outer.Code
	}
	communes := g.CommunesIn(inner)
	for i := range communes {
		if !containsCommune(outer, &communes[i]) {
			return false
		}
	}
	return len(communes) > 0
}

// ValidZone checks that z names a known territory. It returns a
// *ValidationError (field "zone") otherwise.
func (g *Geography) ValidZone(z Zone) error {
	var ok bool
	switch z.Level {
	case LevelNational:
		if z.Code != "" {
			return invalid("zone", "national takes no code, got %q", z.Code)
		}
		return nil
	case LevelRegion:
		_, ok = g.regions[z.Code]
	case LevelDepartement:
		_, ok = g.departements[z.Code]
	case LevelEPCI:
		_, ok = g.epcis[z.Code]
	case LevelCommune:
		ok = g.commune(z.Code) != nil
	default:
		return invalid("zone", "unknown level %q", z.Level)
	}
	if !ok {
		return invalid("zone", "unknown %s %q", z.Level, z.Code)
	}
	return nil
}

// ZoneName returns the name of the territory ("Nord", "France" for
// national), or "" when it is unknown.
func (g *Geography) ZoneName(z Zone) string {
	switch z.Level {
	case LevelNational:
		return "France"
	case LevelRegion:
		return g.regions[z.Code].Name
	case LevelDepartement:
		return g.departements[z.Code].Name
	case LevelEPCI:
		return g.epcis[z.Code].Name
	case LevelCommune:
		if c, ok := g.Commune(z.Code); ok {
			return c.Name
		}
	}
	return ""
}
