package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Companies of the Signaux Faibles run: valid SIRENs and their head
// offices' SIRETs.
var sfCompanies = []struct{ siren, siret string }{
	{"732829320", "73282932000074"}, // F1, Lille
	{"552100554", "55210055400013"}, // F2, Lille
	{"443061841", "44306184100013"}, // F1, Lille
	{"380129866", "38012986600014"}, // F1, Amiens
	{"401483169", "40148316900017"}, // F2, on the list, never met, in Lille
	{"302134291", "30213429100012"}, // Pas d'alerte
}

type sfFlag struct {
	Alert   string  `json:"alert"`
	Score   float64 `json:"score"`
	List    string  `json:"list"`
	Periode string  `json:"periode"`
}

type sfNeedPage struct {
	Items []struct {
		ID             string  `json:"id"`
		SignauxFaibles *sfFlag `json:"signaux_faibles"`
	} `json:"items"`
}

type sfImport struct {
	ListID        string `json:"list_id"`
	ImportID      string `json:"import_id"`
	Label         string `json:"label"`
	Period        string `json:"period"`
	Unchanged     bool   `json:"unchanged"`
	Read          int    `json:"read"`
	Lines         int    `json:"lines"`
	F1            int    `json:"f1"`
	F2            int    `json:"f2"`
	WithoutAlert  int    `json:"without_alert"`
	RejectedCount int    `json:"rejected_count"`
	Rejected      []struct {
		Line   int    `json:"line"`
		Reason string `json:"reason"`
	} `json:"rejected"`
}

// captureFor captures a need of siret in commune as advisor1.
func (e *env) captureFor(t *testing.T, siret, commune string) (needView, string) {
	t.Helper()
	b := e.captureBody(t, commune)
	b["siret"] = siret
	r := e.advisor1.must(t, http.StatusCreated, "POST", "/api/needs", b)
	var n needView
	r.json(t, &n)
	return n, r.header.Get("Reso-Position")
}

func csvBody(lines ...string) string {
	return "\ufeff" + "siren;score;alert;periode;code_commune\r\n" + strings.Join(lines, "\r\n") + "\r\n"
}

