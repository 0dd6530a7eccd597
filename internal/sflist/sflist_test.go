package sflist

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/reso-fr/reso/domain"
)

func mustFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustRead(t *testing.T, data []byte, f Format, opt Options) *Result {
	t.Helper()
	res, err := Read(data, f, opt)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return res
}

func sirens(ls []domain.SFLine) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.SIREN+" "+string(l.Alert))
	}
	return out
}

// Both separators, the byte order mark, columns in any order and every
// spelling of the alert the source uses.
func TestReadGoodFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file    string
		format  Format
		lines   []string
		without int
		first   domain.SFLine
	}{
		{"comma.csv", CSV, []string{"732829320 F1", "552100554 F2", "443061841 F1", "380129866 F2"}, 1,
			domain.SFLine{SIREN: "732829320", Alert: domain.SFAlertF1, Score: 0.91, Algo: "avec_urssaf", Batch: "2603", Commune: "59350"}},
		{"semicolon_bom.csv", CSV, []string{"401483169 F1", "302134291 F2", "123456782 F2"}, 1,
			domain.SFLine{SIREN: "401483169", Alert: domain.SFAlertF1, Score: 0.93, Commune: "59350"}},
		{"list.json", JSON, []string{"732829320 F1", "552100554 F2", "443061841 F1"}, 1,
			domain.SFLine{SIREN: "732829320", Alert: domain.SFAlertF1, Score: 0.91, Algo: "avec_urssaf", Batch: "2603", Commune: "59350"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			data := mustFile(t, tc.file)
			if got := FormatOfFile(tc.file, data); got != tc.format {
				t.Fatalf("FormatOfFile = %s", got)
			}
			res := mustRead(t, data, tc.format, Options{})
			if res.Period != "2026-03" {
				t.Errorf("period %q", res.Period)
			}
			if got := sirens(res.Lines); !reflect.DeepEqual(got, tc.lines) {
				t.Errorf("lines %v, want %v", got, tc.lines)
			}
			if res.WithoutAlert != tc.without {
				t.Errorf("%d without alert, want %d", res.WithoutAlert, tc.without)
			}
			if res.Lines[0] != tc.first {
				t.Errorf("first line %+v, want %+v", res.Lines[0], tc.first)
			}
			if tc.format == CSV && res.RejectedCount != 0 {
				t.Errorf("rejected %+v", res.Rejected)
			}
		})
	}
}

func TestReadJSONRefusesElements(t *testing.T) {
	t.Parallel()
	res := mustRead(t, mustFile(t, "list.json"), JSON, Options{})
	want := []Rejected{
		{5, "score must be a string or a number"},
		{6, "not a JSON object"},
		{7, `invalid alert: "F3" is not F1, F2, Alerte seuil F1, Alerte seuil F2 nor Pas d'alerte`},
	}
	if !reflect.DeepEqual(res.Rejected, want) || res.RejectedCount != 3 || res.Read != 7 {
		t.Fatalf("rejected %+v (%d of %d), want %+v", res.Rejected, res.RejectedCount, res.Read, want)
	}
}

// Every bad line is reported with its line number and why; the good ones
// are kept.
func TestReadBadLines(t *testing.T) {
	t.Parallel()
	res := mustRead(t, mustFile(t, "bad.csv"), CSV, Options{Period: "2026-03"})
	want := []Rejected{
		{2, "invalid siren: 732829321 has a wrong checksum (Luhn)"},
		{3, "invalid score: 1,4 is outside 0 to 1"},
		{4, `invalid alert: "Rouge" is not F1, F2, Alerte seuil F1, Alerte seuil F2 nor Pas d'alerte`},
		{5, "invalid siren: must have 9 digits, got 8"},
		{6, "2 fields, the header has 4"},
		{7, "periode 2026-02 is not the list's period 2026-03"},
		{9, "SIREN 302134291 is already on line 8"},
		{10, "invalid score: missing: a number from 0 to 1"},
		{11, "5 fields, the header has 4"},
	}
	if !reflect.DeepEqual(res.Rejected, want) {
		t.Fatalf("rejected:\n%+v\nwant:\n%+v", res.Rejected, want)
	}
	if res.RejectedCount != len(want) || res.Read != 11 || res.WithoutAlert != 1 {
		t.Fatalf("%d rejected of %d read, %d without alert", res.RejectedCount, res.Read, res.WithoutAlert)
	}
	if got := sirens(res.Lines); !reflect.DeepEqual(got, []string{"302134291 F2"}) {
		t.Fatalf("kept %v", got)
	}
}

func TestReadFileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, data string
		format     Format
		opt        Options
		field      string
		says       string
	}{
		{"empty", "", CSV, Options{}, "file", "empty"},
		{"only a BOM", "\ufeff", CSV, Options{}, "file", "empty"},
		{"latin-1", "siren;score;alert\n732829320;0,5;Pas d'alerte \xe9\n", CSV, Options{}, "file", "not UTF-8"},
		{"missing column", "siren;alerte\n732829320;F1\n", CSV, Options{Period: "2026-03"}, "file", "column score missing"},
		{"twice", "siren,score,alert,alerte\n", CSV, Options{Period: "2026-03"}, "file", "alert given twice"},
		{"no period", "siren,score,alert\n732829320,0.5,F1\n", CSV, Options{}, "period", "no periode column"},
		{"several periods", "siren,score,alert,periode\n732829320,0.5,F1,2026-03\n552100554,0.5,F1,2026-02\n", CSV, Options{},
			"period", "2026-02 (1 lines), 2026-03 (1 lines)"},
		{"bad period option", "siren,score,alert\n", CSV, Options{Period: "mars"}, "period", "not a month"},
		{"json object", `{"siren":"732829320"}`, JSON, Options{}, "file", "array of objects"},
		{"json malformed", `[{"siren":}]`, JSON, Options{}, "file", "malformed JSON"},
		{"format", "x", Format("xml"), Options{Period: "2026-03"}, "file", "unknown format"},
	} {
		_, err := Read([]byte(tc.data), tc.format, tc.opt)
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field || !strings.Contains(ve.Message, tc.says) {
			t.Errorf("%s: %v, want a validation error on %s saying %q", tc.name, err, tc.field, tc.says)
		}
	}
}

