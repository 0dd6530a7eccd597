package sflist

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// separator is the separator of a CSV file: ";" when its first line has
// more semicolons than commas outside quotes (French spreadsheets write
// ";"), "," otherwise.
func separator(data []byte) rune {
	first, _, _ := bytes.Cut(data, []byte{'\n'})
	commas, semis, quoted := 0, 0, false
	for _, c := range first {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ',':
			commas++
		case c == ';':
			semis++
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}

// readCSV reads a CSV file: its header names the columns, every other
// non-empty line is a record. A line with fewer fields than the header, or
// with more that are not empty, or that breaks the quoting, is a record
// refused for its form.
func readCSV(data []byte) ([]record, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = separator(data)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fileError("the file is empty: it needs a header line (siren, score, alert…) and lines")
	}
	if err != nil {
		return nil, fileError(fmt.Sprintf("the header line cannot be read: %v", err))
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = columnOf(h)
	}
	if err := checkColumns(cols); err != nil {
		return nil, err
	}
	var recs []record
	lastLine := 1
	for {
		fields, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line := max(pe.StartLine, lastLine+1)
			recs = append(recs, record{line: line, reason: "the line cannot be read as CSV: " + pe.Err.Error()})
			if line <= lastLine {
				break // no progress: stop rather than loop
			}
			lastLine = line
			continue
		}
		if err != nil {
			return nil, fileError(fmt.Sprintf("the file cannot be read: %v", err))
		}
		line, _ := r.FieldPos(0)
		lastLine = line
		if len(fields) < len(cols) {
			recs = append(recs, record{line: line, reason: fmt.Sprintf("%d fields, the header has %d", len(fields), len(cols))})
			continue
		}
		extra := false
		for _, f := range fields[len(cols):] {
			extra = extra || strings.TrimSpace(f) != ""
		}
		if extra {
			recs = append(recs, record{line: line, reason: fmt.Sprintf("%d fields, the header has %d", len(fields), len(cols))})
			continue
		}
		rec := record{line: line}
		for i, c := range cols {
			if c != "" {
				set(&rec.in, c, fields[i])
			}
		}
		recs = append(recs, rec)
	}
	return recs, nil
}
