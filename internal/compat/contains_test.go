package compat

import (
	"encoding/json"
	"testing"
)

func TestContains(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, old, new string
		diffs          int
	}{
		{"same", `{"a":1,"b":[1,{"c":"x"}]}`, `{"a":1,"b":[1,{"c":"x"}]}`, 0},
		{"new key allowed", `{"a":1}`, `{"a":1,"naf_code":""}`, 0},
		{"new key in an array's object", `[{"a":1}]`, `[{"a":1,"b":2}]`, 0},
		{"missing key", `{"a":1,"b":2}`, `{"a":1}`, 1},
		{"changed value", `{"a":1}`, `{"a":2}`, 1},
		{"changed type", `{"a":{"b":1}}`, `{"a":[1]}`, 1},
		{"shorter array", `{"a":[1,2]}`, `{"a":[1]}`, 1},
		{"null became value", `{"a":null}`, `{"a":0}`, 1},
		{"two differences", `{"a":1,"b":{"c":true}}`, `{"a":3,"b":{"c":false}}`, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var old, new any
			if err := json.Unmarshal([]byte(c.old), &old); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(c.new), &new); err != nil {
				t.Fatal(err)
			}
			if d := contains("", old, new); len(d) != c.diffs {
				t.Errorf("contains = %q, want %d differences", d, c.diffs)
			}
		})
	}
}
