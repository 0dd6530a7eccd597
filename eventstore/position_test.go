package eventstore_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/reso-fr/reso/eventstore"
)

func TestPositionCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p, q eventstore.Position
		want int
	}{
		{eventstore.Start, eventstore.Start, 0},
		{eventstore.Start, eventstore.Position{Minor: 1}, -1},
		{eventstore.Position{Minor: 2}, eventstore.Position{Minor: 1}, 1},
		{eventstore.Position{Major: 1}, eventstore.Position{Minor: math.MaxUint64}, 1},
		{eventstore.Position{Major: 1, Minor: 5}, eventstore.Position{Major: 2, Minor: 1}, -1},
		{eventstore.Position{Major: 3, Minor: 9}, eventstore.Position{Major: 3, Minor: 9}, 0},
	}
	for _, tt := range tests {
		if got := tt.p.Compare(tt.q); got != tt.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", tt.p, tt.q, got, tt.want)
		}
		if got := tt.q.Compare(tt.p); got != -tt.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", tt.q, tt.p, got, -tt.want)
		}
		if got := tt.p.Less(tt.q); got != (tt.want < 0) {
			t.Errorf("%v.Less(%v) = %v", tt.p, tt.q, got)
		}
	}
}

func TestPositionStringRoundTrip(t *testing.T) {
	t.Parallel()
	ps := []eventstore.Position{
		eventstore.Start,
		{Minor: 1},
		{Minor: 255},
		{Major: 1},
		{Major: 0xdeadbeef, Minor: 42},
		{Major: math.MaxUint64, Minor: math.MaxUint64},
	}
	for _, p := range ps {
		s := p.String()
		got, err := eventstore.ParsePosition(s)
		if err != nil || got != p {
			t.Errorf("ParsePosition(%q) = %v, %v; want %v", s, got, err, p)
		}
		text, err := p.MarshalText()
		if err != nil {
			t.Fatalf("marshal %v: %v", p, err)
		}
		var back eventstore.Position
		if err := back.UnmarshalText(text); err != nil || back != p {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, back, err, p)
		}
	}
	// The encodings sort like the positions.
	strs := make([]string, len(ps))
	for i, p := range ps {
		strs[i] = p.String()
	}
	if !slices.IsSorted(strs) {
		t.Errorf("encodings %q do not sort like their positions", strs)
	}
}

func TestParsePosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    eventstore.Position
		wantErr bool
	}{
		{"", eventstore.Start, false},
		{"0", eventstore.Start, false},
		{"0000000000000000-0000000000000000", eventstore.Start, false},
		{"0000000000000001-00000000000000ff", eventstore.Position{Major: 1, Minor: 255}, false},
		{"0000000000000001-00000000000000FF", eventstore.Position{Major: 1, Minor: 255}, false},
		{"1-2", eventstore.Position{}, true},
		{"00000000000000010000000000000002", eventstore.Position{}, true},
		{"000000000000000g-0000000000000000", eventstore.Position{}, true},
		{"0000000000000000-000000000000000x", eventstore.Position{}, true},
		{"-000000000000000-0000000000000000", eventstore.Position{}, true},
		{"garbage", eventstore.Position{}, true},
	}
	for _, tt := range tests {
		got, err := eventstore.ParsePosition(tt.in)
		if tt.wantErr {
			if !errors.Is(err, eventstore.ErrInvalidPosition) {
				t.Errorf("ParsePosition(%q) = %v, %v; want ErrInvalidPosition", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParsePosition(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
