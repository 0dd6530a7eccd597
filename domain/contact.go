package domain

import (
	"net/mail"
	"strings"
)

// CheckContact validates a company contact as typed, before it is sealed:
// a name or an email is required; the email, when given, is one address
// (RFC 5322, with a dotted domain); the phone, when given, is a French
// number. It returns nil or the validation errors of the fields
// "contact", "contact.email" and "contact.phone" together.
func CheckContact(name, email, phone string) error {
	var errs []error
	name, email, phone = strings.TrimSpace(name), strings.TrimSpace(email), strings.TrimSpace(phone)
	if name == "" && email == "" {
		errs = append(errs, invalid("contact", "a name or an email is required"))
	}
	if email != "" && !ValidEmail(email) {
		errs = append(errs, invalid("contact.email", "%q is not an email address", email))
	}
	if phone != "" && !ValidFrenchPhone(phone) {
		errs = append(errs, invalid("contact.phone", "%q is not a French phone number (10 digits from 0, or +33 and 9 digits)", phone))
	}
	return JoinValidation(errs...)
}

// ValidEmail reports whether s is exactly one email address, without a
// display name, whose domain has a dot.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	_, domain, _ := strings.Cut(a.Address, "@")
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// ValidFrenchPhone reports whether s is a French phone number as people
// write it: ten digits starting with 0 ("03 20 00 00 00", "03.20.00.00.00"),
// or the international forms +33 / 0033 followed by nine digits, the
// leading 0 of the national form optionally kept in brackets
// ("+33 (0)3 20 00 00 00"). Spaces, dots and hyphens separate freely.
func ValidFrenchPhone(s string) bool {
	s = strings.ReplaceAll(s, "(0)", "")
	var digits strings.Builder
	plus := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' && i == 0:
			plus = true
		case r == ' ' || r == '.' || r == '-' || r == '\u00a0':
		default:
			return false
		}
	}
	d := digits.String()
	switch {
	case plus && strings.HasPrefix(d, "33"):
		d = d[2:]
	case !plus && strings.HasPrefix(d, "0033"):
		d = d[4:]
	case !plus && len(d) == 10 && d[0] == '0':
		d = d[1:]
	default:
		return false
	}
	return len(d) == 9 && d[0] != '0'
}
