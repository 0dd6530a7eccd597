// Package sflist reads the files Signaux Faibles shares its lists in: CSV
// (a header line, "," or ";" separated, UTF-8 with or without a byte order
// mark, columns in any order) or JSON (an array of objects with the same
// keys). It checks every line with the domain's rules (domain.ParseSFLine),
// keeps the lines with an alert, counts those without, reports each refused
// line with its number and reason, and decides the list's period.
//
// A refused line's reason may quote its values: a Result belongs to the
// admin who imports the file, never to a server log.
package sflist

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/reso-fr/reso/domain"
)

// Format is the format of a list file.
type Format string

// The formats of list files.
const (
	CSV  Format = "csv"
	JSON Format = "json"
)

// ErrFormat: a media type or file name that names no format this package
// reads.
var ErrFormat = errors.New("not a CSV or JSON list")

// FormatOfMediaType is the format of a request body's Content-Type:
// text/csv or application/json (a charset other than UTF-8 is refused). It
// returns an error wrapping ErrFormat otherwise.
func FormatOfMediaType(contentType string) (Format, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("%w: content type %q", ErrFormat, contentType)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return "", fmt.Errorf("%w: charset %s (send UTF-8)", ErrFormat, cs)
	}
	switch mt {
	case "text/csv", "application/csv":
		return CSV, nil
	case "application/json":
		return JSON, nil
	}
	return "", fmt.Errorf("%w: content type %s (send text/csv or application/json)", ErrFormat, mt)
}

// FormatOfFile is the format of a file: its extension (.csv, .json), or,
// without one of those, its first byte ('[' for JSON).
func FormatOfFile(name string, data []byte) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV
	case ".json":
		return JSON
	}
	if t := bytes.TrimLeft(bytes.TrimPrefix(data, bom), " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return JSON
	}
	return CSV
}

// MaxRejected bounds the refused lines a Result lists; RejectedCount
// counts them all.
const MaxRejected = 1000

// Rejected is a refused line: its number (in a CSV file, the line of the
// file, the header being line 1; in JSON, the element of the array, from
// 1) and why.
type Rejected struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// Result is what a file holds.
type Result struct {
	// Period is the list's month, YYYY-MM.
	Period string
	// Lines are the valid lines with an alert, in file order.
	Lines []domain.SFLine
	// Read counts the data lines of the file; WithoutAlert those valid
	// lines kept out for having no alert ("Pas d'alerte").
	Read, WithoutAlert int
	// Rejected lists the first MaxRejected refused lines; RejectedCount
	// counts them all.
	Rejected      []Rejected
	RejectedCount int
}

// Options say what the caller knows of the list.
type Options struct {
	// Period is the list's period (YYYY-MM, or a date of the month); ""
	// takes it from the lines' periode column, which must then name one
	// month. With a period, a line naming another month is refused.
	Period string
}

// record is a line of the file before validation.
type record struct {
	line   int
	in     domain.SFLineInput
	reason string // a problem of form (fields, quoting, types): the line is refused
}

// bom is UTF-8's byte order mark, which spreadsheets write first.
var bom = []byte{0xEF, 0xBB, 0xBF}

// Read reads and checks a list file. It returns a *domain.ValidationError
// (field "file") for a file it cannot read as a whole — not UTF-8, no
// header, a required column missing or given twice, JSON that is not an
// array —, (field "period") for a bad period or a file whose lines name
// several months or none without opt.Period; refused lines are not errors
// but part of the Result.
func Read(data []byte, f Format, opt Options) (*Result, error) {
	var period string
	if strings.TrimSpace(opt.Period) != "" {
		p, err := domain.ParseSFPeriod(opt.Period)
		if err != nil {
			return nil, err
		}
		period = p
	}
	data = bytes.TrimPrefix(data, bom)
	if !utf8.Valid(data) {
		return nil, fileError("the file is not UTF-8 text: save it as CSV UTF-8 (or JSON) and send it again")
	}
	var recs []record
	var err error
	switch f {
	case CSV:
		recs, err = readCSV(data)
	case JSON:
		recs, err = readJSON(data)
	default:
		return nil, fileError(fmt.Sprintf("unknown format %q", string(f)))
	}
	if err != nil {
		return nil, err
	}
	return check(recs, period)
}

