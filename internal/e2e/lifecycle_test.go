package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

type historyBody struct {
	Events []struct {
		Version    int64     `json:"version"`
		Position   string    `json:"position"`
		Type       string    `json:"type"`
		RecordedAt time.Time `json:"recorded_at"`
		OccurredAt time.Time `json:"occurred_at"`
		Actor      struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Role string `json:"role"`
		} `json:"actor"`
		Data map[string]any `json:"data"`
	} `json:"events"`
}

type pageBody struct {
	Items []struct {
		ID     string `json:"id"`
		NeedID string `json:"need_id"`
		Status string `json:"status"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// testLifecycle drives one need from capture to done, reopens it, then reads
// its history, its past and the read models.
func testLifecycle(t *testing.T, e *env) {
	n, pos := e.mustCapture(t, lille)
	if n.Status != "captured" || n.Version != 1 || n.Contact == nil || n.Contact.Email == "" {
		t.Fatalf("captured need %+v", n)
	}
	got := e.advisor1.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID, nil)
	var read needView
	got.json(t, &read)
	if read.ID != n.ID || read.SIRET != n.SIRET || read.Contact == nil || read.Contact.Name != n.Contact.Name {
		t.Fatalf("read %+v, captured %+v", read, n)
	}

	var sugg struct {
		Referents []struct {
			ReferentID string `json:"referent_id"`
		} `json:"referents"`
	}
	// The capture's position is after the fixture registered the referents:
	// waiting for it makes the directory read model show them.
	e.advisor1.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"/suggestions?min_position="+pos, nil).json(t, &sugg)
	var suggested []string
	for _, r := range sugg.Referents {
		suggested = append(suggested, r.ReferentID)
	}
	if !slices.Contains(suggested, e.r1) || !slices.Contains(suggested, e.r2) || slices.Contains(suggested, e.r3) {
		t.Fatalf("suggestions %v: want r1 %s and r2 %s, not r3 %s", suggested, e.r1, e.r2, e.r3)
	}

	var fwd needView
	r := e.advisor1.must(t, http.StatusOK, "POST", "/api/needs/"+n.ID+"/forward", map[string]any{"referent_ids": suggested})
	r.json(t, &fwd)
	if fwd.Status != "quo" || len(fwd.Matches) != 2 || r.header.Get("Reso-Position") <= pos {
		t.Fatalf("forwarded %+v (position %q after %q)", fwd, r.header.Get("Reso-Position"), pos)
	}

	var taken needView
	e.ref1.must(t, http.StatusOK, "POST", "/api/needs/"+n.ID+"/matches/"+e.r1, map[string]any{"action": "take_charge"}).json(t, &taken)
	if taken.Status != "taking_care" || taken.match(t, e.r1) != "taking_care" || taken.match(t, e.r2) != "quo" {
		t.Fatalf("after take charge %+v", taken)
	}

	var done needView
	e.ref1.must(t, http.StatusOK, "POST", "/api/needs/"+n.ID+"/matches/"+e.r1, map[string]any{"action": "done", "comment": "aide proposée"}).json(t, &done)
	if done.Status != "done" || done.match(t, e.r1) != "done" {
		t.Fatalf("after done %+v", done)
	}
	// A refused transition: done cannot be declined.
	e.ref1.do(t, "POST", "/api/needs/"+n.ID+"/matches/"+e.r1, map[string]any{"action": "decline"}).mustProblem(t, http.StatusConflict, "")

	var reopened needView
	e.ref1.must(t, http.StatusOK, "POST", "/api/needs/"+n.ID+"/matches/"+e.r1, map[string]any{"action": "reopen"}).json(t, &reopened)
	if reopened.match(t, e.r1) != "quo" || reopened.Status != "quo" {
		t.Fatalf("after reopen %+v", reopened)
	}
	e.ref2.must(t, http.StatusOK, "POST", "/api/needs/"+n.ID+"/comments", map[string]any{"text": "Je regarde."})

	var h historyBody
	e.anim59.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"/history", nil).json(t, &h)
	wantTypes := []string{"NeedCaptured", "NeedForwarded", "MatchStatusChanged", "MatchStatusChanged", "MatchStatusChanged", "CommentAdded"}
	if len(h.Events) != len(wantTypes) {
		t.Fatalf("history has %d events, want %d: %+v", len(h.Events), len(wantTypes), h.Events)
	}
	for i, ev := range h.Events {
		if ev.Type != wantTypes[i] || ev.Version != int64(i+1) || ev.Position == "" || ev.RecordedAt.IsZero() {
			t.Errorf("event %d: %+v, want type %s", i, ev, wantTypes[i])
		}
		if i > 0 && ev.Position <= h.Events[i-1].Position {
			t.Errorf("event %d position %s not after %s", i, ev.Position, h.Events[i-1].Position)
		}
		if ev.Actor.Name == "" || ev.Actor.Role == "" {
			t.Errorf("event %d has an unnamed actor %+v", i, ev.Actor)
		}
	}
	if h.Events[0].Actor.Name != "Adèle Conseil" || h.Events[2].Actor.Name != "Chloé Nord" || h.Events[5].Actor.Name != "David Région" {
		t.Errorf("actors %q, %q, %q", h.Events[0].Actor.Name, h.Events[2].Actor.Name, h.Events[5].Actor.Name)
	}
	if c, ok := h.Events[0].Data["contact"].(map[string]any); !ok || c["email"] != n.Contact.Email {
		t.Errorf("captured event's contact %v, want the opened contact", h.Events[0].Data["contact"])
	}

	// Time travel, at the instants the history gives (as_of includes the
	// events of that instant): as the need stood between take charge and
	// done, and between forward and take charge.
	beforeTake, afterTake := h.Events[1].OccurredAt, h.Events[2].OccurredAt
	var past needView
	e.advisor1.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"?as_of="+url.QueryEscape(afterTake.Format(time.RFC3339Nano)), nil).json(t, &past)
	if past.Status != "taking_care" || past.match(t, e.r1) != "taking_care" {
		t.Fatalf("as of %s: %+v", afterTake, past)
	}
	var earlier needView
	e.advisor1.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"?as_of="+url.QueryEscape(beforeTake.Format(time.RFC3339Nano)), nil).json(t, &earlier)
	if earlier.Status != "quo" || earlier.Version >= past.Version {
		t.Fatalf("as of %s: %+v (later version %d)", beforeTake, earlier, past.Version)
	}

	// The read models, once they reached the last write.
	last := h.Events[len(h.Events)-1].Position
	var page pageBody
	e.advisor1.must(t, http.StatusOK, "GET", "/api/needs?min_position="+last+"&limit=500", nil).json(t, &page)
	found := false
	for _, it := range page.Items {
		found = found || (it.ID == n.ID && it.Status == "quo")
	}
	if !found {
		t.Fatalf("need %s (quo) not in advisor's list %+v", n.ID, page.Items)
	}
	var inbox pageBody
	e.ref1.must(t, http.StatusOK, "GET", "/api/inbox?tab=quo&min_position="+last+"&limit=500", nil).json(t, &inbox)
	found = false
	for _, it := range inbox.Items {
		found = found || it.NeedID == n.ID
	}
	if !found {
		t.Fatalf("need %s not in ref1's quo inbox %+v", n.ID, inbox.Items)
	}
	var stats struct {
		Rows []map[string]any `json:"rows"`
	}
	e.funder.must(t, http.StatusOK, "GET", "/api/stats?group_by=departement,subject&min_position="+last, nil).json(t, &stats)
	var needs59 float64
	for _, row := range stats.Rows {
		if row["departement"] == "59" && row["subject"] == e.subject {
			needs59 = row["needs"].(float64)
		}
	}
	if needs59 < 1 {
		t.Fatalf("stats rows %v: no need in 59 for %s", stats.Rows, e.subject)
	}

	// A referent registered now is suggested to a client that passes the
	// registration's position: the directory read model waits for it.
	var nr idBody
	reg := e.admin.must(t, http.StatusCreated, "POST", "/api/referents", map[string]any{
		"organisation_id": e.orgB, "name": "ref-lille", "email": "ref-lille@referents.test",
		"subjects": []string{e.subject}, "zones": []zone{{"commune", lille}},
	})
	reg.json(t, &nr)
	e.advisor1.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"/suggestions?min_position="+reg.header.Get("Reso-Position"), nil).json(t, &sugg)
	found = false
	for _, r := range sugg.Referents {
		found = found || r.ReferentID == nr.ID
	}
	if !found {
		t.Fatalf("suggestions %+v lack the referent %s registered before", sugg.Referents, nr.ID)
	}
}

// testPagination walks the advisor's list page by page: every need once.
func testPagination(t *testing.T, e *env) {
	var last string
	for range 5 {
		_, last = e.mustCapture(t, amiens)
	}
	seen := map[string]bool{}
	path := fmt.Sprintf("/api/needs?commune=%s&limit=2&min_position=%s", amiens, last)
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("pagination does not end")
		}
		var page pageBody
		e.advisor1.must(t, http.StatusOK, "GET", path, nil).json(t, &page)
		if len(page.Items) > 2 {
			t.Fatalf("page of %d items with limit 2", len(page.Items))
		}
		for _, it := range page.Items {
			if seen[it.ID] {
				t.Fatalf("need %s on two pages", it.ID)
			}
			seen[it.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		path = fmt.Sprintf("/api/needs?commune=%s&limit=2&cursor=%s", amiens, url.QueryEscape(page.NextCursor))
	}
	if len(seen) < 5 {
		t.Fatalf("walked %d needs, want at least 5", len(seen))
	}
}
