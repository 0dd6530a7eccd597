package e2e

import (
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// testErasure erases a contact and then looks for it everywhere.
func testErasure(t *testing.T, e *env) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	tag := hex.EncodeToString(b[:])
	// The phone is random too, so that finding it anywhere means a leak.
	phone := fmt.Sprintf("+33 7 %08d", binary.BigEndian.Uint32(b[:4])%100_000_000)
	name, email := "Zoé Effaçable "+tag, "zoe."+tag+"@erase.test"
	company := "Scierie " + tag
	var ids []string
	var bodies []map[string]any
	var written string // position of the last forward
	for i := range 2 {
		body := e.captureBody(t, lille)
		body["company_name"] = company
		body["contact"] = map[string]string{"name": name, "email": email, "phone": phone}
		bodies = append(bodies, body)
		var n needView
		e.advisor1.must(t, http.StatusCreated, "POST", "/api/needs", body, "Idempotency-Key", "erase-"+tag+fmt.Sprint(i)).json(t, &n)
		if n.Contact == nil || n.Contact.Email != email {
			t.Fatalf("captured contact %+v", n.Contact)
		}
		ids = append(ids, n.ID)
		fwd := e.advisor1.must(t, http.StatusOK, "POST", "/api/needs/"+n.ID+"/forward", map[string]any{"referent_ids": []string{e.r1}})
		written = fwd.header.Get("Reso-Position")
	}
	before := map[string]int{}
	for _, id := range ids {
		var h historyBody
		e.admin.must(t, http.StatusOK, "GET", "/api/needs/"+id+"/history", nil).json(t, &h)
		before[id] = len(h.Events)
	}
	// The scanner finds what is there: once the projections applied the
	// writes, the company name is in the read model.
	e.admin.must(t, http.StatusOK, "GET", "/api/needs?limit=1&min_position="+written, nil)
	if hits := mustScan(t, e, company); len(hits) == 0 {
		t.Fatalf("scanner does not find %q in the read models", company)
	}

	var res struct {
		Keys  int `json:"keys"`
		Needs int `json:"needs"`
	}
	r := e.admin.must(t, http.StatusOK, "POST", "/api/erasures", map[string]any{"contact_email": strings.ToUpper(email)})
	r.json(t, &res)
	if res.Keys < 1 || res.Needs != 2 {
		t.Fatalf("erasure %+v, want ≥ 1 key and 2 needs", res)
	}
	pos := r.header.Get("Reso-Position")
	for i, id := range ids {
		var n needView
		e.admin.must(t, http.StatusOK, "GET", "/api/needs/"+id, nil).json(t, &n)
		if n.Contact == nil || !n.Contact.Erased || n.Contact.Name != "" || n.Contact.Email != "" || n.Contact.Phone != "" {
			t.Errorf("need %s contact after erasure %+v", id, n.Contact)
		}
		var h historyBody
		hr := e.admin.must(t, http.StatusOK, "GET", "/api/needs/"+id+"/history", nil)
		hr.json(t, &h)
		if len(h.Events) < before[id]+1 || h.Events[len(h.Events)-1].Type != "ContactErased" {
			t.Errorf("need %s history: %d events (before %d), last %s", id, len(h.Events), before[id], h.Events[len(h.Events)-1].Type)
		}
		if strings.Contains(string(hr.body), email) || strings.Contains(string(hr.body), phone) || strings.Contains(string(hr.body), name) {
			t.Errorf("history of %s still shows the contact", id)
		}
		// The idempotent replay of the capture respects the erasure.
		replay := e.advisor1.must(t, http.StatusCreated, "POST", "/api/needs", bodies[i], "Idempotency-Key", "erase-"+tag+fmt.Sprint(i))
		var rn needView
		replay.json(t, &rn)
		if rn.ID != id || rn.Contact == nil || !rn.Contact.Erased || strings.Contains(string(replay.body), email) {
			t.Errorf("replay of capture %d still shows the contact: %s", i, replay.body)
		}
		past := e.admin.must(t, http.StatusOK, "GET", "/api/needs/"+id+"?as_of=2999-01-01T00:00:00Z", nil)
		if strings.Contains(string(past.body), email) {
			t.Errorf("as_of read of %s still shows the contact", id)
		}
	}
	// Let the projections apply the erasure, then search every table.
	e.admin.must(t, http.StatusOK, "GET", "/api/needs?limit=1&min_position="+pos, nil)
	for _, secret := range []string{name, email, phone, strings.ToLower(email), "Effaçable " + tag} {
		if hits := mustScan(t, e, secret); len(hits) > 0 {
			t.Errorf("%q still in the database: %v", secret, hits)
		}
	}
}

// testErasureBySIRET erases every contact of a company.
func testErasureBySIRET(t *testing.T, e *env) {
	body := e.captureBody(t, amiens)
	siret := body["siret"].(string)
	email := body["contact"].(map[string]string)["email"]
	var n needView
	e.advisor1.must(t, http.StatusCreated, "POST", "/api/needs", body).json(t, &n)
	var res struct {
		Keys  int `json:"keys"`
		Needs int `json:"needs"`
	}
	e.admin.must(t, http.StatusOK, "POST", "/api/erasures", map[string]any{"siret": siret}).json(t, &res)
	if res.Keys != 1 || res.Needs != 1 {
		t.Fatalf("erasure by SIRET %+v, want 1 key and 1 need", res)
	}
	r := e.advisor1.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID, nil)
	var got needView
	r.json(t, &got)
	if got.Contact == nil || !got.Contact.Erased || strings.Contains(string(r.body), email) {
		t.Fatalf("contact after erasure by SIRET: %s", r.body)
	}
	if got.SIRET != siret {
		t.Fatalf("the company's SIRET is not personal data and stays: %q", got.SIRET)
	}
}

// mustScan returns table.column of every value in the database that
// contains s (text and bytes alike).
func mustScan(t *testing.T, e *env, s string) []string {
	t.Helper()
	var db *sql.DB
	var err error
	var tablesQ string
	if e.store == "postgres" {
		db, err = sql.Open("pgx", e.dsn)
		tablesQ = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	} else {
		db, err = sql.Open("sqlite", "file:"+filepath.Join(e.dir, "reso.db")+"?mode=ro&_pragma=busy_timeout(5000)")
		tablesQ = `SELECT name FROM sqlite_master WHERE type = 'table'`
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(tablesQ)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 3 {
		t.Fatalf("only tables %v", tables)
	}
	var hits []string
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("scan %s: %v", table, err)
			}
			for i, v := range vals {
				var text string
				switch v := v.(type) {
				case []byte:
					text = string(v)
				case string:
					text = v
				case nil:
				default:
					text = fmt.Sprint(v)
				}
				if strings.Contains(text, s) {
					hits = append(hits, table+"."+cols[i])
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		rows.Close()
	}
	return hits
}
