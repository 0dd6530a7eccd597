package domain

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Signaux Faibles, the state startup whose models list companies at risk of
// failure ahead of time, shares its lists with public agents monthly, by
// SIREN: a score in [0, 1] and an alert level, F1 (high risk) or F2
// (moderate). This file holds what a line of such a list is and how the
// source writes it; signaux_list.go holds the lists and their imports.

// SFAlert is a Signaux Faibles alert level.
type SFAlert string

// The alert levels a list keeps. Lines without alert ("Pas d'alerte") are
// kept out of lists.
const (
	SFAlertF1 SFAlert = "F1" // high risk ("Alerte seuil F1")
	SFAlertF2 SFAlert = "F2" // moderate risk ("Alerte seuil F2")
)

// SFAlerts returns the alert levels, the highest first.
func SFAlerts() []SFAlert { return []SFAlert{SFAlertF1, SFAlertF2} }

// Valid reports whether a is F1 or F2.
func (a SFAlert) Valid() bool { return a == SFAlertF1 || a == SFAlertF2 }

// ParseSFAlert reads an alert as Signaux Faibles writes it: "F1", "F2",
// "Alerte seuil F1", "Alerte seuil F2" or "Pas d'alerte" (case, spaces and
// the typographic apostrophe ignored). alerted is false for "Pas d'alerte".
// It returns a *ValidationError (field "alert") for an empty or unknown
// value.
func ParseSFAlert(s string) (alert SFAlert, alerted bool, err error) {
	norm := strings.Join(strings.Fields(strings.ToLower(strings.NewReplacer("’", "'", "‘", "'").Replace(s))), " ")
	switch norm {
	case "f1", "alerte seuil f1":
		return SFAlertF1, true, nil
	case "f2", "alerte seuil f2":
		return SFAlertF2, true, nil
	case "pas d'alerte":
		return "", false, nil
	case "":
		return "", false, invalid("alert", "missing: F1, F2, Alerte seuil F1, Alerte seuil F2 or Pas d'alerte")
	}
	return "", false, invalid("alert", "%q is not F1, F2, Alerte seuil F1, Alerte seuil F2 nor Pas d'alerte", clip(s))
}

// SFLine is one company of a list: its SIREN, score and alert, and,
// when the source gives them, the algorithm and batch that produced it and
// the company's commune (INSEE code).
type SFLine struct {
	SIREN   string  `json:"siren"`
	Alert   SFAlert `json:"alert"`
	Score   float64 `json:"score"`
	Algo    string  `json:"algo,omitempty"`
	Batch   string  `json:"batch,omitempty"`
	Commune string  `json:"commune,omitempty"`
}

// SFLineInput is a line of a list as read from a file: every field as
// text, before validation.
type SFLineInput struct {
	SIREN, Score, Alert, Periode, Batch, Algo, Commune string
}

// MaxSFTagLen bounds a line's algorithm and batch (runes).
const MaxSFTagLen = 64

// ParseSFLine validates a line: a SIREN with its Luhn key, a score in
// [0, 1] (a decimal point or comma), a known alert, an optional period
// (see ParseSFPeriod), an optional commune code (five characters, digits
// or 2A/2B for Corsica), an algorithm and a batch of at most MaxSFTagLen
// printable characters. alerted is false for a line without alert, which a
// list keeps out; periode is the line's month ("" when it gives none).
//
// It returns every refused field at once: a *ValidationError, or
// ValidationErrors, whose fields are the columns' names (siren, score,
// alert, periode, code_commune, algo, batch).
func ParseSFLine(in SFLineInput) (line SFLine, alerted bool, periode string, err error) {
	var errs []error
	siren, serr := ParseSIREN(in.SIREN)
	if serr != nil {
		errs = append(errs, serr)
	}
	score, scerr := parseSFScore(in.Score)
	errs = append(errs, scerr)
	alert, alerted, aerr := ParseSFAlert(in.Alert)
	errs = append(errs, aerr)
	if strings.TrimSpace(in.Periode) != "" {
		var perr error
		if periode, perr = ParseSFPeriod(in.Periode); perr != nil {
			errs = append(errs, invalid("periode", "%s", perr.(*ValidationError).Message))
		}
	}
	commune, cerr := parseSFCommune(in.Commune)
	errs = append(errs, cerr)
	algo, gerr := sfTag("algo", in.Algo)
	batch, berr := sfTag("batch", in.Batch)
	errs = append(errs, gerr, berr)
	if err := JoinValidation(errs...); err != nil {
		return SFLine{}, false, "", err
	}
	return SFLine{SIREN: string(siren), Alert: alert, Score: score, Algo: algo, Batch: batch, Commune: commune}, alerted, periode, nil
}

