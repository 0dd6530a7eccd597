// Package directoryfile reads and writes the spreadsheet of a directory
// import: one line per referent, as a CSV (comma or semicolon, UTF-8 with
// or without BOM) or an XLSX workbook (its first sheet), under Réso's
// French headers or the headers of the field's production tool's user
// import (one column per subject). It knows cells and columns only: what
// the lines mean is the domain's (domain.PlanImport).
package directoryfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/reso-fr/reso/domain"
)

// Format is a file's format.
type Format string

// The formats read and written.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// HeaderSet names the headers a file uses.
type HeaderSet string

// The header sets: Réso's own (what Write writes), and the production
// tool's user import.
const (
	ResoHeaders       HeaderSet = "reso"
	ProductionHeaders HeaderSet = "production"
)

// MaxLines bounds the referent lines of one file.
const MaxLines = 50_000

// ErrFile is what every refusal of a whole file matches (errors.Is): a
// *FileError says why.
var ErrFile = errors.New("unreadable directory file")

// FileError refuses a whole file: not CSV or XLSX, not UTF-8, no header
// line, a column unknown, missing or given twice, too many lines.
type FileError struct {
	Line   int    // 0 when about the whole file
	Column string // "" when about no column
	Reason string
}

func (e *FileError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Is makes errors.Is(err, ErrFile) hold.
func (e *FileError) Is(target error) bool { return target == ErrFile }

// File is a read file: its lines, and which column each field came from.
type File struct {
	Format  Format
	Headers HeaderSet
	Rows    []domain.ImportRow
	columns map[domain.ImportField]string
}

// Column names the column of the file a field comes from, as the file's
// header writes it (Réso's name when the file has no such column).
func (f *File) Column(field domain.ImportField) string {
	if c, ok := f.columns[field]; ok {
		return c
	}
	return resoNames[field]
}

// column is one known column: its field and the folded names
// (domain.FoldName) that stand for it.
type column struct {
	field domain.ImportField
	names []string // folded (domain.FoldName)
}

// resoNames are Réso's headers, in the order Write writes them.
var resoNames = map[domain.ImportField]string{
	domain.ImportOrganisation: "Organisation",
	domain.ImportKind:         "Type d'organisation",
	domain.ImportAntenne:      "Antenne",
	domain.ImportName:         "Nom",
	domain.ImportEmail:        "Email",
	domain.ImportPhone:        "Téléphone",
	domain.ImportFunction:     "Fonction",
	domain.ImportSubjects:     "Sujets",
	domain.ImportCommunes:     "Communes",
	domain.ImportEPCI:         "EPCI",
	domain.ImportDepartements: "Départements",
	domain.ImportRegions:      "Régions",
}

// resoOrder is the order of Réso's columns.
var resoOrder = []domain.ImportField{
	domain.ImportOrganisation, domain.ImportKind, domain.ImportAntenne, domain.ImportName, domain.ImportEmail,
	domain.ImportPhone, domain.ImportFunction, domain.ImportSubjects, domain.ImportCommunes, domain.ImportEPCI,
	domain.ImportDepartements, domain.ImportRegions,
}

// The columns each header set knows, by folded names.
var (
	shared = []column{
		{domain.ImportAntenne, []string{"antenne"}},
		{domain.ImportEmail, []string{"email", "e mail", "mail", "courriel", "adresse email", "adresse e mail"}},
		{domain.ImportPhone, []string{"telephone", "tel"}},
		{domain.ImportFunction, []string{"fonction"}},
		{domain.ImportKind, []string{"type d organisation", "type"}},
		{domain.ImportCommunes, []string{"communes", "commune"}},
		{domain.ImportEPCI, []string{"epci"}},
		{domain.ImportDepartements, []string{"departements", "departement"}},
		{domain.ImportRegions, []string{"regions", "region"}},
	}
	resoOnly = []column{
		{domain.ImportOrganisation, []string{"organisation"}},
		{domain.ImportName, []string{"nom"}},
		{domain.ImportSubjects, []string{"sujets", "sujet"}},
	}
	productionOnly = []column{
		{domain.ImportOrganisation, []string{"institution"}},
		{domain.ImportName, []string{"prenom et nom"}},
	}
)

// Parse reads a directory file. name is its file name, which only helps
// explain a refusal (the content says which format it is). It returns a
// *FileError (errors.Is ErrFile) for a file it cannot read.
func Parse(name string, data []byte) (*File, error) {
	var records [][]string
	var lines []int
	var format Format
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		format = XLSX
		var err error
		if records, lines, err = readXLSX(data); err != nil {
			return nil, err
		}
	case bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return nil, &FileError{Reason: fmt.Sprintf("%s is an Excel 97-2003 workbook (.xls): save it as .xlsx or as CSV UTF-8", name)}
	default:
		if strings.HasSuffix(strings.ToLower(name), ".xlsx") {
			return nil, &FileError{Reason: fmt.Sprintf("%s is named .xlsx but is not an XLSX workbook", name)}
		}
		format = CSV
		var err error
		if records, lines, err = readCSV(data); err != nil {
			return nil, err
		}
	}
	f, err := fromRecords(records, lines)
	if err != nil {
		return nil, err
	}
	f.Format = format
	return f, nil
}

