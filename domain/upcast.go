package domain

import (
	"bytes"
	"fmt"
)

// Upcasting: the log keeps every event as it was written, forever; when an
// event type's JSON shape changes, its schema version goes up by one and a
// function from the old shape to the new one joins the type's chain. Every
// read goes through Unmarshal, which runs the chain from the stored version
// to the current one before decoding, so the rest of the domain knows the
// latest shape only. docs/eventstore.md, "Evolving events", has the rules.

// upcaster turns the JSON data of one event type at schema version n into
// the data at version n+1. It must be pure and total on what version n
// writers wrote: it gets no clock, no store, no other event. It may reuse
// data's bytes; the caller does not keep them.
type upcaster func(data []byte) ([]byte, error)

// chains holds, per event type, its upcasters: chain[i] turns version i+1
// into version i+2, so a type's current version is len(chain)+1. A type
// without a chain is at version 1. Append a step for each new version;
// never edit or remove one: logs hold every version ever written.
type chains map[string][]upcaster

var upcasters = chains{
	TypeNeedCaptured: {
		// v2 (NAF code): "naf_code" is always written, "" when unknown.
		func(data []byte) ([]byte, error) { return prependKey(data, `"naf_code":""`), nil },
	},
}

// current returns typ's current schema version.
func (c chains) current(typ string) int { return len(c[typ]) + 1 }

// upcast brings data of typ from version to the current version. Version 0
// (a store that does not record versions) is read as 1. It returns
// ErrUnsupportedVersion for a version below 0 or above the current one (a
// log written by a later release), and an upcaster's error, wrapped with
// the step that failed.
func (c chains) upcast(typ string, version int, data []byte) (int, []byte, error) {
	chain := c[typ]
	if version == 0 {
		version = 1
	}
	if version < 1 || version > len(chain)+1 {
		return 0, nil, fmt.Errorf("%s version %d (current %d): %w", typ, version, len(chain)+1, ErrUnsupportedVersion)
	}
	for v := version; v <= len(chain); v++ {
		out, err := chain[v-1](data)
		if err != nil {
			return 0, nil, fmt.Errorf("upcast %s from version %d to %d: %w", typ, v, v+1, err)
		}
		data = out
	}
	return len(chain) + 1, data, nil
}

// CurrentVersion returns the schema version Marshal writes for typ today.
// It returns false for a type the domain does not know.
func CurrentVersion(typ string) (int, bool) {
	if _, ok := decoders[typ]; !ok {
		return 0, false
	}
	return upcasters.current(typ), true
}

// Upcast returns an event's data in the current shape of its type, with
// that version: what Unmarshal decodes. Readers that show an event's JSON
// (a need's history) call it so that clients, like the domain, see one
// shape per type. It returns errors wrapping ErrUnknownEventType,
// ErrUnsupportedVersion, or an upcaster's error.
func Upcast(typ string, version int, data []byte) (int, []byte, error) {
	if _, ok := decoders[typ]; !ok {
		return 0, nil, fmt.Errorf("upcast %q: %w", typ, ErrUnknownEventType)
	}
	return upcasters.upcast(typ, version, data)
}

// prependKey adds member (`"key":value`) at the front of the JSON object
// data. Put first, it loses to a member of the same name already in data
// (encoding/json keeps the last), so an upcaster that adds a key never
// overwrites one. Data that is not an object is returned as it is, for the
// decoder to refuse.
func prependKey(data []byte, member string) []byte {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return data
	}
	rest := trimmed[1:]
	out := make([]byte, 0, len(member)+len(rest)+2)
	out = append(out, '{')
	out = append(out, member...)
	if r := bytes.TrimLeft(rest, " \t\r\n"); len(r) == 0 || r[0] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...)
}