// parseSFScore reads a score in [0, 1], with a decimal point or a decimal
// comma (French spreadsheets write "0,87").
func parseSFScore(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, invalid("score", "missing: a number from 0 to 1")
	}
	v, err := strconv.ParseFloat(strings.Replace(t, ",", ".", 1), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, invalid("score", "%q is not a number from 0 to 1", clip(s))
	}
	if v < 0 || v > 1 {
		return 0, invalid("score", "%s is outside 0 to 1", t)
	}
	if v == 0 {
		v = 0 // not -0, which would make another digest
	}
	return v, nil
}

// parseSFCommune checks an optional INSEE commune code: five digits, or
// 2A/2B and three digits.
func parseSFCommune(s string) (string, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if t == "" {
		return "", nil
	}
	ok := len(t) == 5
	for i := 0; ok && i < 5; i++ {
		c := t[i]
		ok = c >= '0' && c <= '9' || i == 1 && t[0] == '2' && (c == 'A' || c == 'B')
	}
	if !ok {
		return "", invalid("code_commune", "%q is not an INSEE commune code (5 characters, e.g. 59350 or 2A004)", clip(s))
	}
	return t, nil
}

// sfTag checks an algorithm or batch name.
func sfTag(field, s string) (string, error) {
	t := strings.TrimSpace(s)
	if !utf8.ValidString(t) {
		return "", invalid(field, "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(t); n > MaxSFTagLen {
		return "", invalid(field, "%d characters, at most %d", n, MaxSFTagLen)
	}
	for _, r := range t {
		if !unicode.IsPrint(r) {
			return "", invalid(field, "holds a control character")
		}
	}
	return t, nil
}

// ParseSFPeriod reads a list's or a line's period as a month "YYYY-MM":
// "2026-03", a date "2026-03-01", or an instant ("2026-03-01T00:00:00Z",
// "2026-03-01 00:00:00"), whose month it keeps. It returns a
// *ValidationError (field "period").
func ParseSFPeriod(s string) (string, error) {
	t := strings.TrimSpace(s)
	for _, layout := range []string{"2006-01", "2006-01-02", time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if v, err := time.Parse(layout, t); err == nil {
			if v.Year() < 2000 || v.Year() > 9999 {
				break
			}
			return v.Format("2006-01"), nil
		}
	}
	return "", invalid("period", "%q is not a month YYYY-MM (or a date YYYY-MM-DD) from 2000 on", clip(s))
}

// frenchMonths are the months' French names, for the default label of a
// list.
var frenchMonths = [12]string{"Janvier", "Février", "Mars", "Avril", "Mai", "Juin", "Juillet", "Août",
	"Septembre", "Octobre", "Novembre", "Décembre"}

// SFPeriodLabel is the label a list of period ("2026-03") gets when none
// is given: "Mars 2026". It returns period itself when it is not a month.
func SFPeriodLabel(period string) string {
	t, err := time.Parse("2006-01", period)
	if err != nil {
		return period
	}
	return frenchMonths[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// SFFlag is what those allowed to see a company's alert see on its needs:
// the alert and score of its SIREN in a list, and which list (its label
// and period).
type SFFlag struct {
	Alert   SFAlert `json:"alert"`
	Score   float64 `json:"score"`
	List    string  `json:"list"`
	Periode string  `json:"periode"`
}

// clip shortens a refused value quoted in a message, so that a huge cell
// does not make a huge report.
func clip(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}
