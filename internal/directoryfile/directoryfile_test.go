package directoryfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/reso-fr/reso/domain"
)

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, name string, data []byte) *File {
	t.Helper()
	f, err := Parse(name, data)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return f
}

const fonction = "Chargée de mission\nentreprises en difficulté"

// resoRows are the lines of testdata/reso-*.csv.
func resoRows(lines ...int) []domain.ImportRow {
	return []domain.ImportRow{
		{Line: lines[0], Organisation: "CCI Grand Lille", Kind: "CCI", Antenne: "Antenne de Roubaix", Name: "Claire Martin",
			Email: "claire.martin@cci.test", Phone: "03 20 00 00 01", Function: "Conseillère export",
			Subjects: []string{"export", "Formalités douanières"}, EPCIs: []string{"200093201"}},
		{Line: lines[1], Organisation: "CCI Grand Lille", Kind: "CCI", Antenne: "Antenne de Roubaix", Name: "Marc Petit",
			Email: "marc.petit@cci.test", Subjects: []string{"recruitment"}, Communes: []string{"59512", "59350"}},
		{Line: lines[2], Organisation: "URSSAF Nord", Kind: "URSSAF", Name: "Nadia Benali", Email: "nadia.benali@urssaf.test",
			Function: fonction, Subjects: []string{"tax_social_debts"}, Departements: []string{"59", "62"}, Regions: []string{"national"}},
	}
}

func sameRows(t *testing.T, got, want []domain.ImportRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestParseBothSeparatorsAndHeaderSets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file    string
		headers HeaderSet
		want    []domain.ImportRow
	}{
		// A blank line, and a cell over two lines: lines are those of the
		// file, where each record starts.
		{"reso-comma.csv", ResoHeaders, resoRows(2, 3, 5)},
		{"reso-semicolon-bom.csv", ResoHeaders, resoRows(2, 3, 4)},
		{"production.csv", ProductionHeaders, func() []domain.ImportRow {
			rows := resoRows(2, 3, 4)
			for i := range rows {
				rows[i].Kind = ""
			}
			rows[0].Subjects = []string{"customs", "export"}
			return rows
		}()},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			f := mustParse(t, tc.file, mustRead(t, tc.file))
			if f.Format != CSV || f.Headers != tc.headers {
				t.Fatalf("format %s, headers %s", f.Format, f.Headers)
			}
			sameRows(t, f.Rows, tc.want)
		})
	}
	f := mustParse(t, "x.csv", mustRead(t, "production.csv"))
	for field, want := range map[domain.ImportField]string{
		domain.ImportOrganisation: "Institution", domain.ImportName: "Prénom et nom", domain.ImportKind: "Type d'organisation",
		domain.ImportZones: "Communes, EPCI, Départements, Régions",
	} {
		if got := f.Column(field); got != want {
			t.Errorf("column of %s: %q, want %q", field, got, want)
		}
	}
	if got := mustParse(t, "x.csv", mustRead(t, "reso-semicolon-bom.csv")).Column(domain.ImportEmail); got != "E-mail" {
		t.Errorf("column of email: %q", got)
	}
}