// readCSV reads every record of a CSV file, the separator being the one of
// ',' and ';' that splits the header line into more fields, and returns the
// line number of each record's start.
func readCSV(data []byte) ([][]string, []int, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if !utf8.Valid(data) {
		return nil, nil, &FileError{Reason: "the file is not UTF-8 text: save it as « CSV UTF-8 » (or as .xlsx)"}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, &FileError{Reason: "the file is empty"}
	}
	header, _, _ := bytes.Cut(data, []byte("\n"))
	sep := ','
	if fieldsOf(header, ';') > fieldsOf(header, ',') {
		sep = ';'
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = sep
	r.FieldsPerRecord = -1
	var records [][]string
	var lines []int
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, &FileError{Line: pe.StartLine, Reason: fmt.Sprintf("not CSV: %v", pe.Err)}
			}
			return nil, nil, &FileError{Reason: fmt.Sprintf("not CSV: %v", err)}
		}
		line, _ := r.FieldPos(0)
		records = append(records, rec)
		lines = append(lines, line)
		if len(records) > MaxLines+1 {
			return nil, nil, tooMany()
		}
	}
	return records, lines, nil
}

func tooMany() *FileError {
	return &FileError{Reason: fmt.Sprintf("more than %d lines: split the file (by organisation, say)", MaxLines)}
}

// fieldsOf counts the fields sep splits line into, outside quotes.
func fieldsOf(line []byte, sep byte) int {
	n, quoted := 1, false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			n++
		}
	}
	return n
}

// readXLSX reads the cells of the first sheet of a workbook, as stored (no
// number formatting), with the row number of each.
func readXLSX(data []byte) ([][]string, []int, error) {
	wb, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, nil, &FileError{Reason: fmt.Sprintf("not an XLSX workbook: %v", err)}
	}
	defer func() { _ = wb.Close() }()
	sheets := wb.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, &FileError{Reason: "the workbook has no sheet"}
	}
	rows, err := wb.Rows(sheets[0])
	if err != nil {
		return nil, nil, &FileError{Reason: fmt.Sprintf("sheet %q: %v", sheets[0], err)}
	}
	defer func() { _ = rows.Close() }()
	var records [][]string
	var lines []int
	for n := 1; rows.Next(); n++ {
		cols, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, nil, &FileError{Line: n, Reason: fmt.Sprintf("sheet %q: %v", sheets[0], err)}
		}
		records = append(records, cols)
		lines = append(lines, n)
		if len(records) > MaxLines+1 {
			return nil, nil, tooMany()
		}
	}
	if err := rows.Error(); err != nil {
		return nil, nil, &FileError{Reason: fmt.Sprintf("sheet %q: %v", sheets[0], err)}
	}
	return records, lines, nil
}

// cell is a cell's text without surrounding spaces (non-breaking ones
// included).
func cell(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.Trim(rec[i], " \t\r\n\u00a0\u202f")
}

func blank(rec []string) bool {
	for i := range rec {
		if cell(rec, i) != "" {
			return false
		}
	}
	return true
}

