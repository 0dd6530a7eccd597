package domain

import "strings"

// ParseNAF normalises a company's activity code (code APE, in the NAF rév. 2
// nomenclature INSEE gives every establishment in Sirene): two digits, a
// dot, two digits and a letter, "10.71C". It accepts the code without its
// dot ("1071C"), a lower-case letter and surrounding spaces. The code is
// optional: "" gives "". It returns a *ValidationError (field "naf_code")
// for anything else. The format only is checked: the nomenclature's list
// changes with its revisions, and Sirene is the reference.
func ParseNAF(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	if len(s) == 5 {
		s = s[:2] + "." + s[2:]
	}
	ok := len(s) == 6 && s[2] == '.' && s[5] >= 'A' && s[5] <= 'Z'
	for _, i := range []int{0, 1, 3, 4} {
		ok = ok && s[i] >= '0' && s[i] <= '9'
	}
	if !ok {
		return "", invalid("naf_code", "%q is not a NAF code such as 10.71C", s)
	}
	return s, nil
}
