package domain

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// A chain of three steps on a made-up type, each visible in the output:
// v1 {"name"} → v2 renames it "label" → v3 adds "tags" → v4 wraps label.
func testChains() chains {
	return chains{"Thing": {
		func(d []byte) ([]byte, error) {
			var m map[string]any
			if err := json.Unmarshal(d, &m); err != nil {
				return nil, err
			}
			m["label"] = m["name"]
			delete(m, "name")
			return json.Marshal(m)
		},
		func(d []byte) ([]byte, error) { return prependKey(d, `"tags":[]`), nil },
		func(d []byte) ([]byte, error) {
			var m map[string]any
			if err := json.Unmarshal(d, &m); err != nil {
				return nil, err
			}
			if m["label"] == "boom" {
				return nil, errors.New("cannot wrap boom")
			}
			m["label"] = map[string]any{"fr": m["label"]}
			return json.Marshal(m)
		},
	}}
}

func TestUpcastChain(t *testing.T) {
	t.Parallel()
	c := testChains()
	for _, tc := range []struct {
		name    string
		version int
		data    string
		want    string
	}{
		{"from v1", 1, `{"name":"a"}`, `{"label":{"fr":"a"},"tags":[]}`},
		{"version 0 is 1", 0, `{"name":"a"}`, `{"label":{"fr":"a"},"tags":[]}`},
		{"from v2", 2, `{"label":"a"}`, `{"label":{"fr":"a"},"tags":[]}`},
		{"from v3, tags kept", 3, `{"label":"a","tags":["x"]}`, `{"label":{"fr":"a"},"tags":["x"]}`},
		{"current: untouched", 4, `{"label":{"fr":"a"},"tags":[]}`, `{"label":{"fr":"a"},"tags":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, got, err := c.upcast("Thing", tc.version, []byte(tc.data))
			if err != nil || v != 4 {
				t.Fatalf("upcast = %d, %v", v, err)
			}
			if !sameJSON(t, got, []byte(tc.want)) {
				t.Fatalf("upcast = %s, want %s", got, tc.want)
			}
		})
	}
	if c.current("Thing") != 4 || c.current("Other") != 1 {
		t.Fatalf("current = %d, %d", c.current("Thing"), c.current("Other"))
	}
	if v, got, err := c.upcast("Other", 1, []byte(`{"x":1}`)); err != nil || v != 1 || string(got) != `{"x":1}` {
		t.Fatalf("a type without a chain: %d %s %v", v, got, err)
	}
	for _, v := range []int{-1, 5} {
		if _, _, err := c.upcast("Thing", v, []byte(`{}`)); !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("version %d: %v, want ErrUnsupportedVersion", v, err)
		}
	}
	_, _, err := c.upcast("Thing", 1, []byte(`{"name":"boom"}`))
	if err == nil || !strings.Contains(err.Error(), "from version 3 to 4") || !strings.Contains(err.Error(), "cannot wrap boom") {
		t.Fatalf("a failing step: %v", err)
	}
}

func TestPrependKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{`{"a":1}`, `{"k":0,"a":1}`},
		{`{}`, `{"k":0}`},
		{` { } `, `{"k":0 } `},
		{"\n{ \"a\":1}", `{"k":0, "a":1}`},
		{`null`, `null`},
		{`[1]`, `[1]`},
		{``, ``},
	} {
		if got := string(prependKey([]byte(tc.in), `"k":0`)); got != tc.want {
			t.Errorf("prependKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// A key the data already holds wins: it comes last.
	var m map[string]int
	if err := json.Unmarshal(prependKey([]byte(`{"k":7}`), `"k":0`), &m); err != nil || m["k"] != 7 {
		t.Fatalf("existing key: %v %v", m, err)
	}
}

// Every type's Go struct is at the version its chain reaches: a new version
// without its upcaster, or an upcaster without the new version, fails here.
func TestEveryTypeAtItsChainsVersion(t *testing.T) {
	t.Parallel()
	for _, e := range sampleEvents(t) {
		cur, ok := CurrentVersion(e.EventType())
		if !ok || e.SchemaVersion() != cur {
			t.Errorf("%s: struct at version %d, chain reaches %d", e.EventType(), e.SchemaVersion(), cur)
		}
	}
	for typ := range upcasters {
		if _, ok := decoders[typ]; !ok {
			t.Errorf("upcasters for unknown type %q", typ)
		}
	}
	if _, ok := CurrentVersion("Nope"); ok {
		t.Error("CurrentVersion of an unknown type")
	}
	if _, _, err := Upcast("Nope", 1, []byte(`{}`)); !errors.Is(err, ErrUnknownEventType) {
		t.Errorf("Upcast of an unknown type: %v", err)
	}
}

// needCapturedV1 is a NeedCaptured of schema version 1, byte for byte as
// release af5982e wrote it (the last capture of internal/compat's release
// data; its key is erased).
const needCapturedV1 = `{"at":"2026-12-07T02:14:53.747778664Z","by":{"id":"019c0c33-1400-7758-aaf8-ba42154b9638","role":"advisor"},` +
	`"need_id":"01a24e48-5833-7be0-abc7-b0faa78d6640","siret":"73282932000074","company_name":"Boulangerie du Beffroi",` +
	`"commune":"59350","subject":"recruitment","description":"Recruter deux boulangers",` +
	`"contact":{"key_id":"01a24e48-5833-7da0-8ef3-33093f377604","ciphertext":"zByiHZyNs2+QIPB7k9GLCvEUYvD/YOeR7QQY0CbgEQmcb198Phw9q08NYnJRD18TWlApRVdzLYwtJLuWjGZYMN5yERU8lLrQp5Jt9G2u7f2ItEQKeYh3g3rXnHk2RV1DcrA0"},` +
	`"advisor_id":"019c0c33-1400-7758-aaf8-ba42154b9638"}`

func TestNeedCapturedV1ReadsAsV2(t *testing.T) {
	t.Parallel()
	e, err := Unmarshal(TypeNeedCaptured, 1, []byte(needCapturedV1))
	if err != nil {
		t.Fatal(err)
	}
	c := e.(NeedCaptured)
	if c.NAFCode != "" || c.CompanyName != "Boulangerie du Beffroi" || c.SIRET != "73282932000074" ||
		c.Contact.KeyID != "01a24e48-5833-7da0-8ef3-33093f377604" || len(c.Contact.Ciphertext) != 99 {
		t.Fatalf("decoded %#v", c)
	}
	// Upcast gives the JSON today's code writes for the same capture:
	// clients of a history see one shape.
	v, up, err := Upcast(TypeNeedCaptured, 1, []byte(needCapturedV1))
	if err != nil || v != 2 {
		t.Fatalf("Upcast = %d, %v", v, err)
	}
	_, ver, now, err := Marshal(c)
	if err != nil || ver != 2 {
		t.Fatalf("Marshal = %d, %v", ver, err)
	}
	if !sameJSON(t, up, now) {
		t.Fatalf("upcast v1\n %s\nis not what v2 writes\n %s", up, now)
	}
	// The v1 event folds to the state its v2 twin folds to.
	n1, err := FoldNeed(c.NeedID, []Event{e})
	if err != nil {
		t.Fatal(err)
	}
	e2, err := Unmarshal(TypeNeedCaptured, 2, now)
	if err != nil {
		t.Fatal(err)
	}
	n2, err := FoldNeed(c.NeedID, []Event{e2})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(n1, n2) {
		t.Fatalf("v1 folds to %#v, v2 to %#v", n1, n2)
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}
