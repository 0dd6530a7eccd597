package httpapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// figureColumns are the figures of a stats row, in the contract's order;
// the group keys asked for come first.
var figureColumns = []string{"needs", "matches", "positioning_rate", "taking_care_rate", "within_3_days_rate",
	"within_5_days_rate", "median_hours_to_take_charge", "p90_hours_to_take_charge", "done", "done_no_help",
	"done_not_reachable", "not_for_me", "abandoned"}

// table is a stats answer as columns and cells (string, int64, float64 or
// nil for a figure without data).
type table struct {
	columns []string
	rows    [][]any
}

// statsTable lays rows out by their JSON names, so that the downloads have
// exactly the columns of the JSON answer.
func statsTable[R any](groupBy []string, rows []R) (table, error) {
	t := table{columns: append(append([]string{}, groupBy...), figureColumns...)}
	for _, row := range rows {
		raw, err := json.Marshal(row)
		if err != nil {
			return table{}, fmt.Errorf("encode stats row: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return table{}, fmt.Errorf("decode stats row: %w", err)
		}
		cells := make([]any, len(t.columns))
		for i, c := range t.columns {
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
		t.rows = append(t.rows, cells)
	}
	return t, nil
}

// csvBytes writes t as RFC 4180 CSV (CRLF line ends, quoted as needed).
func (t table) csvBytes() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	if err := w.Write(t.columns); err != nil {
		return nil, err
	}
	rec := make([]string, len(t.columns))
	for _, row := range t.rows {
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

// xlsxBytes writes t as a workbook of one sheet "stats": a header row, then
// numbers as numbers.
func (t table) xlsxBytes() ([]byte, error) {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	const sheet = "stats"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, fmt.Errorf("name sheet: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, fmt.Errorf("stream sheet: %w", err)
	}
	header := make([]any, len(t.columns))
	for i, c := range t.columns {
		header[i] = c
	}
	if err := sw.SetRow("A1", header); err != nil {
		return nil, fmt.Errorf("write header: %w", err)
	}
	for i, row := range t.rows {
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
