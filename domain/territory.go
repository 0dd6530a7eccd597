package domain

import (
	_ "embed"
	"fmt"
	"io"
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

// ParseGeography reads the three CSV files of geodata/ (with their header
// lines). It returns an error naming the file and line of the first record
// that is malformed or refers to an unknown département or région.
func ParseGeography(communes, departements, regions io.Reader) (*Geography, error) {
	var texts [3]string
	for i, r := range []io.Reader{communes, departements, regions} {
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("read geography: %w", err)
		}
		texts[i] = string(b)
	}
	return parseGeography(texts[0], texts[1], texts[2])
}

func emptyGeography() *Geography {
	return &Geography{
		departements:  map[string]Departement{},
		regions:       map[string]Region{},
		epcis:         map[string]EPCI{},
	}
}

func parseGeography(communes, departements, regions string) (*Geography, error) {
	g := emptyGeography()
	if err := eachRecord("regions.csv", regions, []string{"code_region", "nom"}, func(line int, f []string) error {
		if f[0] == "" || f[1] == "" {
			return fmt.Errorf("empty code or name")
		}
		if _, dup := g.regions[f[0]]; dup {
			return fmt.Errorf("duplicate région %s", f[0])
		}
		g.regions[f[0]] = Region{Code: f[0], Name: f[1]}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := eachRecord("departements.csv", departements, []string{"code_departement", "nom", "code_region"}, func(line int, f []string) error {
		if f[0] == "" || f[1] == "" {
			return fmt.Errorf("empty code or name")
		}
		if _, ok := g.regions[f[2]]; !ok {
			return fmt.Errorf("unknown région %q", f[2])
		}
		if _, dup := g.departements[f[0]]; dup {
			return fmt.Errorf("duplicate département %s", f[0])
		}
		g.departements[f[0]] = Departement{Code: f[0], Name: f[1], Region: f[2]}
		return nil
	}); err != nil {
		return nil, err
	}
	// About 35,000 communes: size everything once.
	n := strings.Count(communes, "\n") + 1
	g.communes = make([]Commune, 0, n)
	// One backing array for every commune's postal codes.
	postal := make([]string, 0, n+n/4)
	header := []string{"code_insee", "nom", "code_departement", "code_region", "code_epci", "nom_epci", "population", "codes_postaux"}
	if err := eachRecord("communes.csv", communes, header, func(line int, f []string) error {
		c := Commune{Code: f[0], Name: f[1], Departement: f[2], Region: f[3], EPCI: f[4], EPCIName: f[5]}
		if c.Code == "" || c.Name == "" {
			return fmt.Errorf("empty code or name")
		}
		d, ok := g.departements[c.Departement]
		if !ok {
			return fmt.Errorf("commune %s: unknown département %q", c.Code, c.Departement)
		}
		if d.Region != c.Region {
			return fmt.Errorf("commune %s: région %q differs from its département's %q", c.Code, c.Region, d.Region)
		}
		// A few uninhabited territories (TAAF, Clipperton) have no population.
		pop, err := 0, error(nil)
		if f[6] != "" {
			pop, err = atoi(f[6])
		}
		if err != nil {
			return fmt.Errorf("commune %s: population %q: %w", c.Code, f[6], err)
		}
		c.Population = pop
		if f[7] != "" {
			start := len(postal)
			for code := range strings.FieldsSeq(f[7]) {
				postal = append(postal, code)
			}
			c.PostalCodes = postal[start:len(postal):len(postal)]
		}
		g.communes = append(g.communes, c)
		return nil
	}); err != nil {
		return nil, err
	}
	byCode := func(a, b Commune) int { return strings.Compare(a.Code, b.Code) }
	if !slices.IsSortedFunc(g.communes, byCode) {
		slices.SortStableFunc(g.communes, byCode)
	}
	for i := range g.communes {
		c := &g.communes[i]
		if i > 0 && g.communes[i-1].Code == c.Code {
			return nil, fmt.Errorf("communes.csv: duplicate commune %s", c.Code)
		}
		// Neighbouring communes mostly share their EPCI: skip the map then.
		if c.EPCI != "" && (i == 0 || g.communes[i-1].EPCI != c.EPCI) {
			if _, ok := g.epcis[c.EPCI]; !ok {
				g.epcis[c.EPCI] = EPCI{Code: c.EPCI, Name: c.EPCIName}
			}
		}
	}
	return g, nil
}

func (g *Geography) buildIndex() {
	g.byEPCI = make(map[string][]int32, len(g.epcis))
	g.byDepartement = make(map[string][]int32, len(g.departements))
	g.byRegion = make(map[string][]int32, len(g.regions))
	for i := range g.communes {
		c := &g.communes[i]
		if c.EPCI != "" {
			g.byEPCI[c.EPCI] = append(g.byEPCI[c.EPCI], int32(i))
		}
		g.byDepartement[c.Departement] = append(g.byDepartement[c.Departement], int32(i))
		g.byRegion[c.Region] = append(g.byRegion[c.Region], int32(i))
	}
}

// eachRecord calls fn with each record of a CSV text after checking its
// header. Fields are substrings of text (no copy) unless quoted with
// escaped quotes. fn's error is wrapped with the file and line.
func eachRecord(file, text string, header []string, fn func(line int, fields []string) error) error {
	fields := make([]string, 0, len(header))
	line := 0
	pos := 0
	for pos < len(text) {
		line++
		var err error
		fields, pos, err = nextRecord(text, pos, fields[:0])
		if err != nil {
			return fmt.Errorf("%s line %d: %w", file, line, err)
		}
		if len(fields) == 1 && fields[0] == "" {
			continue // blank line
		}
		if len(fields) != len(header) {
			return fmt.Errorf("%s line %d: %d fields, want %d", file, line, len(fields), len(header))
		}
		if line == 1 {
			if !slices.Equal(fields, header) {
				return fmt.Errorf("%s line 1: header %v, want %v", file, fields, header)
			}
			continue
		}
		if err := fn(line, fields); err != nil {
			return fmt.Errorf("%s line %d: %w", file, line, err)
		}
	}
	if line == 0 {
		return fmt.Errorf("%s: empty", file)
	}
	return nil
}

// nextRecord parses one CSV record (RFC 4180: comma separated, fields
// optionally quoted with "" for a quote) starting at pos, and returns the
// position after its line end.
func nextRecord(text string, pos int, fields []string) ([]string, int, error) {
	for {
		if pos < len(text) && text[pos] == '"' {
			// Quoted field.
			var b strings.Builder
			start := pos + 1
			i := start
			escaped := false
			for {
				j := strings.IndexByte(text[i:], '"')
				if j < 0 {
					return nil, 0, fmt.Errorf("unterminated quoted field")
				}
				i += j
				if i+1 < len(text) && text[i+1] == '"' {
					b.WriteString(text[start : i+1])
					i += 2
					start = i
					escaped = true
					continue
				}
				break
			}
			if escaped {
				b.WriteString(text[start:i])
				fields = append(fields, b.String())
			} else {
				fields = append(fields, text[start:i])
			}
			pos = i + 1
		} else {
			end := pos
			for end < len(text) && text[end] != ',' && text[end] != '\n' && text[end] != '\r' {
				if text[end] == '"' {
					return nil, 0, fmt.Errorf("quote inside an unquoted field")
				}
				end++
			}
			fields = append(fields, text[pos:end])
			pos = end
		}
		if pos >= len(text) {
			return fields, pos, nil
		}
		switch text[pos] {
		case ',':
			pos++
		case '\r':
			pos++
			if pos < len(text) && text[pos] == '\n' {
				pos++
			}
			return fields, pos, nil
		case '\n':
			return fields, pos + 1, nil
		default:
			return nil, 0, fmt.Errorf("unexpected %q after a quoted field", text[pos])
		}
	}
}

func atoi(s string) (int, error) {
	if s == "" || len(s) > 9 {
		// Nine digits is ample for a population and cannot overflow.
		return 0, fmt.Errorf("not a number")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a number")
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, nil
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
	i, ok := slices.BinarySearchFunc(g.communes, code, func(c Commune, code string) int {
		return strings.Compare(c.Code, code)
	})
	if !ok {
		return nil
	}
	return &g.communes[i]
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
