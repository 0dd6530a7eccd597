package app_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/directoryfile"
)

// regionRows is a région's directory of n referents, the same for the same
// n: organisations of every kind, an antenne per département, one to three
// subjects and one to three zones (communes, EPCI, a département) each.
func regionRows(n int) []domain.ImportRow {
	geo := domain.DefaultGeography()
	communes := geo.CommunesIn(domain.Zone{Level: domain.LevelRegion, Code: "32"})
	subjects := domain.Subjects()
	kinds := domain.OrganisationKinds()
	rnd := rand.New(rand.NewPCG(17, 5000))
	rows := make([]domain.ImportRow, n)
	for i := range rows {
		org := i / 100 // organisations of 100 referents
		kind := kinds[org%len(kinds)]
		c := communes[rnd.IntN(len(communes))]
		r := domain.ImportRow{
			Organisation: fmt.Sprintf("%s Hauts-de-France %d", kind.Label(), org), Kind: kind.Label(),
			Antenne: "Antenne " + geo.ZoneName(domain.Zone{Level: domain.LevelDepartement, Code: c.Departement}),
			Name:    fmt.Sprintf("Référent %d", i), Email: fmt.Sprintf("referent%d@org%d.test", i, org),
			Function: "Conseiller entreprises",
		}
		if i%3 > 0 {
			r.Phone = fmt.Sprintf("03 20 %02d %02d %02d", i/10000%100, i/100%100, i%100)
		}
		for range 1 + rnd.IntN(3) {
			r.Subjects = append(r.Subjects, subjects[rnd.IntN(len(subjects))].Code)
		}
		switch rnd.IntN(3) {
		case 0:
			r.Communes = []string{c.Code, communes[rnd.IntN(len(communes))].Code}
		case 1:
			if c.EPCI != "" {
				r.EPCIs = []string{c.EPCI}
			}
			r.Communes = []string{c.Code}
		default:
			r.Departements = []string{c.Departement}
		}
		rows[i] = r
	}
	return rows
}

// BenchmarkImportDirectory imports a file of 5,000 referents on the
// embedded store (SQLite, the read models running as under reso serve):
// into an empty directory (CSV and XLSX), then the same file again, and a
// dry run of it.
//
//	go test -run '^$' -bench ImportDirectory -benchtime 3x ./internal/app/
func BenchmarkImportDirectory(b *testing.B) {
	const lines = 5000
	rows := regionRows(lines)
	files := map[directoryfile.Format][]byte{}
	for _, format := range []directoryfile.Format{directoryfile.CSV, directoryfile.XLSX} {
		data, err := directoryfile.Write(format, rows)
		if err != nil {
			b.Fatal(err)
		}
		files[format] = data
	}
	fresh := func(b *testing.B) (*app.Service, *fixture) {
		b.StopTimer()
		defer b.StartTimer()
		f := mustFixture(b, "sqlite")
		return f.mustImportService(b, newClock(time.Now()), nil, true), f
	}
	report := func(b *testing.B, rep *app.ImportReport, want func(app.ImportTotals) bool) {
		if !want(rep.Totals) {
			b.Fatalf("totals %+v", rep.Totals)
		}
		b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
	}
	for _, format := range []directoryfile.Format{directoryfile.CSV, directoryfile.XLSX} {
		b.Run("create/"+string(format), func(b *testing.B) {
			var rep *app.ImportReport
			for range b.N {
				svc, f := fresh(b)
				var err error
				if rep, err = svc.ImportDirectory(ctx, f.admin, app.ImportInput{FileName: "region." + string(format), Data: files[format]}); err != nil {
					b.Fatal(err)
				}
			}
			report(b, rep, func(t app.ImportTotals) bool { return t.Created == lines && t.Errors == 0 })
		})
	}
	b.Run("again/csv", func(b *testing.B) {
		svc, f := fresh(b)
		in := app.ImportInput{FileName: "region.csv", Data: files[directoryfile.CSV]}
		b.StopTimer()
		if _, err := svc.ImportDirectory(ctx, f.admin, in); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var rep *app.ImportReport
		for range b.N {
			var err error
			if rep, err = svc.ImportDirectory(ctx, f.admin, in); err != nil {
				b.Fatal(err)
			}
		}
		report(b, rep, func(t app.ImportTotals) bool { return t.Unchanged == lines })
	})
	b.Run("dry-run/csv", func(b *testing.B) {
		svc, f := fresh(b)
		var rep *app.ImportReport
		for range b.N {
			var err error
			if rep, err = svc.ImportDirectory(ctx, f.admin, app.ImportInput{FileName: "region.csv", Data: files[directoryfile.CSV], DryRun: true}); err != nil {
				b.Fatal(err)
			}
		}
		if rep.Written {
			b.Fatal("a dry run wrote")
		}
		report(b, rep, func(t app.ImportTotals) bool { return t.Created == lines })
	})
}
