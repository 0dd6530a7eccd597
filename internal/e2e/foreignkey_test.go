package e2e

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/testwait"
)

// testForeignKey: a contact key wrapped under a master key the server does
// not hold (a row restored from another installation, a stolen copy's
// keys) leaves the need readable over HTTP, its contact said unavailable:
// no 500, and nothing of the contact shown.
func testForeignKey(t *testing.T, e *env) {
	body := e.captureBody(t, lille)
	email := "foreign." + body["siret"].(string) + "@key.test"
	body["contact"] = map[string]string{"name": "Jeanne Ailleurs", "email": email, "phone": "03 20 00 00 00"}
	var n needView
	e.advisor1.must(t, http.StatusCreated, "POST", "/api/needs", body).json(t, &n)
	if n.Contact == nil || n.Contact.Email != email {
		t.Fatalf("captured contact %+v", n.Contact)
	}
	var db *sql.DB
	var err error
	if e.store == "postgres" {
		db, err = sql.Open("pgx", e.dsn)
	} else {
		db, err = sql.Open("sqlite", "file:"+filepath.Join(e.dir, "reso.db")+"?_pragma=busy_timeout(5000)")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The shape of a wrapped key (w1:<master id>:<sealed key>), under a
	// master id this server does not know.
	res, err := db.Exec(`UPDATE reso_contact_keys SET key_hex = 'w1:00000000deadbeef:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
		WHERE key_id IN (SELECT key_id FROM reso_contact_key_needs WHERE need_id = $1)`, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := res.RowsAffected(); k != 1 {
		t.Fatalf("%d key rows changed, want 1", k)
	}
	if e.store == "postgres" {
		// The server keeps the key it sealed with in memory until an
		// erasure's notification empties its cache (internal/keys,
		// cache.go): a key row changed behind its back is announced the
		// same way.
		if _, err := db.Exec(`SELECT pg_notify('reso_contact_keys_erased', current_schema())`); err != nil {
			t.Fatal(err)
		}
	}
	var got needView
	var r resp
	testwait.MustEventually(t, 10*time.Second, func() error {
		r = e.advisor1.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID, nil)
		r.json(t, &got)
		if got.Contact == nil || !got.Contact.Unavailable || got.Contact.Erased || got.CompanyName != n.CompanyName {
			return fmt.Errorf("need read with a foreign key: contact %+v, company %q", got.Contact, got.CompanyName)
		}
		return nil
	})
	if strings.Contains(string(r.body), email) || strings.Contains(string(r.body), "Jeanne") {
		t.Errorf("the answer shows the contact: %s", r.body)
	}
	e.admin.must(t, http.StatusOK, "GET", "/api/needs/"+n.ID+"/history", nil)
}
