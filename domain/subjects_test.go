package domain

import (
	"regexp"
	"testing"
)

func TestSubjects(t *testing.T) {
	t.Parallel()
	code := regexp.MustCompile(`^[a-z][a-z0-9_]*[a-z0-9]$`)
	themes := map[string]bool{}
	for _, th := range Themes() {
		if !code.MatchString(th.Code) || th.Label == "" || themes[th.Code] {
			t.Errorf("theme %+v", th)
		}
		themes[th.Code] = true
	}
	used := map[string]bool{}
	seen := map[string]bool{}
	for _, s := range Subjects() {
		if !code.MatchString(s.Code) || s.Label == "" || seen[s.Code] {
			t.Errorf("subject %+v: bad or duplicate code, or no label", s)
		}
		seen[s.Code] = true
		if !themes[s.Theme] || s.ThemeLabel == "" {
			t.Errorf("subject %s: theme %q (%q)", s.Code, s.Theme, s.ThemeLabel)
		}
		used[s.Theme] = true
		got, ok := SubjectByCode(s.Code)
		if !ok || got != s {
			t.Errorf("SubjectByCode(%s) = %+v", s.Code, got)
		}
		if err := ValidSubject(s.Code); err != nil {
			t.Errorf("ValidSubject(%s): %v", s.Code, err)
		}
	}
	if len(themes) < 10 || len(seen) < 30 || len(used) != len(themes) {
		t.Fatalf("%d themes (%d used), %d subjects; want about 10 and 30, every theme used", len(themes), len(used), len(seen))
	}
	// The field's subjects that other packages and the simulator name.
	for _, c := range []string{"recruitment", "training", "financing", "cash_flow_difficulties", "export", "digital_transformation",
		"ecological_transition", "business_transfer", "real_estate", "innovation", "workplace_health_safety"} {
		if _, ok := SubjectByCode(c); !ok {
			t.Errorf("subject %q missing", c)
		}
	}
	if _, ok := SubjectByCode("astrology"); ok {
		t.Error("unknown subject found")
	}
	if err := ValidSubject("astrology"); !isField(err, "subject") {
		t.Errorf("ValidSubject(astrology): %v", err)
	}
	// Callers get copies.
	s := Subjects()
	s[0].Label = "tampered"
	if Subjects()[0].Label == "tampered" {
		t.Error("Subjects returned the package's slice")
	}
}
