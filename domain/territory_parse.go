package domain

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

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
		departements: map[string]Departement{},
		regions:      map[string]Region{},
		epcis:        map[string]EPCI{},
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
