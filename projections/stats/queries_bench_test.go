package stats

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/pgtest"
)

// benchQueries are the statistics queries of the HTTP bench's stats phase
// (internal/bench statsQueries).
var benchQueries = []struct {
	name string
	q    StatsQuery
}{
	{"none", StatsQuery{}},
	{"month", StatsQuery{GroupBy: []string{"month"}}},
	{"region", StatsQuery{GroupBy: []string{"region"}}},
	{"departement,subject", StatsQuery{GroupBy: []string{"departement", "subject"}}},
	{"month,departement", StatsQuery{GroupBy: []string{"month", "departement"}, From: "2025-06", To: "2026-05"}},
	{"organisation", StatsQuery{GroupBy: []string{"organisation"}}},
	{"subject,dep59", StatsQuery{GroupBy: []string{"subject"}, Departement: "59"}},
	{"month,subject", StatsQuery{GroupBy: []string{"month", "subject"}}},
}

// benchCell is a row of stats_cells.
type benchCell struct {
	k    cellKey
	c    counts
	hist []byte
	q    [2]float64 // its quantiles (quantileCols)
}

// benchCells are the cells `reso-bench http --needs` leaves over needs:
// 19 months of Hauts-de-France (5 départements), every subject, 4
// organisations, every layer but Signaux Faibles', with histograms of 1 to
// 200 whole hours to take-charge, as the seeder draws them. They are
// synthetic (no projection runs), so that a benchmark needs no hour of
// seeding.
func benchCells(needs int) []benchCell {
	var months []string
	for i := range 19 {
		months = append(months, fmt.Sprintf("%04d-%02d", 2024+(10+i)/12, (10+i)%12+1))
	}
	deps := []string{"02", "59", "60", "62", "80"}
	var subjects []string
	for _, s := range domain.Subjects() {
		subjects = append(subjects, s.Code)
	}
	orgs := []string{"0b4c5a3e-8f61-4d2a-9c55-0e1f2a3b4c5d", "1f0e9d8c-7b6a-4958-8372-6150493a2b1c",
		"2a3b4c5d-6e7f-4081-9213-a4b5c6d7e8f9", "3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b"}
	rng := rand.New(rand.NewPCG(1, 2))
	or := func(all bool, vs []string) []string {
		if all {
			return []string{""}
		}
		return vs
	}
	var out []benchCell
	for layer := range 16 {
		os := []string{""}
		if layer&byOrganisation != 0 {
			os = orgs
		}
		ms, ds, ss := or(layer&allMonths != 0, months), or(layer&allDepartements != 0, deps), or(layer&allSubjects != 0, subjects)
		n := int64(needs / (len(os) * len(ms) * len(ds) * len(ss)))
		for _, o := range os {
			for _, m := range ms {
				for _, d := range ds {
					for _, s := range ss {
						var c counts
						c[cNeeds], c[cMatches], c[cPositioned] = n, n*95/100, n*85/100
						c[cTaken] = n * 71 / 100
						var h hist
						for hour := 1; hour <= 200; hour++ {
							if k := c[cTaken]/200 + rng.Int64N(3) - 1; k > 0 {
								h.add(bucketOf(float64(hour)), k)
							}
						}
						c[cWithin3], c[cWithin5] = c[cTaken]*36/100, c[cTaken]*60/100
						c[cDone], c[cDoneNoHelp], c[cDoneNotReachable] = n*36/100, n*12/100, n*12/100
						c[cNotForMe], c[cAbandoned] = n*9/100, 0
						med, p90 := h.quantiles(statsQuantiles[0], statsQuantiles[1])
						out = append(out, benchCell{cellKey{Layer: layer, Organisation: o, Subject: s, Month: m, Region: "32", Departement: d},
							c, h.appendEncoded(nil), [2]float64{med, p90}})
					}
				}
			}
		}
	}
	return out
}

// seedBenchCells creates stats_cells in db (PostgreSQL) and fills it with
// benchCells.
func seedBenchCells(tb testing.TB, db *sql.DB, needs int) {
	tb.Helper()
	mustCells(tb, db, `TEXT COLLATE "C"`, benchCells(needs))
	if _, err := db.ExecContext(context.Background(), "ANALYZE stats_cells"); err != nil {
		tb.Fatal(err)
	}
}

