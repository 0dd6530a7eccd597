package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reso-fr/reso/internal/httpapi"
)

// testNewUser walks the rough edges a new user met with curl: places by
// postal code, every validation error at once, the OpenAPI required lists,
// who am I, commune search, as_of before a need existed.
func testNewUser(t *testing.T, e *env) {
	capture := func(mut func(b map[string]any)) map[string]any {
		b := e.captureBody(t, lille)
		mut(b)
		return b
	}
	t.Run("postal code", func(t *testing.T) {
		var n needView
		e.advisor1.must(t, http.StatusCreated, "POST", "/api/needs", capture(func(b map[string]any) {
			delete(b, "commune")
			b["postal_code"] = "59000"
		})).json(t, &n)
		var got struct {
			Commune string `json:"commune"`
		}
		e.advisor1.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID, nil).json(t, &got)
		if got.Commune != lille {
			t.Errorf("postal code 59000 captured in %s, want Lille %s", got.Commune, lille)
		}
		// Both given and agreeing.
		e.advisor1.must(t, http.StatusCreated, "POST", "/api/needs", capture(func(b map[string]any) { b["postal_code"] = "59000" }))
		for _, c := range []struct {
			name, field, detail string
			mut                 func(b map[string]any)
		}{
			{"several communes", "postal_code", "59780", func(b map[string]any) { delete(b, "commune"); b["postal_code"] = "59780" }},
			{"unknown postal code", "postal_code", "99999", func(b map[string]any) { delete(b, "commune"); b["postal_code"] = "99999" }},
			{"disagreeing", "postal_code", "59527 Saint-André-lez-Lille", func(b map[string]any) { b["postal_code"] = "59350" }},
			{"a postal code as commune", "commune", "59350 Lille", func(b map[string]any) { b["commune"] = "59000" }},
		} {
			p := e.advisor1.do(t, "POST", "/api/needs", capture(c.mut)).mustProblem(t, http.StatusUnprocessableEntity, c.field)
			if !strings.Contains(p.Detail, c.detail) {
				t.Errorf("%s: detail %q does not name %q", c.name, p.Detail, c.detail)
			}
		}
	})
	t.Run("every validation error at once", func(t *testing.T) {
		p := e.advisor1.do(t, "POST", "/api/needs", capture(func(b map[string]any) {
			b["subject"] = "astrology"
			b["description"] = ""
			b["contact"] = map[string]string{"phone": "12"}
		})).mustProblem(t, http.StatusUnprocessableEntity, "subject")
		var fields []string
		for _, f := range p.Errors {
			fields = append(fields, f.Field)
		}
		if strings.Join(fields, ",") != "subject,description,contact,contact.phone" {
			t.Errorf("fields %v, want subject, description, contact and contact.phone", fields)
		}
		e.advisor1.do(t, "POST", "/api/needs", capture(func(b map[string]any) {
			b["contact"] = map[string]string{"email": "camille at beffroi"}
		})).mustProblem(t, http.StatusUnprocessableEntity, "contact.email")
	})
	t.Run("required fields as documented", func(t *testing.T) {
		var doc struct {
			Paths map[string]map[string]struct {
				RequestBody struct {
					Content map[string]struct {
						Schema struct {
							Required []string `json:"required"`
						} `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(httpapi.OpenAPI(), &doc); err != nil {
			t.Fatal(err)
		}
		required := doc.Paths["/api/needs"]["post"].RequestBody.Content["application/json"].Schema.Required
		if len(required) < 5 {
			t.Fatalf("capture requires only %v", required)
		}
		for _, f := range required {
			e.advisor1.do(t, "POST", "/api/needs", capture(func(b map[string]any) { delete(b, f) })).
				mustProblem(t, http.StatusUnprocessableEntity, f)
		}
		// What the document leaves optional is optional.
		e.advisor1.must(t, http.StatusCreated, "POST", "/api/needs", capture(func(b map[string]any) {
			b["contact"] = map[string]string{"email": "seule@company.test"}
		}))
	})
	t.Run("who am I", func(t *testing.T) {
		var me struct {
			ID           string  `json:"id"`
			Role         string  `json:"role"`
			ReferentID   *string `json:"referent_id"`
			Organisation *struct {
				ID, Name string
			} `json:"organisation"`
			Territories []struct{ Level, Code, Name string } `json:"territories"`
		}
		e.ref1.must(t, http.StatusOK, "GET", "/api/me", nil).json(t, &me)
		if me.Role != "referent" || me.ReferentID == nil || *me.ReferentID != e.r1 || me.Organisation == nil || me.Organisation.Name == "" {
			t.Errorf("referent's me: %+v", me)
		}
		e.anim59.must(t, http.StatusOK, "GET", "/api/me", nil).json(t, &me)
		if me.Role != "animateur" || len(me.Territories) != 1 || me.Territories[0].Name != "Nord" {
			t.Errorf("animateur's me: %+v", me)
		}
	})
	t.Run("names next to ids", func(t *testing.T) {
		n := e.mustForwarded(t, lille, e.r1)
		var need struct {
			Matches []struct {
				ReferentID       string `json:"referent_id"`
				ReferentName     string `json:"referent_name"`
				OrganisationID   string `json:"organisation_id"`
				OrganisationName string `json:"organisation_name"`
			} `json:"matches"`
		}
		e.advisor1.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID, nil).json(t, &need)
		if len(need.Matches) != 1 || need.Matches[0].ReferentName == "" || need.Matches[0].OrganisationName == "" {
			t.Errorf("matches without names: %+v", need.Matches)
		}
		var sugg struct {
			Referents []struct {
				OrganisationName string `json:"organisation_name"`
			} `json:"referents"`
		}
		e.advisor1.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"/suggestions", nil).json(t, &sugg)
		for _, r := range sugg.Referents {
			if r.OrganisationName == "" {
				t.Errorf("a suggestion without its organisation's name: %+v", sugg)
			}
		}
		var orgs struct {
			Organisations []struct{ ID, Name string } `json:"organisations"`
		}
		e.advisor1.must(t, http.StatusOK, "GET", "/api/organisations", nil).json(t, &orgs)
		names := map[string]string{}
		for _, o := range orgs.Organisations {
			names[o.ID] = o.Name
		}
		if names[need.Matches[0].OrganisationID] != need.Matches[0].OrganisationName {
			t.Errorf("organisations %v do not name the match's %+v", names, need.Matches[0])
		}
		var refs struct {
			Referents []struct {
				ID               string `json:"id"`
				OrganisationName string `json:"organisation_name"`
			} `json:"referents"`
		}
		e.advisor1.must(t, http.StatusOK, "GET", "/api/referents?organisation="+need.Matches[0].OrganisationID+"&commune="+lille, nil).json(t, &refs)
		found := false
		for _, r := range refs.Referents {
			found = found || r.ID == e.r1
			if r.OrganisationName != need.Matches[0].OrganisationName {
				t.Errorf("referent of another organisation listed: %+v", r)
			}
		}
		if !found {
			t.Errorf("referent %s not listed by its organisation and commune: %+v", e.r1, refs)
		}
		e.advisor1.do(t, "GET", "/api/referents?subject=astrology", nil).mustProblem(t, http.StatusUnprocessableEntity, "subject")
		var st struct {
			Rows []struct {
				Organisation     string `json:"organisation"`
				OrganisationName string `json:"organisation_name"`
			} `json:"rows"`
		}
		var hist historyBody
		e.admin.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"/history", nil).json(t, &hist)
		pos := hist.Events[len(hist.Events)-1].Position
		e.funder.must(t, http.StatusOK, "GET", "/api/stats?group_by=organisation&min_position="+pos, nil).json(t, &st)
		if len(st.Rows) == 0 {
			t.Fatal("no statistics row by organisation")
		}
		for _, row := range st.Rows {
			if row.OrganisationName != names[row.Organisation] {
				t.Errorf("stats row %+v, want the organisation's name %q", row, names[row.Organisation])
			}
		}
	})
	t.Run("commune search", func(t *testing.T) {
		var r struct {
			Communes []struct{ Code, Name string } `json:"communes"`
		}
		e.advisor1.must(t, http.StatusOK, "GET", "/api/communes?q="+url.QueryEscape("saint andre lez"), nil).json(t, &r)
		if len(r.Communes) == 0 || r.Communes[0].Code != "59527" {
			t.Errorf("search: %+v", r.Communes)
		}
		e.advisor1.must(t, http.StatusOK, "GET", "/api/communes?q=saint", nil).json(t, &r)
		if len(r.Communes) != 20 {
			t.Errorf("%d communes, want at most 20", len(r.Communes))
		}
		e.advisor1.do(t, "GET", "/api/communes?q=", nil).mustProblem(t, http.StatusUnprocessableEntity, "q")
	})
	t.Run("lag", func(t *testing.T) {
		var ready struct {
			Status      string                    `json:"status"`
			LagEvents   *int64                    `json:"lag_events"`
			LagSeconds  *float64                  `json:"lag_seconds"`
			Projections map[string]map[string]any `json:"projections"`
		}
		e.anon.must(t, http.StatusOK, "GET", "/readyz", nil).json(t, &ready)
		if ready.Status != "ready" || ready.LagEvents == nil || ready.LagSeconds == nil || len(ready.Projections) < 3 {
			t.Errorf("readyz %+v", ready)
		}
		for _, path := range []string{"/api/needs", "/api/stats", "/api/stats.csv"} {
			c := e.advisor1
			if strings.HasPrefix(path, "/api/stats") {
				c = e.funder
			}
			h := c.must(t, http.StatusOK, "GET", path, nil).header.Get("Reso-Projections-Lag")
			if !strings.HasPrefix(h, "events=") || !strings.Contains(h, "; seconds=") {
				t.Errorf("%s: Reso-Projections-Lag %q", path, h)
			}
		}
		h := e.ref1.must(t, http.StatusOK, "GET", "/api/inbox", nil).header.Get("Reso-Projections-Lag")
		if h == "" {
			t.Error("inbox without Reso-Projections-Lag")
		}
	})
	t.Run("as_of", func(t *testing.T) {
		n, _ := e.mustCapture(t, lille)
		before := e.advisor1.do(t, "GET", "/api/needs/"+n.ID+"?as_of=2000-01-01T00:00:00Z", nil).mustProblem(t, http.StatusNotFound, "")
		if !strings.Contains(before.Detail, "did not exist yet") {
			t.Errorf("as_of before the capture: %q", before.Detail)
		}
		unknown := e.advisor1.do(t, "GET", "/api/needs/0190c0de-0000-7000-8000-000000000000?as_of=2000-01-01T00:00:00Z", nil).mustProblem(t, http.StatusNotFound, "")
		if unknown.Detail == before.Detail {
			t.Errorf("an unknown need and one not yet captured say the same: %q", unknown.Detail)
		}
		plus := e.advisor1.do(t, "GET", "/api/needs/"+n.ID+"?as_of=2026-03-01T00:00:00+01:00", nil).mustProblem(t, http.StatusUnprocessableEntity, "as_of")
		if !strings.Contains(plus.Detail, "%2B") {
			t.Errorf("an unencoded + is not explained: %q", plus.Detail)
		}
	})
}
