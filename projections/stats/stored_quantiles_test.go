package stats

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // registers "sqlite"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/pgtest"
)

// twoRegionCells are benchCells of 20,000 needs (région 32) and, for the
// first six months and the rollups over months, cells of a second région
// (11, département 75) with other counts and hours: groups by month then
// hold one cell in some months and two in others.
func twoRegionCells() []benchCell {
	cells := benchCells(20_000)
	early := map[string]bool{"": true}
	for _, bc := range cells {
		if bc.k.Month != "" && len(early) < 7 {
			early[bc.k.Month] = true
		}
	}
	var out []benchCell
	for _, bc := range cells {
		out = append(out, bc)
		if !early[bc.k.Month] || (bc.k.Departement != "" && bc.k.Departement != "59") {
			continue
		}
		k := bc.k
		k.Region = "11"
		if k.Departement != "" {
			k.Departement = "75"
		}
		var c counts
		for i, n := range bc.c {
			c[i] = n/3 + 1
		}
		c[cTaken] = 40
		var h hist
		for i := range 40 {
			h.add(bucketOf(float64(10+i*i)), 1)
		}
		med, p90 := h.quantiles(statsQuantiles[0], statsQuantiles[1])
		out = append(out, benchCell{k, c, h.appendEncoded(nil), [2]float64{med, p90}})
	}
	return out
}

// cellDBs open an empty database of each dialect, with the type of its
// key columns.
var cellDBs = map[string]func(t *testing.T) (*sql.DB, string){
	"sqlite": func(t *testing.T) (*sql.DB, string) {
		db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "cells.db"))
		if err != nil {
			t.Fatal(err)
		}
		return db, "TEXT"
	},
	"postgres": func(t *testing.T) (*sql.DB, string) {
		db, err := sql.Open("pgx", pgtest.MustSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		return db, `TEXT COLLATE "C"`
	},
}

// Until an upgrade from version 2 swaps its rebuilt tables in, the old
// ones answer: cells without stored quantiles, whose groups of one cell
// are answered from their histograms (TestReleasesOpen met it).
func TestStatsOnCellsWithoutQuantiles(t *testing.T) {
	t.Parallel()
	for name, open := range cellDBs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db, keyType := open(t)
			t.Cleanup(func() { db.Close() })
			mustCells(t, db, keyType, twoRegionCells())
			ctx := context.Background()
			for _, c := range quantileCols {
				if _, err := db.ExecContext(ctx, "ALTER TABLE stats_cells DROP COLUMN "+c); err != nil {
					t.Fatal(err)
				}
			}
			qs, whole := NewQueries(db), &Queries{db: db, wholeHistograms: true}
			for _, bq := range benchQueries {
				got, err := qs.Stats(ctx, bq.q)
				if err != nil {
					t.Fatalf("%s: %v", bq.name, err)
				}
				want, err := whole.Stats(ctx, bq.q)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s:\n got %+v\nwant %+v", bq.name, got, want)
				}
			}
			if qs.stored.Load() {
				t.Error("quantiles said stored in a table without them")
			}
		})
	}
}

// A group of one cell answers with the quantiles its cell stores, and
// groups of several with their summed histograms: every answer equals the
// one read from every histogram, on both databases, with groups of one and
// two cells in the same answer. A query whose groups merge cells is
// remembered as such, and its second run (reading histograms at once)
// answers the same.
func TestStoredQuantilesEqualHistograms(t *testing.T) {
	t.Parallel()
	opened := true
	type tcase struct {
		name   string
		q      StatsQuery
		merges bool // some group has several cells
	}
	queries := []tcase{
		{"month (1 or 2 cells)", StatsQuery{GroupBy: []string{"month"}}, true},
		{"region,month", StatsQuery{GroupBy: []string{"region", "month"}}, false},
		{"departement", StatsQuery{GroupBy: []string{"departement"}}, false},
		{"total of two régions", StatsQuery{}, true},
		{"region scope, by month", StatsQuery{GroupBy: []string{"month"}, ScopeZones: []domain.Zone{{Level: domain.LevelRegion, Code: "32"}}}, false},
		{"mixed scope, by month over départements", StatsQuery{GroupBy: []string{"month"},
			ScopeZones: []domain.Zone{{Level: domain.LevelRegion, Code: "32"}, {Level: domain.LevelDepartement, Code: "75"}}}, true},
		{"subject,organisation", StatsQuery{GroupBy: []string{"subject", "organisation"}}, true},
		{"one subject by month", StatsQuery{Subject: benchCells(20_000)[0].k.Subject, GroupBy: []string{"month"}}, true},
		{"departement,subject", StatsQuery{GroupBy: []string{"departement", "subject"}}, false},
		// Never read without histograms: merges is not decided.
		{"sf_alert", StatsQuery{GroupBy: []string{"sf_alert", "month"}}, false},
		{"months since opening", StatsQuery{GroupBy: []string{DimMonthsSinceOpening}, Opened: &opened,
			Openings: []domain.Opening{{Zone: domain.Zone{Level: domain.LevelRegion, Code: "32"}, OpenedOn: "2025-03-01"}}}, false},
	}
	for _, bq := range benchQueries {
		queries = append(queries, tcase{name: "bench " + bq.name, q: bq.q})
	}
	cells := twoRegionCells()
	for name, open := range cellDBs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db, keyType := open(t)
			t.Cleanup(func() { db.Close() })
			mustCells(t, db, keyType, cells)
			stored, whole := NewQueries(db), &Queries{db: db, wholeHistograms: true}
			ctx := context.Background()
			for _, tq := range queries {
				want, err := whole.Stats(ctx, tq.q)
				if err != nil {
					t.Fatalf("%s, whole histograms: %v", tq.name, err)
				}
				if len(want) == 0 || want[0].MedianHoursToTakeCharge == nil {
					t.Fatalf("%s: %d rows, or no median: the query tests nothing", tq.name, len(want))
				}
				for run := 1; run <= 2; run++ {
					before := stored.rereads.Load()
					got, err := stored.Stats(ctx, tq.q)
					if err != nil {
						t.Fatalf("%s, run %d: %v", tq.name, run, err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s, run %d:\n got %+v\nwant %+v", tq.name, run, got, want)
					}
					// A merging query reads its cells twice the first time
					// only.
					if reread := stored.rereads.Load() > before; reread != (run == 1 && tq.merges) && !strings.HasPrefix(tq.name, "bench ") {
						t.Errorf("%s, run %d: read its cells again with histograms: %v", tq.name, run, reread)
					}
				}
			}
			if !stored.stored.Load() {
				t.Error("the stored quantiles were never read")
			}
		})
	}
}

// A group told it has one cell (no histogram) refuses a second, whichever
// comes first: quantiles of part of a group must not be given.
func TestGroupOfOneCellRefusesAnother(t *testing.T) {
	t.Parallel()
	var h hist
	h.add(bucketOf(5), 3)
	raw := h.appendEncoded(nil)
	c := counts{cNeeds: 3, cTaken: 3}
	for _, order := range [][2][]byte{{nil, raw}, {raw, nil}, {nil, nil}} {
		g := newGrouping(StatsQuery{GroupBy: []string{"month"}})
		if err := g.add([]string{"2026-01"}, &c, order[0], [2]float64{5, 5}); err != nil {
			t.Fatal(err)
		}
		if err := g.add([]string{"2026-01"}, &c, order[1], [2]float64{5, 5}); !errors.Is(err, errSeveralCells) {
			t.Errorf("second cell (histogram %v then %v): %v, want errSeveralCells", order[0] != nil, order[1] != nil, err)
		}
	}
}