// mustWorkbook writes records into the first of two sheets of a workbook,
// numbers as numbers where a spreadsheet would store them so.
func mustWorkbook(t *testing.T, records [][]any) []byte {
	t.Helper()
	wb := excelize.NewFile()
	defer wb.Close()
	if err := wb.SetSheetName("Sheet1", "Référents"); err != nil {
		t.Fatal(err)
	}
	for i, rec := range records {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := wb.SetSheetRow("Référents", cell, &rec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := wb.NewSheet("Notes"); err != nil {
		t.Fatal(err)
	}
	if err := wb.SetCellStr("Notes", "A1", "Organisation"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := wb.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseXLSX(t *testing.T) {
	t.Parallel()
	header := []any{"Organisation", "Type d'organisation", "Antenne", "Nom", "Email", "Téléphone", "Fonction", "Sujets", "Communes", "EPCI", "Départements", "Régions"}
	data := mustWorkbook(t, [][]any{
		{"Fichier de la région"}, // a title line above: not the header
		{},
		header,
		{"CCI Grand Lille", "CCI", "Antenne de Roubaix", "Claire Martin", "claire.martin@cci.test", "03 20 00 00 01", "Conseillère export", "export, Formalités douanières", nil, 200093201},
		{},
		// Numbers typed into cells: the phone and the codes lose their
		// leading zeros.
		{"Région Hauts-de-France", "Région", nil, "Ana Roux", "ana@region.test", 320000002, nil, "public_aid", 2691, nil, 2, 32},
	})
	f := mustParse(t, "annuaire.xlsx", data)
	if f.Format != XLSX || f.Headers != ResoHeaders {
		t.Fatalf("format %s, headers %s", f.Format, f.Headers)
	}
	sameRows(t, f.Rows, []domain.ImportRow{
		{Line: 4, Organisation: "CCI Grand Lille", Kind: "CCI", Antenne: "Antenne de Roubaix", Name: "Claire Martin",
			Email: "claire.martin@cci.test", Phone: "03 20 00 00 01", Function: "Conseillère export",
			Subjects: []string{"export", "Formalités douanières"}, EPCIs: []string{"200093201"}},
		{Line: 6, Organisation: "Région Hauts-de-France", Kind: "Région", Name: "Ana Roux", Email: "ana@region.test",
			Phone: "0320000002", Subjects: []string{"public_aid"}, Communes: []string{"2691"}, Departements: []string{"2"}, Regions: []string{"32"}},
	})
	// The production tool's headers in a workbook.
	f = mustParse(t, "export-pde.xlsx", mustWorkbook(t, [][]any{
		{"Institution", "Antenne", "Prénom et nom", "Email", "Téléphone", "Fonction", "Recruter un ou plusieurs salariés", "export"},
		{"CCI Grand Lille", "Antenne de Roubaix", "Marc Petit", "marc.petit@cci.test", nil, nil, "x"},
	}))
	sameRows(t, f.Rows, []domain.ImportRow{{Line: 2, Organisation: "CCI Grand Lille", Antenne: "Antenne de Roubaix",
		Name: "Marc Petit", Email: "marc.petit@cci.test", Subjects: []string{"recruitment"}}})
	if f.Headers != ProductionHeaders || f.Column(domain.ImportZones) != "Antenne" {
		t.Fatalf("headers %s, zones column %q", f.Headers, f.Column(domain.ImportZones))
	}
}

func TestWriteParseRoundTrip(t *testing.T) {
	t.Parallel()
	rows := resoRows(2, 3, 4)
	rows[0].Subjects = []string{"export", "customs"}
	rows = append(rows, domain.ImportRow{Line: 5, Organisation: "Région; « Hauts-de-France »", Kind: "Région", Name: `Ana "Roux"`,
		Email: "ana@region.test", Phone: "0320000002", Subjects: []string{"public_aid"}, Communes: []string{"02691"}, Departements: []string{"2A"}})
	for _, format := range []Format{CSV, XLSX} {
		data, err := Write(format, rows)
		if err != nil {
			t.Fatal(err)
		}
		f := mustParse(t, "export."+string(format), data)
		if f.Format != format || f.Headers != ResoHeaders {
			t.Fatalf("%s: format %s, headers %s", format, f.Format, f.Headers)
		}
		want := slices.Clone(rows)
		if format == CSV {
			// The function over two lines moves the next record's line.
			want[3].Line = 6
		}
		sameRows(t, f.Rows, want)
	}
	if !bytes.HasPrefix(must(Write(CSV, rows)), []byte("\xEF\xBB\xBFOrganisation;Type d'organisation;")) {
		t.Fatal("the CSV has no BOM or no semicolons")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestParseRefusals(t *testing.T) {
	t.Parallel()
	const header = "Organisation;Nom;Email;Sujets;Communes\n"
	for _, tc := range []struct {
		name, file, data, want string
	}{
		{"empty", "a.csv", " \n", "empty"},
		{"latin-1", "a.csv", header + "CCI;J\xe9r\xf4me;j@x.fr;export;59350\n", "not UTF-8"},
		{"xls", "a.xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "Excel 97-2003"},
		{"named xlsx", "a.xlsx", header, "not an XLSX workbook"},
		{"broken zip", "a.xlsx", "PK\x03\x04broken", "not an XLSX workbook"},
		{"no header", "a.csv", "CCI;Jean;j@x.fr\n", "line 1: no header line"},
		{"header too low", "a.csv", strings.Repeat("titre\n", headerSearch) + header, "line 1: no header line"},
		{"unknown column", "a.csv", "Organisation;Nom;Email;Sujets;Mobile\n", `column "Mobile": unknown column`},
		{"column twice", "a.csv", "Organisation;Nom;Email;Sujets;Courriel\n", `column "Courriel": given twice`},
		{"missing column", "a.csv", "Organisation;Nom;Email\n", `column "Sujets": missing`},
		{"production without subjects", "a.csv", "Institution;Prénom et nom;Email\n", "no subject column"},
		{"production unknown column", "a.csv", "Institution;Prénom et nom;Email;Jonglage\n", `column "Jonglage": unknown column: neither`},
		{"production subject twice", "a.csv", "Institution;Prénom et nom;Email;export;Développer ses ventes à l'export\n", "subject export has two columns"},
		{"bad quotes", "a.csv", header + "CCI;\"Jean;j@x.fr;export;59350\n", "line 2: not CSV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.file, []byte(tc.data))
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, ErrFile) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a FileError with %q", err, tc.want)
			}
		})
	}
	var b strings.Builder
	b.WriteString(header)
	for range MaxLines + 1 {
		b.WriteString("CCI;Jean;j@x.fr;export;59350\n")
	}
	if _, err := Parse("big.csv", []byte(b.String())); !errors.Is(err, ErrFile) || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("too many lines: %v", err)
	}
	if _, err := FormatOf("annuaire.ods"); !errors.Is(err, ErrFile) {
		t.Fatalf("FormatOf(.ods): %v", err)
	}
	if f, _ := FormatOf("A.XLSX"); f != XLSX {
		t.Fatalf("FormatOf(A.XLSX) = %s", f)
	}
}

func TestSplitSubjects(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"":                           nil,
		" export ,, customs ":        {"export", "customs"},
		"export; customs\nfinancing": {"export", "customs", "financing"},
		"Engager sa transition écologique (RSE, bilan carbone), export": {"Engager sa transition écologique (RSE, bilan carbone)", "export"},
		"a (b, (c, d)), e)": {"a (b, (c, d))", "e)"},
	} {
		if got := SplitSubjects(in); !slices.Equal(got, want) {
			t.Errorf("SplitSubjects(%q) = %q, want %q", in, got, want)
		}
	}
}
