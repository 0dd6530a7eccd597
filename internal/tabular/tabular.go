// Package tabular lays rows out as a table of columns and cells and writes
// it as CSV or as an XLSX workbook: the downloads of the API and the
// console share it, so a download holds exactly what is shown.
package tabular

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Table is columns and rows of cells (string, int64, float64, or nil for a
// cell without data).
type Table struct {
	Columns []string
	Rows    [][]any
}

// FromJSON lays rows out by their JSON field names, one column per name of
// columns, so that a download has exactly the columns of the JSON answer.
// It returns an error when a row does not encode as a JSON object.
func FromJSON[R any](columns []string, rows []R) (Table, error) {
	t := Table{Columns: append([]string{}, columns...)}
	for _, row := range rows {
		raw, err := json.Marshal(row)
		if err != nil {
			return Table{}, fmt.Errorf("encode stats row: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return Table{}, fmt.Errorf("decode stats row: %w", err)
		}
		cells := make([]any, len(t.Columns))
		for i, c := range t.Columns {
			switch v := m[c].(type) {
			case json.Number:
				if n, err := v.Int64(); err == nil && !strings.ContainsAny(v.String(), ".eE") {
					cells[i] = n
				} else if f, err := v.Float64(); err == nil {
					cells[i] = f
				}
			case string:
				cells[i] = v
			case nil:
				cells[i] = nil
			default:
				cells[i] = fmt.Sprint(v)
			}
		}
		t.Rows = append(t.Rows, cells)
	}
	return t, nil
}

// CSV writes t as RFC 4180 CSV (CRLF line ends, quoted as needed), a
// header line first.
func (t Table) CSV() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	if err := w.Write(t.Columns); err != nil {
		return nil, err
	}
	rec := make([]string, len(t.Columns))
	for _, row := range t.Rows {
		for i, c := range row {
			switch v := c.(type) {
			case nil:
				rec[i] = ""
			case float64:
				rec[i] = fmt.Sprintf("%g", v)
			default:
				rec[i] = fmt.Sprint(v)
			}
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// XLSX writes t as a workbook of one sheet named sheet: a header row, then
// numbers as numbers.
func (t Table) XLSX(sheet string) ([]byte, error) {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, fmt.Errorf("name sheet: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, fmt.Errorf("stream sheet: %w", err)
	}
	header := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c
	}
	if err := sw.SetRow("A1", header); err != nil {
		return nil, fmt.Errorf("write header: %w", err)
	}
	for i, row := range t.Rows {
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return nil, err
		}
		if err := sw.SetRow(cell, row); err != nil {
			return nil, fmt.Errorf("write row %d: %w", i+2, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, fmt.Errorf("flush sheet: %w", err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("write workbook: %w", err)
	}
	return buf.Bytes(), nil
}
