package directoryfile

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/tabular"
)

// FormatOf returns the format a file name's extension asks for. It returns
// a *FileError for an extension other than .csv and .xlsx.
func FormatOf(name string) (Format, error) {
	switch l := strings.ToLower(name); {
	case strings.HasSuffix(l, ".csv"):
		return CSV, nil
	case strings.HasSuffix(l, ".xlsx"):
		return XLSX, nil
	}
	return "", &FileError{Reason: fmt.Sprintf("%s: name the file .csv or .xlsx", name)}
}

// table lays rows out under Réso's headers, lists joined with ", ", every
// cell a string (so that a spreadsheet keeps the leading zeros of codes and
// phone numbers).
func table(rows []domain.ImportRow) tabular.Table {
	t := tabular.Table{Columns: resoHeaderList(), Rows: make([][]any, len(rows))}
	for i, r := range rows {
		t.Rows[i] = []any{r.Organisation, r.Kind, r.Antenne, r.Name, r.Email, r.Phone, r.Function,
			strings.Join(r.Subjects, ", "), strings.Join(r.Communes, ", "), strings.Join(r.EPCIs, ", "),
			strings.Join(r.Departements, ", "), strings.Join(r.Regions, ", ")}
	}
	return t
}

// Write writes rows under Réso's headers: a CSV separated by semicolons,
// with a BOM and CRLF line ends (what a French spreadsheet opens as is),
// or an XLSX workbook of one sheet "Annuaire". Parse reads it back to the
// same rows. It returns the writer's error.
func Write(format Format, rows []domain.ImportRow) ([]byte, error) {
	t := table(rows)
	if format == XLSX {
		return t.XLSX("Annuaire")
	}
	var buf bytes.Buffer
	buf.WriteString("\xEF\xBB\xBF")
	w := csv.NewWriter(&buf)
	w.Comma, w.UseCRLF = ';', true
	if err := w.Write(t.Columns); err != nil {
		return nil, err
	}
	rec := make([]string, len(t.Columns))
	for _, row := range t.Rows {
		for i, c := range row {
			rec[i] = c.(string)
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