// layout is where each field is in a file's records.
type layout struct {
	set      HeaderSet
	at       map[domain.ImportField]int
	subjects map[int]string // production headers: column → the subject it stands for
}

// headerSearch is how many non-blank records may come before the header
// line (a title, a date, a note above the table).
const headerSearch = 10

// fromRecords finds the header line (the first record naming Réso's or the
// production tool's columns, among the first non-blank ones), then reads
// every later non-blank record as a line.
func fromRecords(records [][]string, lines []int) (*File, error) {
	h, first, seen := -1, -1, 0
	for k := 0; k < len(records) && seen < headerSearch && h < 0; k++ {
		if blank(records[k]) {
			continue
		}
		if first < 0 {
			first = k
		}
		if _, ok := headerSet(records[k]); ok {
			h = k
		}
		seen++
	}
	switch {
	case first < 0:
		return nil, &FileError{Reason: "the file has no header line and no line"}
	case h < 0:
		h = first // readHeader explains what a header line holds
	}
	lay, err := readHeader(records[h], lines[h])
	if err != nil {
		return nil, err
	}
	f := &File{Headers: lay.set, columns: map[domain.ImportField]string{}}
	for field, i := range lay.at {
		f.columns[field] = cell(records[h], i)
	}
	var zoneCols []string
	for _, z := range []domain.ImportField{domain.ImportCommunes, domain.ImportEPCI, domain.ImportDepartements, domain.ImportRegions} {
		if c, ok := f.columns[z]; ok {
			zoneCols = append(zoneCols, c)
		}
	}
	if len(zoneCols) > 0 {
		f.columns[domain.ImportZones] = strings.Join(zoneCols, ", ")
	} else {
		f.columns[domain.ImportZones] = "Antenne"
	}
	for k := h + 1; k < len(records); k++ {
		rec := records[k]
		if blank(rec) {
			continue
		}
		f.Rows = append(f.Rows, lay.row(rec, lines[k]))
	}
	if len(f.Rows) > MaxLines {
		return nil, tooMany()
	}
	return f, nil
}

// readHeader recognises a header line. It returns a *FileError when the
// line is neither header set, or names a column twice or one it does not
// know.
func readHeader(rec []string, line int) (layout, error) {
	folded := foldAll(rec)
	lay := layout{at: map[domain.ImportField]int{}, subjects: map[int]string{}}
	set, ok := headerSet(rec)
	lay.set = set
	if !ok {
		return lay, &FileError{Line: line, Reason: "no header line: the first line must name the columns, " +
			"Réso's (Organisation, Type d'organisation, Antenne, Nom, Email, Téléphone, Fonction, Sujets, Communes, EPCI, Départements, Régions) " +
			"or the production tool's user import's (Institution, Antenne, Prénom et nom, Email, Téléphone, Fonction, then one column per subject)"}
	}
	known := append(slices.Clone(shared), resoOnly...)
	if lay.set == ProductionHeaders {
		known = append(slices.Clone(shared), productionOnly...)
	}
	for i, name := range folded {
		if name == "" {
			continue // an unnamed column: spreadsheets leave some at the end
		}
		field, ok := lookup(known, name)
		if !ok {
			if sub, isSubject := domain.SubjectByCodeOrLabel(cell(rec, i)); isSubject && lay.set == ProductionHeaders {
				for j, code := range lay.subjects {
					if code == sub.Code {
						return lay, &FileError{Line: line, Column: cell(rec, i), Reason: fmt.Sprintf("subject %s has two columns (%q too)", sub.Code, cell(rec, j))}
					}
				}
				lay.subjects[i] = sub.Code
				continue
			}
			reason := "unknown column: Réso's columns are " + strings.Join(resoHeaderList(), ", ")
			if lay.set == ProductionHeaders {
				reason = "unknown column: neither a column of the production tool's user import nor a subject's code or label"
			}
			return lay, &FileError{Line: line, Column: cell(rec, i), Reason: reason}
		}
		if j, dup := lay.at[field]; dup {
			return lay, &FileError{Line: line, Column: cell(rec, i), Reason: fmt.Sprintf("given twice (column %d too)", j+1)}
		}
		lay.at[field] = i
	}
	required := []domain.ImportField{domain.ImportOrganisation, domain.ImportName, domain.ImportEmail}
	names := resoNames
	if lay.set == ResoHeaders {
		required = append(required, domain.ImportSubjects)
	} else {
		names = map[domain.ImportField]string{domain.ImportOrganisation: "Institution", domain.ImportName: "Prénom et nom", domain.ImportEmail: "Email"}
	}
	for _, field := range required {
		if _, ok := lay.at[field]; !ok {
			return lay, &FileError{Line: line, Column: names[field], Reason: "missing: the header line has no such column"}
		}
	}
	if lay.set == ProductionHeaders && len(lay.subjects) == 0 {
		return lay, &FileError{Line: line, Reason: "no subject column: the production tool's file has one column per subject (its code or label)"}
	}
	return lay, nil
}

