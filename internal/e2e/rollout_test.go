package e2e

import (
	"bytes"
	"encoding/csv"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// rennes and its EPCI, département and région.
const (
	rennes          = "35238"
	rennesMetropole = "243500139"
)

type importReport struct {
	ImportID string `json:"import_id"`
	FileName string `json:"file_name"`
	Written  bool   `json:"written"`
	DryRun   bool   `json:"dry_run"`
	Totals   struct {
		Lines, Created, Updated, Unchanged, Errors, Missing int
		Organisations                                       int `json:"organisations_created"`
		Antennes                                            int `json:"antennes_created"`
	} `json:"totals"`
	Lines []struct {
		Line       int    `json:"line"`
		Status     string `json:"status"`
		Email      string `json:"email"`
		ReferentID string `json:"referent_id"`
		Errors     []struct {
			Column, Reason string
		} `json:"errors"`
	} `json:"lines"`
}

// multipartFile is a form with the file in its part "file".
func multipartFile(t *testing.T, name string, data []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := part.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

// expectedForRennes reads, from the file itself, the referents a need in
// Rennes on subject should be suggested: the lines with the subject and a
// zone holding Rennes (the commune, its EPCI, the Ille-et-Vilaine or
// Bretagne).
func expectedForRennes(t *testing.T, data []byte, subject string) []string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	has := func(cell, code string) bool {
		for _, v := range strings.Split(cell, ",") {
			if strings.TrimSpace(v) == code {
				return true
			}
		}
		return false
	}
	var names []string
	for _, rec := range recs[1:] {
		if has(rec[7], subject) && (has(rec[8], rennes) || has(rec[9], rennesMetropole) || has(rec[10], "35") || has(rec[11], "53")) {
			names = append(names, rec[3])
		}
	}
	slices.Sort(names)
	return names
}

// testRollout opens Bretagne: its directory file through the API (dry run,
// a refused file, the import, the same again), a need in Rennes whose
// suggestions are the imported referents, the opening and the statistics
// since it.
func testRollout(t *testing.T, e *env) {
	data, err := os.ReadFile("testdata/bretagne.csv")
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC()

	var dry importReport
	e.admin.must(t, http.StatusOK, "POST", "/api/imports/directory?dry_run=true&filename=bretagne.csv", data).json(t, &dry)
	if !dry.DryRun || dry.Written || dry.Totals.Lines != 45 || dry.Totals.Created != 45 || dry.Totals.Organisations != 8 {
		t.Fatalf("dry run %+v", dry.Totals)
	}

	// One unknown commune: the whole file is refused, the report says
	// where.
	bad := bytes.Replace(data, []byte("35238, 35047"), []byte("35238, 35999"), 1)
	p := e.admin.do(t, "POST", "/api/imports/directory?filename=bad.csv", bad).mustProblem(t, http.StatusUnprocessableEntity, "")
	if !strings.Contains(p.Type, "import-refused") || len(p.Errors) != 1 || !strings.HasSuffix(p.Errors[0].Field, ", Communes") ||
		!strings.Contains(p.Errors[0].Message, `unknown commune "35999"`) {
		t.Fatalf("refused file: %+v", p)
	}

	body, ct := multipartFile(t, "bretagne.csv", data)
	res := e.admin.must(t, http.StatusOK, "POST", "/api/imports/directory", body, "Content-Type", ct)
	var rep importReport
	res.json(t, &rep)
	pos := res.header.Get("Reso-Position")
	if !rep.Written || rep.ImportID == "" || rep.Totals.Created != 45 || pos == "" || rep.FileName != "bretagne.csv" {
		t.Fatalf("import %+v, position %q", rep, pos)
	}
	var again importReport
	e.admin.must(t, http.StatusOK, "POST", "/api/imports/directory?filename=bretagne.csv&remove_missing=true", data).json(t, &again)
	if again.Written || again.Totals.Unchanged != 45 || again.Totals.Missing != 0 {
		t.Fatalf("re-import %+v", again.Totals)
	}

	// A need captured in Rennes: the imported referents covering it are
	// suggested, and no other imported one (referents of other tests that
	// cover the whole country may be too).
	n, capPos := e.mustCapture(t, rennes)
	var sugg struct {
		Referents []struct {
			ReferentID string `json:"referent_id"`
			Name       string `json:"name"`
		} `json:"referents"`
	}
	e.advisor1.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"/suggestions?min_position="+capPos, nil).json(t, &sugg)
	want := expectedForRennes(t, data, e.subject)
	var got []string
	imported := map[string]bool{}
	for _, l := range rep.Lines {
		imported[l.ReferentID] = true
	}
	var first string
	for _, s := range sugg.Referents {
		if imported[s.ReferentID] {
			got = append(got, s.Name)
			first = s.ReferentID
		}
	}
	slices.Sort(got)
	if len(want) < 2 || !slices.Equal(got, want) {
		t.Fatalf("suggested %v, want %v", got, want)
	}
	// Forwarded to them, the need reaches their inboxes like any other.
	e.advisor1.must(t, http.StatusOK, "POST", "/api/needs/"+n.ID+"/forward",
		map[string]any{"referent_ids": []string{first}})

	// The directory before the import, and now with its audit.
	var dirBefore, dirNow struct {
		Organisations []struct {
			Name      string `json:"name"`
			Referents []struct {
				Email      string `json:"email"`
				LastChange struct {
					Import *struct {
						ID       string `json:"id"`
						FileName string `json:"file_name"`
						ByName   string `json:"by_name"`
					} `json:"import"`
				} `json:"last_change"`
			} `json:"referents"`
		} `json:"organisations"`
	}
	e.anim59.must(t, http.StatusOK, "GET", "/api/directory?as_of="+url.QueryEscape(before.Format(time.RFC3339Nano)), nil).json(t, &dirBefore)
	e.anim59.must(t, http.StatusOK, "GET", "/api/directory", nil).json(t, &dirNow)
	names := func(orgs []string) bool { return slices.Contains(orgs, "CCI Bretagne") }
	var beforeNames, nowNames []string
	for _, o := range dirBefore.Organisations {
		beforeNames = append(beforeNames, o.Name)
	}
	for _, o := range dirNow.Organisations {
		nowNames = append(nowNames, o.Name)
		if o.Name == "Région Bretagne" {
			imp := o.Referents[0].LastChange.Import
			if imp == nil || imp.ID != rep.ImportID || imp.FileName != "bretagne.csv" || imp.ByName == "" {
				t.Errorf("audit of %s: %+v", o.Referents[0].Email, imp)
			}
		}
	}
	if names(beforeNames) || !names(nowNames) {
		t.Fatalf("directory before %v, now %v", beforeNames, nowNames)
	}

	// Bretagne opens this month: its need counts at month 0.
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(paris).Format(time.DateOnly)
	var opened struct {
		Changed bool `json:"changed"`
	}
	e.admin.must(t, http.StatusOK, "POST", "/api/territories/region:53/open", map[string]any{"at": today}).json(t, &opened)
	if !opened.Changed {
		t.Fatal("opening changed nothing")
	}
	var st struct {
		Rows []struct {
			Region string `json:"region"`
			Months *int   `json:"months_since_opening"`
			Needs  int    `json:"needs"`
		} `json:"rows"`
	}
	e.funder.must(t, http.StatusOK, "GET", "/api/stats?group_by=region,months_since_opening&opened=true&region=53&min_position="+capPos, nil).json(t, &st)
	if len(st.Rows) != 1 || st.Rows[0].Region != "53" || st.Rows[0].Months == nil || *st.Rows[0].Months != 0 || st.Rows[0].Needs != 1 {
		t.Fatalf("stats since opening %+v", st.Rows)
	}
}
