package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSIRET(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want SIRET // "" when invalid
		msg  string
	}{
		{"73282932000074", "73282932000074", ""},
		{"732 829 320 00074", "73282932000074", ""},
		{"732.829.320.00074", "73282932000074", ""},
		{"732\u00a0829\u00a0320\u00a000074", "73282932000074", ""},
		{"732\u202f829\u202f320\t00074 ", "73282932000074", ""},
		{"55208131766522", "55208131766522", ""},
		{"44306184100047", "44306184100047", ""},
		// La Poste: the head office follows Luhn, establishments the sum
		// of digits.
		{"35600000000048", "35600000000048", ""},
		{"356 000 000 49837", "35600000049837", ""},
		{"35600000000105", "35600000000105", ""},
		{"35600000049838", "", "La Poste"},
		{"35600000000113", "", "La Poste"}, // Luhn holds, the sum does not
		{"73282932000075", "", "checksum"},
		{"78925592200023", "", "checksum"},
		{"12345678901234", "", "checksum"}, // a multiple of 5, but not La Poste
		{"7328293200007", "", "14 digits, got 13"},
		{"732829320000740", "", "14 digits, got 15"},
		{"", "", "14 digits, got 0"},
		{"7328293200007A", "", `found 'A'`},
		{"732-829-320-00074", "", `found '-'`},
		{"73282932000074\xff", "", "invalid character"},
		{"٧٣٢٨٢٩٣٢٠٠٠٠٧٤", "", "only digits"}, // Arabic-Indic digits are not ASCII digits
	} {
		got, err := ParseSIRET(tc.in)
		if tc.want != "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseSIRET(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "siret" || !errors.Is(err, ErrValidation) {
			t.Errorf("ParseSIRET(%q) = %q, %v; want a siret ValidationError", tc.in, got, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseSIRET(%q) error %q does not say %q", tc.in, err, tc.msg)
		}
		if got != "" {
			t.Errorf("ParseSIRET(%q) returned %q with an error", tc.in, got)
		}
	}
}

func TestSIRETParts(t *testing.T) {
	t.Parallel()
	s, err := ParseSIRET("73282932000074")
	if err != nil {
		t.Fatal(err)
	}
	if s.SIREN() != "732829320" || s.NIC() != "00074" || s.String() != "73282932000074" || s.Display() != "732 829 320 00074" {
		t.Fatalf("parts %q %q %q %q", s.SIREN(), s.NIC(), s.String(), s.Display())
	}
	if s.SIREN().String() != "732829320" {
		t.Fatalf("SIREN string %q", s.SIREN().String())
	}
	var bad SIRET = "123"
	if bad.SIREN() != "" || bad.NIC() != "" || bad.Display() != "123" {
		t.Fatalf("short SIRET parts %q %q %q", bad.SIREN(), bad.NIC(), bad.Display())
	}
}

func TestParseSIREN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want SIREN
	}{
		{"732829320", "732829320"},
		{"732 829 320", "732829320"},
		{"356000000", "356000000"},
		{"552081317", "552081317"},
		{"732829321", ""},
		{"73282932", ""},
		{"73282932x", ""},
	} {
		got, err := ParseSIREN(tc.in)
		if tc.want != "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseSIREN(%q) = %q, %v", tc.in, got, err)
			}
			continue
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "siren" {
			t.Errorf("ParseSIREN(%q) = %q, %v; want a siren ValidationError", tc.in, got, err)
		}
	}
}

func FuzzParseSIRET(f *testing.F) {
	for _, s := range []string{"73282932000074", "732 829 320 00074", "35600000049837", "35600000000048", "1234", "\u00a0", "7328293200007\xff4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSIRET(in)
		if err != nil {
			if !errors.Is(err, ErrValidation) || s != "" {
				t.Fatalf("ParseSIRET(%q) = %q, %v", in, s, err)
			}
			return
		}
		if len(s) != 14 || strings.Trim(string(s), "0123456789") != "" {
			t.Fatalf("ParseSIRET(%q) = %q: not 14 digits", in, s)
		}
		again, err := ParseSIRET(string(s))
		if err != nil || again != s {
			t.Fatalf("ParseSIRET(%q) = %q, %v; not idempotent", s, again, err)
		}
		if _, err := ParseSIRET(s.Display()); err != nil {
			t.Fatalf("Display %q does not parse: %v", s.Display(), err)
		}
		// A valid SIRET satisfies the rule of its kind.
		if s.SIREN() == laPosteSIREN && s != laPosteHeadOffice {
			if digitSum(string(s))%5 != 0 {
				t.Fatalf("La Poste %q accepted with a digit sum not a multiple of 5", s)
			}
		} else if !luhn(string(s)) {
			t.Fatalf("%q accepted with a wrong Luhn checksum", s)
		}
	})
}