// testSignauxFaibles: a list naming the companies of three needs in Lille
// (and one in Amiens) is imported through the API; the animateur of Nord
// filters the needs by alert and sees their flags, the advisor who
// captured them sees none and may not filter; funders count needs by
// alert; the animateur lists the alerted companies of the territory.
func testSignauxFaibles(t *testing.T, e *env) {
	c := sfCompanies
	n1, _ := e.captureFor(t, c[0].siret, lille)
	n2, _ := e.captureFor(t, c[1].siret, lille)
	n3, _ := e.captureFor(t, c[2].siret, lille)
	e.advisor1.must(t, http.StatusOK, "POST", "/api/needs/"+n1.ID+"/forward", map[string]any{"referent_ids": []string{e.r1}})
	nAmiens, _ := e.captureFor(t, c[3].siret, amiens)
	before := time.Now().UTC()

	list := csvBody(c[0].siren+";0,91;Alerte seuil F1;2026-03-01;59350", c[1].siren+";0,55;F2;2026-03-01;",
		c[2].siren+";0,83;F1;2026-03-01;59350", c[3].siren+";0,97;Alerte seuil F1;2026-03-01;80021",
		c[4].siren+";0,61;Alerte seuil F2;2026-03-01;59350", c[5].siren+";0,05;Pas d'alerte;2026-03-01;59350")
	csv := []string{"Content-Type", "text/csv; charset=utf-8"}
	path := "/api/imports/signaux-faibles?list=" + url.QueryEscape("Mars 2026 (test)")
	e.advisor1.do(t, "POST", path, list, csv...).mustProblem(t, http.StatusForbidden, "")
	r := e.admin.must(t, http.StatusCreated, "POST", path, list, csv...)
	var imp sfImport
	r.json(t, &imp)
	if imp.Unchanged || imp.Period != "2026-03" || imp.Label != "Mars 2026 (test)" || imp.Read != 6 || imp.Lines != 5 ||
		imp.F1 != 3 || imp.F2 != 2 || imp.WithoutAlert != 1 || imp.RejectedCount != 0 {
		t.Fatalf("import %s", r.body)
	}
	pos := r.header.Get("Reso-Position")
	// The same list again changes nothing.
	var again sfImport
	e.admin.must(t, http.StatusOK, "POST", path, list, csv...).json(t, &again)
	if !again.Unchanged || again.ImportID != imp.ImportID {
		t.Fatalf("same list again: %+v", again)
	}
	// Other media types are refused.
	e.admin.do(t, "POST", path, list, "Content-Type", "text/plain").mustProblem(t, http.StatusUnsupportedMediaType, "")
	// A file over 32 MiB is refused, announced or not.
	huge := strings.Repeat(c[0].siren+";0,91;F1;2026-03-01;59350\r\n", (32<<20)/30+1)
	e.admin.do(t, "POST", path, huge, csv...).mustProblem(t, http.StatusRequestEntityTooLarge, "")

	// The animateur of Nord filters the needs of Lille by alert.
	sfPage := func(cl client, query string) map[string]*sfFlag {
		t.Helper()
		var p sfNeedPage
		cl.must(t, http.StatusOK, "GET", "/api/needs?limit=500&min_position="+url.QueryEscape(pos)+query, nil).json(t, &p)
		out := map[string]*sfFlag{}
		for _, it := range p.Items {
			out[it.ID] = it.SignauxFaibles
		}
		return out
	}
	want := sfFlag{Alert: "F1", Score: 0.91, List: "Mars 2026 (test)", Periode: "2026-03"}
	for _, tc := range []struct {
		cl    client
		query string
		ids   []string
	}{
		{e.anim59, "&sf_alert=F1", []string{n1.ID, n3.ID}},
		{e.anim59, "&sf_alert=F2", []string{n2.ID}},
		{e.anim59, "&sf_alert=any", []string{n1.ID, n2.ID, n3.ID}},
		{e.anim80, "&sf_alert=any", []string{nAmiens.ID}},
		{e.admin, "&sf_alert=any", []string{n1.ID, n2.ID, n3.ID, nAmiens.ID}},
	} {
		got := sfPage(tc.cl, tc.query)
		if len(got) != len(tc.ids) {
			t.Errorf("%s: %d needs, want %d", tc.query, len(got), len(tc.ids))
		}
		for _, id := range tc.ids {
			if got[id] == nil {
				t.Errorf("%s: need %s missing or without its flag", tc.query, id)
			}
		}
	}
	if f := sfPage(e.anim59, "&sf_alert=F1")[n1.ID]; f == nil || *f != want {
		t.Errorf("flag %+v, want %+v", f, want)
	}
	if f := sfPage(e.anim59, "")[n1.ID]; f == nil || *f != want {
		t.Errorf("flag in the unfiltered list %+v", f)
	}
	var got needView
	r = e.anim59.must(t, http.StatusOK, "GET", "/api/needs/"+n1.ID, nil)
	if !strings.Contains(string(r.body), `"signaux_faibles":{"alert":"F1","score":0.91,"list":"Mars 2026 (test)","periode":"2026-03"}`) {
		t.Errorf("need for the animateur: %s", r.body)
	}
	r.json(t, &got)
	r = e.anim59.must(t, http.StatusOK, "GET", "/api/needs/"+n1.ID+"?as_of="+before.Format(time.RFC3339Nano), nil)
	if strings.Contains(string(r.body), "signaux_faibles") {
		t.Errorf("need as of before the import: %s", r.body)
	}

	// The advisor and the referent see no alert, and may not filter.
	for _, cl := range []client{e.advisor1, e.ref1} {
		r := cl.must(t, http.StatusOK, "GET", "/api/needs?limit=500&min_position="+url.QueryEscape(pos), nil)
		if !strings.Contains(string(r.body), n1.ID) || strings.Contains(string(r.body), "signaux_faibles") {
			t.Errorf("list without alerts: %s", r.body)
		}
		r = cl.must(t, http.StatusOK, "GET", "/api/needs/"+n1.ID, nil)
		if strings.Contains(string(r.body), "signaux_faibles") {
			t.Errorf("need without alert: %s", r.body)
		}
		p := cl.do(t, "GET", "/api/needs?sf_alert=F1", nil).mustProblem(t, http.StatusForbidden, "")
		if !strings.Contains(p.Detail, "may not see Signaux Faibles alerts") {
			t.Errorf("refusal %q", p.Detail)
		}
		cl.do(t, "GET", "/api/signaux-faibles/companies", nil).mustProblem(t, http.StatusForbidden, "")
	}
	e.funder.do(t, "GET", "/api/signaux-faibles/companies", nil).mustProblem(t, http.StatusForbidden, "")
	e.anim59.do(t, "GET", "/api/needs?sf_alert=F9", nil).mustProblem(t, http.StatusUnprocessableEntity, "sf_alert")

	// Funders count needs by the alert at their capture: a need of an
	// alerted company captured after the import counts under F1.
	_, after := e.captureFor(t, c[0].siret, lille)
	var stats struct {
		Rows []struct {
			SFAlert string `json:"sf_alert"`
			Needs   int    `json:"needs"`
		} `json:"rows"`
	}
	e.funder.must(t, http.StatusOK, "GET", "/api/stats?group_by=sf_alert&min_position="+url.QueryEscape(after), nil).json(t, &stats)
	counts := map[string]int{}
	for _, row := range stats.Rows {
		counts[row.SFAlert] = row.Needs
	}
	if len(stats.Rows) != 2 || counts["F1"] != 1 || counts["none"] == 0 {
		t.Errorf("stats by alert %+v", stats.Rows)
	}

	// The companies to visit in Nord: the list's, with their last need.
	type companies struct {
		List *struct {
			Label string `json:"label"`
		} `json:"list"`
		Items []struct {
			SIREN       string     `json:"siren"`
			Alert       string     `json:"alert"`
			Commune     string     `json:"commune"`
			CommuneName string     `json:"commune_name"`
			Needs       int        `json:"needs"`
			LastNeedAt  *time.Time `json:"last_need_at"`
		} `json:"items"`
	}
	var cs companies
	e.anim59.must(t, http.StatusOK, "GET", "/api/signaux-faibles/companies?min_position="+url.QueryEscape(after), nil).json(t, &cs)
	var sirens []string
	for _, it := range cs.Items {
		sirens = append(sirens, fmt.Sprintf("%s %s %d", it.SIREN, it.Alert, it.Needs))
	}
	wantSirens := []string{c[0].siren + " F1 2", c[2].siren + " F1 1", c[4].siren + " F2 0", c[1].siren + " F2 1"}
	if cs.List == nil || cs.List.Label != "Mars 2026 (test)" || strings.Join(sirens, ",") != strings.Join(wantSirens, ",") {
		t.Fatalf("companies of Nord %v, want %v", sirens, wantSirens)
	}
	if it := cs.Items[0]; it.CommuneName != "Lille" || it.LastNeedAt == nil {
		t.Errorf("company %+v", it)
	}
	today := time.Now().UTC().Format(time.DateOnly) // midnight in Paris comes before now
	e.anim59.must(t, http.StatusOK, "GET", "/api/signaux-faibles/companies?without_need_since="+today, nil).json(t, &cs)
	if len(cs.Items) != 1 || cs.Items[0].SIREN != c[4].siren {
		t.Errorf("companies without a need since %s: %+v", today, cs.Items)
	}
	e.anim80.must(t, http.StatusOK, "GET", "/api/signaux-faibles/companies", nil).json(t, &cs)
	if len(cs.Items) != 1 || cs.Items[0].SIREN != c[3].siren {
		t.Errorf("companies of Somme %+v", cs.Items)
	}
	e.anim59.do(t, "GET", "/api/signaux-faibles/companies?without_need_since=demain", nil).mustProblem(t, http.StatusUnprocessableEntity, "without_need_since")

	// A file with bad lines imports nothing and says why, line by line;
	// skip_invalid imports the others.
	bad := csvBody(c[0].siren+";0,5;F1;2020-02-01;", "732829321;0,5;F1;2020-02-01;", c[1].siren+";1,5;F2;2020-02-01;")
	p := e.admin.do(t, "POST", "/api/imports/signaux-faibles", bad, csv...).mustProblem(t, http.StatusUnprocessableEntity, "line 3")
	if !strings.HasSuffix(p.Type, "/invalid-lines") || len(p.Errors) != 2 || p.Errors[1].Field != "line 4" ||
		!strings.Contains(p.Errors[0].Message, "checksum") || !strings.Contains(p.Errors[1].Message, "score") {
		t.Errorf("bad lines: %+v", p)
	}
	var skipped sfImport
	e.admin.must(t, http.StatusCreated, "POST", "/api/imports/signaux-faibles?skip_invalid=true", bad, csv...).json(t, &skipped)
	if skipped.Period != "2020-02" || skipped.Lines != 1 || skipped.RejectedCount != 2 || len(skipped.Rejected) != 2 || skipped.Rejected[0].Line != 3 {
		t.Errorf("skip invalid: %+v", skipped)
	}
	// JSON too; an earlier period does not replace the list that applies.
	js := `[{"siren":"` + c[2].siren + `","score":0.4,"alert":"F2","periode":"2020-01"}]`
	e.admin.must(t, http.StatusCreated, "POST", "/api/imports/signaux-faibles", js)
	if f := sfPage(e.anim59, "&sf_alert=F1")[n3.ID]; f == nil || f.List != "Mars 2026 (test)" {
		t.Errorf("after older lists: %+v", f)
	}
}
