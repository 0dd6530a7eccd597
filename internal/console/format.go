package console

import (
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Paris on machines without a zoneinfo database
)

// paris is where users read dates.
var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return loc
}()

var monthNames = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
	"septembre", "octobre", "novembre", "décembre"}

// nnbsp is the narrow no-break space French typography puts between
// thousands and before "%"; nbsp the no-break space that keeps "14 h 05"
// and "12 mars" on one line.
const (
	nnbsp = "\u202f"
	nbsp  = "\u00a0"
)

// frDate writes a day as "12 mars 2026" ("1er mars 2026"), in Paris time.
func frDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(paris)
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return day + nbsp + monthNames[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// frDateTime writes an instant as "12 mars 2026 à 14 h 05", in Paris time.
func frDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	p := t.In(paris)
	return frDate(t) + " à " + strconv.Itoa(p.Hour()) + nbsp + "h" + nbsp + pad2(p.Minute())
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// frMonth writes a "YYYY-MM" month as "mars 2026".
func frMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return monthNames[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// frInt writes an integer with narrow no-break spaces between thousands:
// "12 345".
func frInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(nnbsp)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// frDecimal writes f with prec decimals, a comma and grouped thousands:
// "1 234,5".
func frDecimal(f float64, prec int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	s := strconv.FormatFloat(f, 'f', prec, 64)
	whole, frac, _ := strings.Cut(s, ".")
	n, _ := strconv.ParseInt(whole, 10, 64)
	out := frInt(n)
	if n == 0 && strings.HasPrefix(whole, "-") {
		out = "-0"
	}
	if frac != "" {
		out += "," + frac
	}
	return out
}

// frPercent writes a percentage as shown in tables: "81 %".
func frPercent(p float64) string {
	return frDecimal(p, 0) + nnbsp + "%"
}

// toLocalInput writes t for a datetime-local field, in Paris time.
func toLocalInput(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(paris).Format("2006-01-02T15:04")
}

// parseLocalInput reads a datetime-local field ("2026-03-12T14:05", seconds
// optional) as Paris time.
func parseLocalInput(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), paris); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseDay reads a date field ("2026-03-12") as the start of that day in
// Paris.
func parseDay(s string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), paris)
	return t, err == nil
}
