package sflist

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// readJSON reads an array of objects keyed like the CSV columns; each
// value a string, a number or null. An element that is not an object, or a
// value of another type, is a record refused for its form.
func readJSON(data []byte) ([]record, error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '[' {
		return nil, fileError("a JSON list is an array of objects: [{\"siren\": \"…\", \"score\": 0.9, \"alert\": \"F1\"}, …]")
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(t, &elems); err != nil {
		return nil, fileError("malformed JSON: " + err.Error())
	}
	recs := make([]record, 0, len(elems))
	for i, raw := range elems {
		rec := record{line: i + 1}
		rec.reason = fill(&rec, raw)
		recs = append(recs, rec)
	}
	return recs, nil
}

// fill reads one element into rec; it returns why the element is refused,
// or "".
func fill(rec *record, raw json.RawMessage) string {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return "not a JSON object"
	}
	var found []string
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same reason whatever the order of keys
	for _, k := range keys {
		c := columnOf(k)
		if c == "" {
			continue
		}
		if slices.Contains(found, c) {
			return fmt.Sprintf("%s given twice", c)
		}
		found = append(found, c)
		v, ok := scalar(obj[k])
		if !ok {
			return fmt.Sprintf("%s must be a string or a number", k)
		}
		set(&rec.in, c, v)
	}
	return ""
}

// scalar is a JSON string's value, a number's literal, or "" for null.
func scalar(raw json.RawMessage) (string, bool) {
	t := strings.TrimSpace(string(raw))
	switch {
	case t == "null":
		return "", true
	case strings.HasPrefix(t, `"`):
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case t != "" && (t[0] == '-' || t[0] >= '0' && t[0] <= '9'):
		return t, true
	}
	return "", false
}