func foldAll(rec []string) []string {
	folded := make([]string, len(rec))
	for i := range rec {
		folded[i] = domain.FoldName(cell(rec, i))
	}
	return folded
}

// headerSet tells which header set a record is the header line of, if any.
func headerSet(rec []string) (HeaderSet, bool) {
	folded := foldAll(rec)
	switch {
	case slices.Contains(folded, "institution") || slices.Contains(folded, "prenom et nom"):
		return ProductionHeaders, true
	case slices.Contains(folded, "organisation") || slices.Contains(folded, "nom"):
		return ResoHeaders, true
	}
	return "", false
}

func lookup(cols []column, folded string) (domain.ImportField, bool) {
	for _, c := range cols {
		if slices.Contains(c.names, folded) {
			return c.field, true
		}
	}
	return "", false
}

func resoHeaderList() []string {
	out := make([]string, len(resoOrder))
	for i, f := range resoOrder {
		out[i] = resoNames[f]
	}
	return out
}

// row reads one record.
func (lay layout) row(rec []string, line int) domain.ImportRow {
	get := func(f domain.ImportField) string {
		i, ok := lay.at[f]
		if !ok {
			return ""
		}
		return cell(rec, i)
	}
	r := domain.ImportRow{
		Line: line, Organisation: get(domain.ImportOrganisation), Kind: get(domain.ImportKind), Antenne: get(domain.ImportAntenne),
		Name: get(domain.ImportName), Email: get(domain.ImportEmail), Phone: phone(get(domain.ImportPhone)),
		Function: get(domain.ImportFunction),
		Communes: codes(get(domain.ImportCommunes)), EPCIs: codes(get(domain.ImportEPCI)),
		Departements: codes(get(domain.ImportDepartements)), Regions: codes(get(domain.ImportRegions)),
	}
	if lay.set == ResoHeaders {
		r.Subjects = SplitSubjects(get(domain.ImportSubjects))
		return r
	}
	cols := make([]int, 0, len(lay.subjects))
	for i := range lay.subjects {
		cols = append(cols, i)
	}
	slices.Sort(cols)
	for _, i := range cols {
		if cell(rec, i) != "" {
			r.Subjects = append(r.Subjects, lay.subjects[i])
		}
	}
	return r
}

// phone gives back the leading 0 a spreadsheet drops from a phone number it
// took for a number (320000001 for 03 20 00 00 01).
func phone(s string) string {
	if len(s) == 9 && strings.Trim(s, "0123456789") == "" && s[0] != '0' {
		return "0" + s
	}
	return s
}

// codes splits a cell of codes on commas, semicolons and spaces.
func codes(s string) []string {
	out := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '\u00a0'
	})
	if len(out) == 0 {
		return nil
	}
	return out
}

// SplitSubjects splits a Sujets cell on commas (and semicolons, and line
// breaks) outside parentheses: two labels of the taxonomy hold a comma
// inside theirs ("(RSE, bilan carbone)").
func SplitSubjects(s string) []string {
	var out []string
	depth, start := 0, 0
	flush := func(end int) {
		if v := strings.TrimSpace(s[start:end]); v != "" {
			out = append(out, v)
		}
	}
	for i, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case (r == ',' && depth == 0) || r == ';' || r == '\n':
			flush(i)
			start = i + 1
		}
	}
	flush(len(s))
	return out
}
