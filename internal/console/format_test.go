package console

import (
	"strings"
	"testing"
	"time"
)

// French dates in Paris time, winter and summer, with "1er" and no-break
// spaces where a line must not break.
func TestFrenchDates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		at       time.Time
		date     string
		dateTime string
	}{
		{time.Date(2026, 3, 12, 13, 5, 0, 0, time.UTC), "12 mars 2026", "12 mars 2026 à 14 h 05"},       // UTC+1
		{time.Date(2026, 7, 1, 6, 30, 0, 0, time.UTC), "1er juillet 2026", "1er juillet 2026 à 8 h 30"}, // UTC+2
		{time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC), "1er janvier 2027", "1er janvier 2027 à 0 h 59"},
		{time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC), "29 mars 2026", "29 mars 2026 à 1 h 59"}, // the hour before summer time
		{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), "29 mars 2026", "29 mars 2026 à 3 h 00"},
		{time.Time{}, "", ""},
	} {
		nb := func(s string) string { return strings.ReplaceAll(s, nbsp, " ") }
		if got := frDate(tc.at); nb(got) != tc.date {
			t.Errorf("frDate(%v) = %q, want %q", tc.at, got, tc.date)
		}
		got := frDateTime(tc.at)
		if nb(got) != tc.dateTime {
			t.Errorf("frDateTime(%v) = %q, want %q", tc.at, got, tc.dateTime)
		}
		if tc.dateTime != "" && !strings.Contains(got, nbsp+"h"+nbsp) {
			t.Errorf("frDateTime(%v) = %q: the hour may break across lines", tc.at, got)
		}
	}
	if got := frMonth("2026-08"); got != "août 2026" {
		t.Errorf("frMonth = %q", got)
	}
}