func TestReadPeriodOption(t *testing.T) {
	t.Parallel()
	// The period given wins; lines without periode take it.
	res := mustRead(t, []byte("siren,score,alert\n732829320,0.5,F1\n"), CSV, Options{Period: "2026-04-15"})
	if res.Period != "2026-04" || len(res.Lines) != 1 {
		t.Fatalf("%+v", res)
	}
	// Lines with and without periode, one month: that month.
	res = mustRead(t, []byte("siren,score,alert,periode\n732829320,0.5,F1,2026-03\n552100554,0.7,F2,\n"), CSV, Options{})
	if res.Period != "2026-03" || len(res.Lines) != 2 {
		t.Fatalf("%+v", res)
	}
	// A file of lines without alert reads, with no line kept: the import
	// refuses it.
	res = mustRead(t, []byte("siren,score,alert\n732829320,0.5,Pas d'alerte\n"), CSV, Options{Period: "2026-03"})
	if len(res.Lines) != 0 || res.WithoutAlert != 1 {
		t.Fatalf("%+v", res)
	}
}

func TestReadCSVForms(t *testing.T) {
	t.Parallel()
	// Quoted separators and quotes, CRLF line ends, blank lines, trailing
	// empty fields, unknown columns ignored.
	data := "raison_sociale,siren,score,alert\r\n\"Dupont, fils\",732829320,0.5,F1,,\r\n\r\n\"Le \"\"Bon\"\" Pain\",552100554,0.25,F2\r\n"
	res := mustRead(t, []byte(data), CSV, Options{Period: "2026-03"})
	if got := sirens(res.Lines); !reflect.DeepEqual(got, []string{"732829320 F1", "552100554 F2"}) || res.RejectedCount != 0 {
		t.Fatalf("lines %v, rejected %+v", got, res.Rejected)
	}
	// A broken quote is the line's problem, reported with its number.
	data = "siren,score,alert\n732829320,0.5,F1\n552100554,\"0.5\"x\"y,F2\n443061841,0.5,F1\n"
	res, err := Read([]byte(data), CSV, Options{Period: "2026-03"})
	if err != nil {
		t.Fatal(err)
	}
	if got := sirens(res.Lines); !reflect.DeepEqual(got, []string{"732829320 F1", "443061841 F1"}) ||
		len(res.Rejected) != 1 || res.Rejected[0].Line != 3 || !strings.Contains(res.Rejected[0].Reason, "cannot be read as CSV") {
		t.Fatalf("lines %v, rejected %+v", got, res.Rejected)
	}
}

// A bare quote in an unquoted field refuses its line only.
func TestReadCSVBareQuote(t *testing.T) {
	t.Parallel()
	res := mustRead(t, []byte("siren,score,alert\n732829320,0.5,F1 \"x\"\n552100554,0.5,F2\n"), CSV, Options{Period: "2026-03"})
	if got := sirens(res.Lines); !reflect.DeepEqual(got, []string{"552100554 F2"}) || res.RejectedCount != 1 || res.Rejected[0].Line != 2 {
		t.Fatalf("lines %v, rejected %+v", got, res.Rejected)
	}
}

func TestRejectedIsBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("siren,score,alert\n")
	for range MaxRejected + 500 {
		b.WriteString("1,2,3\n")
	}
	res := mustRead(t, []byte(b.String()), CSV, Options{Period: "2026-03"})
	if len(res.Rejected) != MaxRejected || res.RejectedCount != MaxRejected+500 {
		t.Fatalf("%d listed, %d counted", len(res.Rejected), res.RejectedCount)
	}
	if res.Rejected[0].Line != 2 || res.Rejected[MaxRejected-1].Line != MaxRejected+1 {
		t.Fatalf("line numbers %d … %d", res.Rejected[0].Line, res.Rejected[MaxRejected-1].Line)
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]Format{"text/csv": CSV, "text/csv; charset=utf-8": CSV, "application/csv": CSV,
		"application/json": JSON, "application/json; charset=UTF-8": JSON} {
		if got, err := FormatOfMediaType(ct); err != nil || got != want {
			t.Errorf("FormatOfMediaType(%q) = %s, %v", ct, got, err)
		}
	}
	for _, ct := range []string{"", "text/plain", "text/csv; charset=iso-8859-1", "application/xml", ";"} {
		if _, err := FormatOfMediaType(ct); !errors.Is(err, ErrFormat) {
			t.Errorf("FormatOfMediaType(%q): %v", ct, err)
		}
	}
	for _, tc := range []struct {
		name, data string
		want       Format
	}{{"a.CSV", "[", CSV}, {"a.json", "s", JSON}, {"liste", "\ufeff \n[{}]", JSON}, {"liste.txt", "siren;score", CSV}} {
		if got := FormatOfFile(tc.name, []byte(tc.data)); got != tc.want {
			t.Errorf("FormatOfFile(%q) = %s, want %s", tc.name, got, tc.want)
		}
	}
}
