package domain

import (
	"errors"
	"testing"
)

func TestParseNAF(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"10.71C", "10.71C", true},
		{"1071C", "10.71C", true},
		{" 10.71c ", "10.71C", true},
		{"01.11Z", "01.11Z", true},
		{"", "", true},
		{"   ", "", true},
		{"10.71", "", false},
		{"10-71C", "", false},
		{"1O.71C", "", false}, // a letter O, not a zero
		{"10.7AC", "", false},
		{"10.711", "", false},
		{"107C", "", false},
		{"10.71CC", "", false},
		{"10.71É", "", false},
	} {
		got, err := ParseNAF(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseNAF(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		var ve *ValidationError
		if err != nil && (!errors.As(err, &ve) || ve.Field != "naf_code") {
			t.Errorf("ParseNAF(%q) error %v is not a ValidationError on naf_code", tc.in, err)
		}
	}
}

func TestCaptureNormalisesNAF(t *testing.T) {
	t.Parallel()
	c := validCapture(t)
	c.NAFCode = "1071c"
	n := NewNeed(mustID(t, 1000))
	if err := n.Capture(c, nil, advisor, t0); err != nil {
		t.Fatal(err)
	}
	if got := n.Captured().NAFCode; got != "10.71C" {
		t.Fatalf("NAF code %q, want 10.71C", got)
	}
}
