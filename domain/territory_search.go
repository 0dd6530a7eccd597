package domain

import (
	"slices"
	"strings"
	"sync"
	"unicode"
)

// searchIndex holds what commune searches read: each commune's name folded
// (no case, no accent, separators as spaces) and the communes of each
// postal code. Built on the first search: most processes never search.
type searchIndex struct {
	once     sync.Once
	folded   []string
	byPostal map[string][]int32
}

func (g *Geography) search() *searchIndex {
	g.searchIdx.once.Do(func() {
		s := &g.searchIdx
		s.folded = make([]string, len(g.communes))
		s.byPostal = make(map[string][]int32, len(g.communes))
		for i, c := range g.communes {
			s.folded[i] = FoldName(c.Name)
			for _, pc := range c.PostalCodes {
				s.byPostal[pc] = append(s.byPostal[pc], int32(i))
			}
		}
	})
	return &g.searchIdx
}

// CommunesByPostalCode returns the communes a postal code serves, by INSEE
// code; none for an unknown one. One postal code often serves several
// communes (59350: Saint-André-lez-Lille).
func (g *Geography) CommunesByPostalCode(postalCode string) []Commune {
	idx := g.search().byPostal[strings.TrimSpace(postalCode)]
	out := make([]Commune, len(idx))
	for i, j := range idx {
		out[i] = g.communes[j]
	}
	return out
}

// SearchCommunes finds at most limit communes by INSEE code, postal code
// or name (case, accents, hyphens and apostrophes ignored). An exact code
// comes first, then names equal to the query, then names starting with
// it, then names with a word starting with it; the more populous first
// within each.
func (g *Geography) SearchCommunes(query string, limit int) []Commune {
	q := strings.TrimSpace(query)
	if q == "" || limit <= 0 {
		return nil
	}
	s := g.search()
	type hit struct {
		rank int
		i    int32
	}
	var hits []hit
	seen := map[int32]bool{}
	add := func(rank int, i int32) {
		if !seen[i] {
			seen[i] = true
			hits = append(hits, hit{rank, i})
		}
	}
	if isDigits(q) || (len(q) == 5 && isDigits(q[2:])) { // Corsica: 2A004
		if i, ok := g.communeIndex(strings.ToUpper(q)); ok {
			add(0, int32(i))
		}
		for _, i := range s.byPostal[q] {
			add(1, i)
		}
	}
	fq := FoldName(q)
	if fq != "" {
		for i, name := range s.folded {
			switch {
			case name == fq:
				add(2, int32(i))
			case strings.HasPrefix(name, fq):
				add(3, int32(i))
			case strings.Contains(" "+name, " "+fq):
				add(4, int32(i))
			}
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return g.communes[b.i].Population - g.communes[a.i].Population
	})
	out := make([]Commune, 0, min(limit, len(hits)))
	for _, h := range hits[:min(limit, len(hits))] {
		out = append(out, g.communes[h.i])
	}
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// foldRunes maps the accented letters of French names to their base.
var foldRunes = map[rune]string{
	'à': "a", 'â': "a", 'ä': "a", 'á': "a", 'ã': "a", 'å': "a",
	'ç': "c", 'é': "e", 'è': "e", 'ê': "e", 'ë': "e",
	'î': "i", 'ï': "i", 'í': "i", 'ì': "i", 'ñ': "n",
	'ô': "o", 'ö': "o", 'ó': "o", 'ò': "o", 'õ': "o",
	'ù': "u", 'û': "u", 'ü': "u", 'ú': "u", 'ÿ': "y", 'ý': "y",
	'œ': "oe", 'æ': "ae",
}

// FoldName is a name as searches compare it: lower case, without accents,
// with hyphens, apostrophes and other separators as single spaces
// ("Saint-André-lez-Lille" and "saint andre lez lille" fold alike).
func FoldName(s string) string {
	var b strings.Builder
	space := true // no leading space
	for _, r := range strings.ToLower(s) {
		switch {
		case foldRunes[r] != "":
			b.WriteString(foldRunes[r])
			space = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimRight(b.String(), " ")
}
