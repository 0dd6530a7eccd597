package domain

import (
	"errors"
	"testing"
)

func TestValidFrenchPhone(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"0320000000", true},
		{"03 20 00 00 00", true},
		{"03.20.00.00.00", true},
		{"06-12-34-56-78", true},
		{"+33 3 20 00 00 00", true},
		{"+33320000000", true},
		{"+33 (0)3 20 00 00 00", true},
		{"0033 3 20 00 00 00", true},
		{"3 20 00 00 00", false},     // nine digits
		{"03 20 00 00 0", false},     // too short
		{"03 20 00 00 000", false},   // too long
		{"00 20 00 00 00", false},    // no area digit
		{"+44 20 7946 0958", false},  // not French
		{"+33 0 20 00 00 00", false}, // the national 0 after +33
		{"03 20 00 00 0x", false},
		{"03+20000000", false},
		{"", false},
	} {
		if got := ValidFrenchPhone(c.in); got != c.ok {
			t.Errorf("ValidFrenchPhone(%q) = %v, want %v", c.in, got, c.ok)
		}
	}
}

func TestValidEmail(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"camille@beffroi.fr", true},
		{"camille.dupont+rh@beffroi.co.uk", true},
		{"camille@localhost", false},
		{"Camille <camille@beffroi.fr>", false},
		{"camille@beffroi.fr, paul@beffroi.fr", false},
		{"camille beffroi.fr", false},
		{"camille@.fr", false},
		{"camille@beffroi.", false},
		{"", false},
	} {
		if got := ValidEmail(c.in); got != c.ok {
			t.Errorf("ValidEmail(%q) = %v, want %v", c.in, got, c.ok)
		}
	}
}

func TestCheckContactReportsEveryField(t *testing.T) {
	t.Parallel()
	if err := CheckContact("Camille", "", ""); err != nil {
		t.Fatalf("a name alone: %v", err)
	}
	err := CheckContact("", "", "12")
	var ves ValidationErrors
	if !errors.As(err, &ves) || len(ves) != 2 || ves[0].Field != "contact" || ves[1].Field != "contact.phone" {
		t.Fatalf("no name nor email, bad phone: %#v", err)
	}
	if !errors.Is(err, ErrValidation) {
		t.Fatal("ValidationErrors is not ErrValidation")
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "contact" {
		t.Fatalf("errors.As finds %v, want the first field", ve)
	}
	err = CheckContact("", "not-an-email", "")
	if !errors.As(err, &ve) || ve.Field != "contact.email" {
		t.Fatalf("bad email: %v", err)
	}
}

func TestJoinValidation(t *testing.T) {
	t.Parallel()
	if JoinValidation(nil, nil) != nil {
		t.Fatal("nothing to join is nil")
	}
	one := invalid("siret", "bad")
	if got := JoinValidation(nil, one); got != one {
		t.Fatalf("one error comes back as itself: %v", got)
	}
	other := errors.New("disk on fire")
	if got := JoinValidation(one, other); got != other {
		t.Fatalf("a non-validation error wins: %v", got)
	}
	got := JoinValidation(one, ValidationErrors{invalid("a", "x"), invalid("b", "y")})
	var ves ValidationErrors
	if !errors.As(got, &ves) || len(ves) != 3 {
		t.Fatalf("nested errors flatten: %#v", got)
	}
	if got.Error() != "invalid siret: bad; invalid a: x; invalid b: y" {
		t.Fatalf("message %q", got.Error())
	}
}
