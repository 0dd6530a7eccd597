package console

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// communeIndex finds communes by name, postal code or INSEE code.
type communeIndex struct {
	communes []domain.Commune
	keys     []string // folded names, parallel to communes
}

func newCommuneIndex(g *domain.Geography) *communeIndex {
	cs := g.Communes()
	// Larger communes first: "Lille" before "Lillers".
	slices.SortStableFunc(cs, func(a, b domain.Commune) int { return b.Population - a.Population })
	ix := &communeIndex{communes: cs, keys: make([]string, len(cs))}
	for i, c := range cs {
		ix.keys[i] = fold(c.Name)
	}
	return ix
}

// fold lowercases and drops accents, hyphens and apostrophes, so that
// "saint etienne" finds "Saint-Étienne".
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.ToLower(out)
	out = strings.NewReplacer("-", " ", "'", " ", "’", " ").Replace(out)
	return strings.Join(strings.Fields(out), " ")
}

// search returns up to limit communes matching q: by INSEE code or postal
// code when q is digits, else names starting with q first, then names
// containing it.
func (ix *communeIndex) search(q string, limit int) []domain.Commune {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil
	}
	var out []domain.Commune
	if isDigits(q) || (len(q) == 5 && (strings.HasPrefix(q, "2A") || strings.HasPrefix(q, "2B"))) {
		for _, c := range ix.communes {
			if c.Code == q || slices.ContainsFunc(c.PostalCodes, func(pc string) bool { return strings.HasPrefix(pc, q) }) {
				out = append(out, c)
				if len(out) == limit {
					break
				}
			}
		}
		return out
	}
	fq := fold(q)
	var contains []domain.Commune
	for i, k := range ix.keys {
		switch {
		case strings.HasPrefix(k, fq):
			out = append(out, ix.communes[i])
		case len(contains) < limit && strings.Contains(k, fq):
			contains = append(contains, ix.communes[i])
		}
		if len(out) == limit {
			return out
		}
	}
	return append(out, contains[:min(len(contains), limit-len(out))]...)
}

// resolve turns what was typed in a commune field into one commune: an
// INSEE code, a label as the list shows it ("Lille (59000)"), a postal
// code or a name that only one commune has. Otherwise it returns the
// candidates to choose from (none: nothing matches).
func (ix *communeIndex) resolve(typed string) (domain.Commune, []domain.Commune) {
	typed = strings.TrimSpace(typed)
	if typed == "" {
		return domain.Commune{}, nil
	}
	// "Lille (59000)" or "Lille (59350)": the label the list offers.
	if open := strings.LastIndex(typed, "("); open > 0 && strings.HasSuffix(typed, ")") {
		name, code := strings.TrimSpace(typed[:open]), typed[open+1:len(typed)-1]
		for _, c := range ix.search(code, 50) {
			if fold(c.Name) == fold(name) {
				return c, nil
			}
		}
	}
	for _, c := range ix.communes {
		if c.Code == typed {
			return c, nil
		}
	}
	cands := ix.search(typed, 20)
	if len(cands) == 1 {
		return cands[0], nil
	}
	var exact []domain.Commune
	for _, c := range cands {
		if fold(c.Name) == fold(typed) {
			exact = append(exact, c)
		}
	}
	if len(exact) == 1 {
		return exact[0], nil
	}
	return domain.Commune{}, cands
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// communeLabel is how a commune shows in lists: "Lille (59000)".
func communeLabel(c domain.Commune) string {
	if len(c.PostalCodes) > 0 {
		return c.Name + " (" + c.PostalCodes[0] + ")"
	}
	return c.Name + " (" + c.Code + ")"
}

type communeHit struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// communes answers the commune field's search as typed (JSON, for the
// script; the form works without it).
func (c *console) communes(w http.ResponseWriter, r *http.Request, _ app.Principal) {
	hits := []communeHit{}
	for _, cm := range c.geo.search(r.URL.Query().Get("q"), 10) {
		hits = append(hits, communeHit{Code: cm.Code, Label: communeLabel(cm)})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(hits)
}
