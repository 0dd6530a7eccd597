package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	type body struct {
		Name  string   `json:"name"`
		Count int      `json:"count"`
		Tags  []string `json:"tags"`
	}
	cases := []struct {
		name   string
		in     string
		status int    // 0: accepted
		field  string // the field named by the problem, if any
	}{
		{"ok", `{"name":"a","count":2,"tags":["x"]}`, 0, ""},
		{"empty", ``, http.StatusBadRequest, ""},
		{"blank", "  \n", http.StatusBadRequest, ""},
		{"malformed", `{"name":`, http.StatusBadRequest, ""},
		{"syntax", `{"name" "a"}`, http.StatusBadRequest, ""},
		{"unknown field", `{"name":"a","color":"red"}`, http.StatusBadRequest, "color"},
		{"wrong type", `{"count":"two"}`, http.StatusUnprocessableEntity, "count"},
		{"array body", `[1,2]`, http.StatusBadRequest, ""},
		{"trailing value", `{"name":"a"} {"name":"b"}`, http.StatusBadRequest, ""},
		{"oversize", `{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, http.StatusRequestEntityTooLarge, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(c.in)))
			w := httptest.NewRecorder()
			var b body
			err := decode(w, r, &b)
			if c.status == 0 {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if b.Name != "a" || b.Count != 2 || len(b.Tags) != 1 {
					t.Fatalf("decoded %+v", b)
				}
				return
			}
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("error %v is not a problem", err)
			}
			if p.Status != c.status {
				t.Fatalf("status %d, want %d (%s)", p.Status, c.status, p.Detail)
			}
			if c.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != c.field) {
				t.Fatalf("errors %+v, want field %s", p.Errors, c.field)
			}
		})
	}
}
