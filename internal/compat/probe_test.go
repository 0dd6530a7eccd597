package compat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// expectedFile is the name, in a release directory, of the answers the
// release gave.
const expectedFile = "expected.json"

// release is what a release directory's expected.json holds.
type release struct {
	// Release names the code that wrote the directory.
	Release string `json:"release"`
	// Command is how the directory was written.
	Command string `json:"command"`
	// Events and Needs count what the log held.
	Events int     `json:"events"`
	Needs  int     `json:"needs"`
	Probes []probe `json:"probes,omitempty"`
}

// probe is one GET and the answer the release gave.
type probe struct {
	Role   string          `json:"role"` // whose token (demo-tokens.txt)
	Path   string          `json:"path"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// tokens reads demo-tokens.txt: role, name..., token on each line.
func tokens(t testing.TB, dir string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "demo-tokens.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		out[fields[0]] = fields[len(fields)-1]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// get sends GET path with role's token and returns the status and body.
func get(t testing.TB, base, token, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// send sends method path with a JSON body and role's token, and fails unless
// the answer is want.
func send(t testing.TB, base, token, method, path string, body any, want int) []byte {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, base+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d, want %d: %s", method, path, resp.StatusCode, want, out)
	}
	return out
}

// contains reports where new lacks or changes what old holds: every key of
// an old object must be in the new one with a value that contains the old
// value; arrays must have the same length and contain element by element;
// other values must be equal. New keys are allowed: a release may add
// fields, never drop or change one.
func contains(path string, old, new any) []string {
	switch o := old.(type) {
	case map[string]any:
		n, ok := new.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: was an object, now %T", path, new)}
		}
		var diffs []string
		for k, ov := range o {
			nv, ok := n[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			diffs = append(diffs, contains(path+"."+k, ov, nv)...)
		}
		return diffs
	case []any:
		n, ok := new.([]any)
		if !ok || len(n) != len(o) {
			return []string{fmt.Sprintf("%s: was an array of %d, now %v", path, len(o), short(new))}
		}
		var diffs []string
		for i := range o {
			diffs = append(diffs, contains(fmt.Sprintf("%s[%d]", path, i), o[i], n[i])...)
		}
		return diffs
	default:
		if old != new {
			return []string{fmt.Sprintf("%s: was %v, now %v", path, short(old), short(new))}
		}
		return nil
	}
}

func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
