package simulate

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// rng wraps a seeded generator; every id and choice comes from it, so that
// a seed fixes the whole log.
type rng struct{ *rand.Rand }

func newRNG(seed int64, stream uint64) rng {
	return rng{rand.New(rand.NewPCG(uint64(seed), stream))}
}

// idAt returns a version 7 uuid for instant t, its other bits drawn from
// r: ids made by the application are version 7, taken when the thing they
// name is created, so simulated ones are too. Their time order matters to
// the database: the keys of needs, matches and events then grow as the log
// does, and each insertion lands at the right edge of the B-trees instead
// of anywhere in them.
func (r rng) idAt(t time.Time) uuid.UUID {
	var u uuid.UUID
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			u[i+j] = byte(v >> (8 * j))
		}
	}
	ms := uint64(t.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (8 * (5 - i)))
	}
	u[6] = (u[6] & 0x0f) | 0x70
	u[8] = (u[8] & 0x3f) | 0x80
	return u
}

// hours returns a duration drawn from a log-normal law with the given
// median (in hours) and spread.
func (r rng) hours(median, sigma float64) time.Duration {
	h := median * math.Exp(sigma*r.NormFloat64())
	return time.Duration(h * float64(time.Hour))
}

// siret draws a valid SIRET (Luhn over 14 digits, never La Poste's SIREN).
func (r rng) siret() string {
	for {
		b := make([]byte, 14)
		b[0] = byte('1' + r.IntN(9))
		for i := 1; i < 13; i++ {
			b[i] = byte('0' + r.IntN(10))
		}
		for c := 0; c < 10; c++ {
			b[13] = byte('0' + c)
			if s, err := domain.ParseSIRET(string(b)); err == nil && string(b[:9]) != "356000000" {
				return string(s)
			}
		}
	}
}

// communePicker draws communes weighted by population.
type communePicker struct {
	codes []string
	cum   []int64
}

func newCommunePicker(geo *domain.Geography, region string) *communePicker {
	p := &communePicker{}
	var total int64
	for _, c := range geo.CommunesIn(domain.Zone{Level: domain.LevelRegion, Code: region}) {
		total += int64(max(c.Population, 1))
		p.codes = append(p.codes, c.Code)
		p.cum = append(p.cum, total)
	}
	return p
}

func (p *communePicker) pick(r rng) string {
	x := r.Int64N(p.cum[len(p.cum)-1])
	return p.codes[sort.Search(len(p.cum), func(i int) bool { return p.cum[i] > x })]
}

func itoa(i int) string { return strconv.Itoa(i) }
