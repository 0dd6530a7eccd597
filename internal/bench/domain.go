package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// DomainConfig shapes `reso-bench domain`.
type DomainConfig struct {
	Referents int       // referents in the routing directory
	Progress  io.Writer // one line per measured operation; nil for none
}

// DomainResult is one measured operation.
type DomainResult struct {
	Name        string  `json:"name"`
	Iterations  int     `json:"iterations"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  int64   `json:"bytes_per_op"`
	AllocsPerOp int64   `json:"allocs_per_op"`
}

// DomainReport is what `reso-bench domain` prints; its fields keep the
// alphabetical order the report has always had.
type DomainReport struct {
	Benchmark string         `json:"benchmark"`
	CPUs      int            `json:"cpus"`
	Go        string         `json:"go"`
	Results   []DomainResult `json:"results"`
}

// RunDomain measures the pure domain with the testing package's benchmark
// loop (geography parse, commune lookup, routing among cfg.Referents, need
// fold with and without decoding, event encoding, SIRET parsing). It
// returns the error of building the need history, a failed measure or the
// context's error.
func RunDomain(ctx context.Context, cfg DomainConfig) (DomainReport, error) {
	rep := DomainReport{Benchmark: "domain", Go: runtime.Version(), CPUs: runtime.NumCPU()}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	geo := domain.DefaultGeography()
	covs := benchCoverages(geo, cfg.Referents)
	events, err := benchNeedEvents()
	if err != nil {
		return rep, err
	}
	type encoded struct {
		typ  string
		ver  int
		data []byte
	}
	var stored []encoded
	for _, e := range events {
		typ, ver, data, err := domain.Marshal(e)
		if err != nil {
			return rep, err
		}
		stored = append(stored, encoded{typ, ver, data})
	}
	cases := []struct {
		name string
		fn   func(b *testing.B)
	}{
		{"geography_parse", func(b *testing.B) {
			for b.Loop() {
				if _, err := domain.ParseEmbeddedGeography(); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"commune_lookup", func(b *testing.B) {
			for b.Loop() {
				if _, ok := geo.Commune("59350"); !ok {
					b.Fatal("no Lille")
				}
			}
		}},
		{fmt.Sprintf("route_%d_referents", len(covs)), func(b *testing.B) {
			for b.Loop() {
				domain.Route(geo, covs, "59350", "recruitment")
			}
		}},
		{fmt.Sprintf("fold_need_%d_events", len(events)), func(b *testing.B) {
			for b.Loop() {
				if _, err := domain.FoldNeed(events[0].(domain.NeedCaptured).NeedID, events); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{fmt.Sprintf("decode_fold_need_%d_events", len(events)), func(b *testing.B) {
			id := events[0].(domain.NeedCaptured).NeedID
			for b.Loop() {
				n := domain.NewNeed(id)
				for _, s := range stored {
					e, err := domain.Unmarshal(s.typ, s.ver, s.data)
					if err != nil {
						b.Fatal(err)
					}
					if err := n.Apply(e); err != nil {
						b.Fatal(err)
					}
				}
			}
		}},
		{"marshal_need_captured", func(b *testing.B) {
			for b.Loop() {
				if _, _, _, err := domain.Marshal(events[0]); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"parse_siret", func(b *testing.B) {
			for b.Loop() {
				if _, err := domain.ParseSIRET("732 829 320 00074"); err != nil {
					b.Fatal(err)
				}
			}
		}},
	}
	for _, c := range cases {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		r := testing.Benchmark(c.fn)
		if r.N == 0 {
			return rep, fmt.Errorf("bench domain %s failed", c.name)
		}
		rep.Results = append(rep.Results, DomainResult{
			Name: c.name, Iterations: r.N, NsPerOp: float64(r.T.Nanoseconds()) / float64(r.N),
			BytesPerOp: r.AllocedBytesPerOp(), AllocsPerOp: r.AllocsPerOp(),
		})
		fmt.Fprintf(cfg.Progress, "%-32s %12.0f ns/op\n", c.name, rep.Results[len(rep.Results)-1].NsPerOp)
	}
	return rep, nil
}

// benchCoverages spreads n referents over départements and subjects, the
// way a national directory looks: most cover a département, some a région,
// a few the whole country.
func benchCoverages(geo *domain.Geography, n int) []domain.Coverage {
	deps := geo.Departements()
	regions := geo.Regions()
	subjects := domain.Subjects()
	out := make([]domain.Coverage, n)
	for i := range out {
		zone := domain.Zone{Level: domain.LevelDepartement, Code: deps[i%len(deps)].Code}
		switch {
		case i%50 == 0:
			zone = domain.National
		case i%7 == 0:
			zone = domain.Zone{Level: domain.LevelRegion, Code: regions[i%len(regions)].Code}
		}
		out[i] = domain.Coverage{
			ReferentID: uuid.New(), OrganisationID: uuid.New(), Name: fmt.Sprintf("Référent %05d", i), Active: i%10 != 0,
			Subjects: []string{subjects[i%len(subjects)].Code, subjects[(i*7+3)%len(subjects)].Code},
			Zones:    []domain.Zone{zone},
		}
	}
	return out
}

// benchNeedEvents is a typical history: capture, forward to three
// referents, a decline, a take-charge, a comment, a close, a reminder.
func benchNeedEvents() ([]domain.Event, error) {
	id := uuid.New()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	by := domain.Actor{ID: uuid.New(), Role: domain.RoleAdvisor}
	n := domain.NewNeed(id)
	refs := []domain.MatchRef{{ReferentID: uuid.New(), OrganisationID: uuid.New()}, {ReferentID: uuid.New(), OrganisationID: uuid.New()}, {ReferentID: uuid.New(), OrganisationID: uuid.New()}}
	steps := []func() error{
		func() error {
			return n.Capture(domain.Capture{SIRET: "73282932000074", CompanyName: "Boulangerie", Commune: "59350", Subject: "recruitment",
				Description: "Recrute deux boulangers", Contact: domain.SealedContact{KeyID: "k", Ciphertext: make([]byte, 96)}, AdvisorID: by.ID}, nil, by, at)
		},
		func() error { return n.Forward(refs, by, at.Add(time.Hour)) },
		func() error { return n.Remind(domain.ReminderPoke, by, at.Add(9*24*time.Hour)) },
		func() error { return n.Decline(refs[0].ReferentID, "hors périmètre", by, at.Add(10*24*time.Hour)) },
		func() error { return n.TakeCharge(refs[1].ReferentID, by, at.Add(11*24*time.Hour)) },
		func() error { return n.Comment("Rendez-vous pris", by, at.Add(12*24*time.Hour)) },
		func() error { return n.Close(refs[1].ReferentID, domain.MatchDone, "", by, at.Add(20*24*time.Hour)) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, fmt.Errorf("bench need history: %w", err)
		}
	}
	return n.Changes(), nil
}