// mustCells creates stats_cells in db, its key columns typed keyType (the
// dialect's {K}), holding cells.
func mustCells(tb testing.TB, db *sql.DB, keyType string, cells []benchCell) {
	tb.Helper()
	ctx := context.Background()
	ddl := strings.NewReplacer("{T}", "stats_cells", "{K}", keyType, "{U}", "TEXT").Replace(tables[1].DDL)
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		tb.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	marks := make([]string, len(cellWriteCols))
	for i := range marks {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO stats_cells ("+strings.Join(cellWriteCols, ",")+") VALUES ("+strings.Join(marks, ",")+")")
	if err != nil {
		tb.Fatal(err)
	}
	for _, bc := range cells {
		args := bc.k.args()
		for _, v := range bc.c {
			args = append(args, v)
		}
		if _, err := stmt.ExecContext(ctx, append(args, bc.hist, bc.q[0], bc.q[1])...); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkGrouping sums the cells of the largest answers (read once,
// in memory) as Queries.Stats does after scanning them: the Go side of a
// query, without the database's and the driver's noise.
func BenchmarkGrouping(b *testing.B) {
	cells := benchCells(1_000_000)
	for _, q := range []StatsQuery{{GroupBy: []string{"month", "subject"}}, {GroupBy: []string{"departement", "subject"}}} {
		var in []benchCell
		for _, bc := range cells {
			if bc.k.Layer == q.layer() {
				in = append(in, bc)
			}
		}
		cols := map[string]func(k cellKey) string{"month": func(k cellKey) string { return k.Month },
			"departement": func(k cellKey) string { return k.Departement }, "subject": func(k cellKey) string { return k.Subject }}
		b.Run(strings.Join(q.GroupBy, ","), func(b *testing.B) {
			b.ReportAllocs()
			vals := make([]string, len(q.GroupBy))
			cpu0 := processCPU(b)
			for b.Loop() {
				g := newGrouping(q)
				for _, bc := range in {
					for i, k := range g.keys {
						vals[i] = cols[k](bc.k)
					}
					if err := g.add(vals, &bc.c, bc.hist, [2]float64{}); err != nil {
						b.Fatal(err)
					}
				}
				_ = g.rows()
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkStats runs the stats phase's queries on the cells of 1,000,000
// needs in PostgreSQL: the server's CPU per request is Queries.Stats's
// (the database's own work shows in the wall time only).
func BenchmarkStats(b *testing.B) {
	db, err := sql.Open("pgx", pgtest.MustSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	seedBenchCells(b, db, 1_000_000)
	qs := NewQueries(db)
	ctx := context.Background()
	for _, bq := range benchQueries {
		b.Run(bq.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				if _, err := qs.Stats(ctx, bq.q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time this process has used, in nanoseconds: user
// and system, the database server's excluded, which is what a query costs
// the Réso server.
func processCPU(tb testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// onSchema opens the database of RESO_STATS_SCHEMA_DSN, a URL whose
// search_path is a kept `reso-bench http --keep` log, or skips: the
// benchmarks below measure real cells, which take minutes to seed.
func onSchema(b *testing.B) *sql.DB {
	dsn := os.Getenv("RESO_STATS_SCHEMA_DSN")
	if dsn == "" {
		b.Skip("RESO_STATS_SCHEMA_DSN names no kept log")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkStatsOnSchema runs the stats phase's queries on a kept log's
// cells, one client and no load: how a query's cost grows with the needs
// apart from the HTTP benchmark's noise (docs/benchmarks.md, issue 21).
func BenchmarkStatsOnSchema(b *testing.B) {
	qs := NewQueries(onSchema(b))
	ctx := context.Background()
	for _, bq := range benchQueries {
		b.Run(bq.name, func(b *testing.B) {
			cpu0 := processCPU(b)
			for b.Loop() {
				if _, err := qs.Stats(ctx, bq.q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkRebucketOnSchema re-buckets a kept log's stored histograms at
// coarser widths and reports the bytes each layer the stats phase reads
// most (2: département × subject, 4: month × subject) would hold: what
// widening the buckets would save.
func BenchmarkRebucketOnSchema(b *testing.B) {
	db := onSchema(b)
	for _, gamma := range []float64{sketchGamma, 1.03, 1.04, 1.05, 1.1} {
		b.Run(strconv.FormatFloat(gamma, 'f', -1, 64), func(b *testing.B) {
			lg := math.Log(gamma)
			var bytes [2]int
			for b.Loop() {
				bytes = [2]int{}
				rows, err := db.Query(`SELECT layer, hist FROM stats_cells WHERE layer IN (2, 4)`)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
					var layer int
					var raw []byte
					if err := rows.Scan(&layer, &raw); err != nil {
						b.Fatal(err)
					}
					var h, coarse hist
					if err := h.addEncoded(raw); err != nil {
						b.Fatal(err)
					}
					coarse.add(zeroBucket, h.zero)
					for i, c := range h.counts {
						if c != 0 {
							coarse.add(int(math.Ceil(math.Log(bucketValue(h.lo+i))/lg)), c)
						}
					}
					bytes[layer/4] += len(coarse.appendEncoded(nil))
				}
				if err := rows.Err(); err != nil {
					b.Fatal(err)
				}
				rows.Close()
			}
			b.ReportMetric(float64(bytes[0]), "layer2-bytes")
			b.ReportMetric(float64(bytes[1]), "layer4-bytes")
		})
	}
}
