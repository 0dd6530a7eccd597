package domain

import (
	"math"
	"strconv"
)

// The Signaux Faibles events for the codec's fast paths (codec_encode.go,
// codec_decode.go): they add numbers to what the scanner reads.

var sfAlertNames = []string{string(SFAlertF1), string(SFAlertF2)}

// number returns the literal of a JSON number (RFC 8259's grammar), or
// fails.
func (s *scanner) number() []byte {
	s.peek()
	start, j := s.i, s.i
	digits := func() int {
		k := j
		for j < len(s.data) && s.data[j] >= '0' && s.data[j] <= '9' {
			j++
		}
		return j - k
	}
	if j < len(s.data) && s.data[j] == '-' {
		j++
	}
	switch {
	case j < len(s.data) && s.data[j] == '0':
		j++
	case digits() == 0:
		s.fail()
		return nil
	}
	if j < len(s.data) && s.data[j] == '.' {
		j++
		if digits() == 0 {
			s.fail()
			return nil
		}
	}
	if j < len(s.data) && (s.data[j] == 'e' || s.data[j] == 'E') {
		j++
		if j < len(s.data) && (s.data[j] == '+' || s.data[j] == '-') {
			j++
		}
		if digits() == 0 {
			s.fail()
			return nil
		}
	}
	s.i = j
	return s.data[start:j]
}

// float reads a float64 as encoding/json does; null leaves 0, a number out
// of range fails (encoding/json refuses it).
func (s *scanner) float() float64 {
	if s.null() {
		return 0
	}
	b := s.number()
	if s.bad {
		return 0
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		s.fail()
		return 0
	}
	return v
}

// integer reads an int as encoding/json does; a fraction, an exponent or
// a value beyond 64 bits fails.
func (s *scanner) integer() int {
	if s.null() {
		return 0
	}
	b := s.number()
	if s.bad {
		return 0
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || int64(int(v)) != v {
		s.fail()
		return 0
	}
	return int(v)
}

func (s *scanner) sfLines() []SFLine {
	if !s.array() {
		return nil
	}
	lines := []SFLine{}
	for n := 0; s.more(n); n++ {
		var l SFLine
		if s.object() {
			var seen uint32
			for k := 0; s.next(k); k++ {
				switch string(s.key) {
				case "siren":
					s.once(&seen, 1)
					l.SIREN = s.str()
				case "alert":
					s.once(&seen, 2)
					l.Alert = SFAlert(s.known(sfAlertNames))
				case "score":
					s.once(&seen, 4)
					l.Score = s.float()
				case "algo":
					s.once(&seen, 8)
					l.Algo = s.str()
				case "batch":
					s.once(&seen, 16)
					l.Batch = s.str()
				case "commune":
					s.once(&seen, 32)
					l.Commune = s.str()
				default:
					s.fail()
				}
			}
		}
		lines = append(lines, l)
	}
	return lines
}

func (s *scanner) sfListImported() (e SignauxFaiblesListImported) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "list_id":
			s.once(&seen, 1)
			e.ListID = s.id()
		case "import_id":
			s.once(&seen, 2)
			e.ImportID = s.id()
		case "label":
			s.once(&seen, 4)
			e.Label = s.str()
		case "period":
			s.once(&seen, 8)
			e.Period = s.str()
		case "lines":
			s.once(&seen, 16)
			e.Lines = s.integer()
		case "f1":
			s.once(&seen, 32)
			e.F1 = s.integer()
		case "f2":
			s.once(&seen, 64)
			e.F2 = s.integer()
		case "parts":
			s.once(&seen, 128)
			e.Parts = s.integer()
		case "digest":
			s.once(&seen, 256)
			e.Digest = s.str()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

func (s *scanner) sfLinesRecorded() (e SignauxFaiblesLinesRecorded) {
	s.object()
	var seen uint32
	for n := 0; s.next(n); n++ {
		switch string(s.key) {
		case "list_id":
			s.once(&seen, 1)
			e.ListID = s.id()
		case "import_id":
			s.once(&seen, 2)
			e.ImportID = s.id()
		case "part":
			s.once(&seen, 4)
			e.Part = s.integer()
		case "lines":
			s.once(&seen, 8)
			e.Lines = s.sfLines()
		default:
			s.meta(&e.Meta, &seen)
		}
	}
	return e
}

// AppendJSONFloat appends v as json.Marshal writes a float64 (appendFloat),
// or returns false for NaN and infinities: for code outside the domain
// that encodes its own JSON without reflection (the statistics answers).
func AppendJSONFloat(b []byte, v float64) ([]byte, bool) { return appendFloat(b, v) }

// appendFloat writes v as encoding/json does, and returns false for NaN
// and infinities, which it refuses: the shortest representation, in
// exponent form below 1e-6 and from 1e21 on, with a one-digit negative
// exponent written without its leading zero.
func appendFloat(b []byte, v float64) ([]byte, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return b, false
	}
	format := byte('f')
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b, true
}

// appendSFListImported and appendSFLinesRecorded write what json.Marshal
// writes for these events.
func appendSFListImported(e *SignauxFaiblesListImported) ([]byte, bool) {
	b := make([]byte, 0, metaSize+260+len(e.Label)+len(e.Period)+len(e.Digest))
	b, ok := appendMeta(b, &e.Meta)
	b = append(b, `,"list_id":`...)
	b = appendUUID(b, e.ListID)
	b = append(b, `,"import_id":`...)
	b = appendUUID(b, e.ImportID)
	b = append(b, `,"label":`...)
	b = appendString(b, e.Label)
	b = append(b, `,"period":`...)
	b = appendString(b, e.Period)
	for _, f := range [...]struct {
		key string
		v   int
	}{{`,"lines":`, e.Lines}, {`,"f1":`, e.F1}, {`,"f2":`, e.F2}, {`,"parts":`, e.Parts}} {
		b = append(b, f.key...)
		b = strconv.AppendInt(b, int64(f.v), 10)
	}
	b = append(b, `,"digest":`...)
	b = appendString(b, e.Digest)
	return b, ok
}

func appendSFLinesRecorded(e *SignauxFaiblesLinesRecorded) ([]byte, bool) {
	b := make([]byte, 0, metaSize+120+len(e.Lines)*90)
	b, ok := appendMeta(b, &e.Meta)
	b = append(b, `,"list_id":`...)
	b = appendUUID(b, e.ListID)
	b = append(b, `,"import_id":`...)
	b = appendUUID(b, e.ImportID)
	b = append(b, `,"part":`...)
	b = strconv.AppendInt(b, int64(e.Part), 10)
	b = append(b, `,"lines":`...)
	if e.Lines == nil {
		return append(b, "null"...), ok
	}
	b = append(b, '[')
	for i, l := range e.Lines {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"siren":`...)
		b = appendString(b, l.SIREN)
		b = append(b, `,"alert":`...)
		b = appendString(b, string(l.Alert))
		b = append(b, `,"score":`...)
		var fine bool
		if b, fine = appendFloat(b, l.Score); !fine {
			return nil, false
		}
		for _, f := range [...]struct{ key, v string }{{`,"algo":`, l.Algo}, {`,"batch":`, l.Batch}, {`,"commune":`, l.Commune}} {
			if f.v != "" {
				b = append(b, f.key...)
				b = appendString(b, f.v)
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), ok
}
