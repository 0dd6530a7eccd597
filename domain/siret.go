package domain

import (
	"strings"
	"unicode/utf8"
)

// SIRET identifies a company's establishment: 14 digits, the SIREN (9) then
// the NIC (5). A SIRET value made by ParseSIRET is always valid.
type SIRET string

// SIREN identifies a company: 9 digits.
type SIREN string

// laPosteSIREN is La Poste's SIREN. Its establishments' SIRETs do not follow
// Luhn: INSEE numbers them so that the sum of their 14 digits is a multiple
// of 5. Its head office, registered before that scheme, follows Luhn.
const (
	laPosteSIREN      = "356000000"
	laPosteHeadOffice = "35600000000048"
)

// ParseSIRET normalises s (it drops spaces, dots, tabs and non-breaking
// spaces) and checks it is 14 digits whose Luhn checksum holds, or, for La
// Poste (SIREN 356000000), whose digits add up to a multiple of 5.
//
// It returns a *ValidationError (field "siret", errors.Is ErrValidation) that
// says whether the length, a character or the checksum is wrong.
func ParseSIRET(s string) (SIRET, error) {
	d, err := digits("siret", s, 14)
	if err != nil {
		return "", err
	}
	if d[:9] == laPosteSIREN && d != laPosteHeadOffice {
		if digitSum(d)%5 != 0 {
			return "", invalid("siret", "%s is not a valid La Poste SIRET: the sum of its digits is not a multiple of 5", d)
		}
		return SIRET(d), nil
	}
	if !luhn(d) {
		return "", invalid("siret", "%s has a wrong checksum (Luhn)", d)
	}
	return SIRET(d), nil
}

// ParseSIREN normalises s like ParseSIRET and checks it is 9 digits whose
// Luhn checksum holds. It returns a *ValidationError (field "siren").
func ParseSIREN(s string) (SIREN, error) {
	d, err := digits("siren", s, 9)
	if err != nil {
		return "", err
	}
	if !luhn(d) {
		return "", invalid("siren", "%s has a wrong checksum (Luhn)", d)
	}
	return SIREN(d), nil
}

// SIREN returns the company part of the SIRET.
func (s SIRET) SIREN() SIREN {
	if len(s) < 9 {
		return ""
	}
	return SIREN(s[:9])
}

// NIC returns the establishment part of the SIRET (its last 5 digits).
func (s SIRET) NIC() string {
	if len(s) < 14 {
		return ""
	}
	return string(s[9:])
}

// String returns the 14 digits.
func (s SIRET) String() string { return string(s) }

// Display formats the SIRET as people write it: "732 829 320 00074".
func (s SIRET) Display() string {
	if len(s) != 14 {
		return string(s)
	}
	return string(s[0:3]) + " " + string(s[3:6]) + " " + string(s[6:9]) + " " + string(s[9:])
}

// String returns the 9 digits.
func (s SIREN) String() string { return string(s) }

// digits drops separators people type or paste and checks that n digits
// remain.
func digits(field, s string, n int) (string, error) {
	var b strings.Builder
	b.Grow(n)
	count := 0
	for _, r := range s {
		switch r {
		case ' ', '.', '\t', '\u00a0', '\u202f':
			continue
		}
		if r < '0' || r > '9' {
			if r == utf8.RuneError {
				return "", invalid(field, "must contain only digits, found an invalid character")
			}
			return "", invalid(field, "must contain only digits, found %q", r)
		}
		count++
		if count <= n {
			b.WriteRune(r)
		}
	}
	if count != n {
		return "", invalid(field, "must have %d digits, got %d", n, count)
	}
	return b.String(), nil
}

// luhn reports whether the Luhn checksum of the digit string d holds.
func luhn(d string) bool {
	sum := 0
	for i := 0; i < len(d); i++ {
		v := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

func digitSum(d string) int {
	sum := 0
	for i := 0; i < len(d); i++ {
		sum += int(d[i] - '0')
	}
	return sum
}