func fileError(msg string) error { return &domain.ValidationError{Field: "file", Message: msg} }

// check validates each record and decides the period.
func check(recs []record, period string) (*Result, error) {
	res := &Result{Read: len(recs)}
	reject := func(line int, reason string) {
		res.RejectedCount++
		if len(res.Rejected) < MaxRejected {
			res.Rejected = append(res.Rejected, Rejected{Line: line, Reason: reason})
		}
	}
	type kept struct {
		line    int
		l       domain.SFLine
		periode string
	}
	var keep []kept
	months := map[string]int{}
	seen := make(map[string]int, len(recs))
	for _, r := range recs {
		if r.reason != "" {
			reject(r.line, r.reason)
			continue
		}
		l, alerted, periode, err := domain.ParseSFLine(r.in)
		if err != nil {
			reject(r.line, err.Error())
			continue
		}
		if period != "" && periode != "" && periode != period {
			reject(r.line, fmt.Sprintf("periode %s is not the list's period %s", periode, period))
			continue
		}
		if first, dup := seen[l.SIREN]; dup {
			reject(r.line, fmt.Sprintf("SIREN %s is already on line %d", l.SIREN, first))
			continue
		}
		seen[l.SIREN] = r.line
		if periode != "" {
			months[periode]++
		}
		if !alerted {
			res.WithoutAlert++
			continue
		}
		keep = append(keep, kept{r.line, l, periode})
	}
	if period == "" {
		switch len(months) {
		case 0:
			return nil, &domain.ValidationError{Field: "period", Message: "the file has no periode column (or it is empty): give the list's period (YYYY-MM)"}
		case 1:
			for m := range months {
				period = m
			}
		default:
			var names []string
			for m, n := range months {
				names = append(names, fmt.Sprintf("%s (%d lines)", m, n))
			}
			slices.Sort(names)
			return nil, &domain.ValidationError{Field: "period", Message: "the lines name several periods, " +
				strings.Join(names, ", ") + ": give the list's period (YYYY-MM), lines of other months are then refused"}
		}
	}
	res.Period = period
	res.Lines = make([]domain.SFLine, len(keep))
	for i, k := range keep {
		res.Lines[i] = k.l
	}
	return res, nil
}

// columns maps the names a header may give a column (lower case, spaces
// and dashes as underscores) to the field it fills.
var columns = map[string]string{
	"siren": "siren", "score": "score",
	"alert": "alert", "alerte": "alert",
	"periode": "periode", "période": "periode", "period": "periode",
	"batch": "batch", "algo": "algo", "algorithme": "algo",
	"code_commune": "code_commune", "commune": "code_commune", "codecommune": "code_commune", "code_insee": "code_commune",
}

// required are the columns a list cannot do without.
var required = []string{"siren", "score", "alert"}

// columnOf is the field a header cell names, "" for a column this package
// ignores.
func columnOf(name string) string {
	n := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
	n = strings.NewReplacer(" ", "_", "-", "_").Replace(n)
	return columns[n]
}

// set puts value into the field column names.
func set(in *domain.SFLineInput, column, value string) {
	switch column {
	case "siren":
		in.SIREN = value
	case "score":
		in.Score = value
	case "alert":
		in.Alert = value
	case "periode":
		in.Periode = value
	case "batch":
		in.Batch = value
	case "algo":
		in.Algo = value
	case "code_commune":
		in.Commune = value
	}
}

// checkColumns refuses a header without a required column or naming one
// twice.
func checkColumns(found []string) error {
	var missing []string
	for _, r := range required {
		if !slices.Contains(found, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return fileError(fmt.Sprintf("column %s missing: the header must name siren, score and alert "+
			"(and may name periode, batch, algo, code_commune)", strings.Join(missing, ", ")))
	}
	for i, c := range found {
		if c != "" && slices.Contains(found[:i], c) {
			return fileError(fmt.Sprintf("column %s given twice", c))
		}
	}
	return nil
}
