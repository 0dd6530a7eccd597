package domain

import (
	"encoding/base64"
	"encoding/binary"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// scanner reads event JSON without reflection, for the shapes Marshal
// writes: objects with the exact field names in any order, whitespace,
// strings with the escapes of RFC 8259 outside surrogates, null, instants in
// UTC ("Z"). Anything else — an unknown or differently cased key, a key
// seen twice, invalid UTF-8, a surrogate escape, an offset, a syntax or type
// error — makes it fail, and the caller then decodes with encoding/json. The
// scanner therefore never has to reproduce encoding/json's errors, only the
// values it gives for the inputs the scanner accepts.
type scanner struct {
	data []byte
	i    int    // next byte to read
	bad  bool   // the scanner met something it does not handle
	key  []byte // the current object key, a view of data
	buf  []byte // the last unescaped string, reused
}

// fail marks the input as not handled and moves to its end, so that every
// later read fails at once and every loop ends.
func (s *scanner) fail() {
	s.bad = true
	s.i = len(s.data)
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	for s.i < len(s.data) {
		switch c := s.data[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	return 0
}

// end reports whether the whole input was read without failure.
func (s *scanner) end() bool {
	s.peek()
	return !s.bad && s.i == len(s.data)
}

// null consumes a null and reports whether there was one. On a fresh value
// encoding/json leaves every field type of the events at its zero value for
// null, so callers skip the field.
func (s *scanner) null() bool {
	if s.peek() != 'n' {
		return false
	}
	if len(s.data)-s.i < 4 || string(s.data[s.i:s.i+4]) != "null" {
		s.fail()
		return true
	}
	s.i += 4
	return true
}

// object consumes the opening brace of an object. It returns false for null
// (the value stays zero) and on failure.
func (s *scanner) object() bool {
	if s.null() {
		return false
	}
	if s.peek() != '{' {
		s.fail()
		return false
	}
	s.i++
	return true
}

// next reads the n-th key (from 0) of the current object into s.key, with
// its colon. It returns false after the closing brace and on failure.
func (s *scanner) next(n int) bool {
	c := s.peek()
	if c == '}' {
		s.i++
		return false
	}
	if n > 0 {
		if c != ',' {
			s.fail()
			return false
		}
		s.i++
		c = s.peek()
	}
	if c != '"' {
		s.fail()
		return false
	}
	// A key with an escape ends early or keeps its backslash: either way
	// it matches no field name and the caller fails.
	start := s.i + 1
	j := start
	for j < len(s.data) && s.data[j] != '"' {
		j++
	}
	if j == len(s.data) {
		s.fail()
		return false
	}
	s.key = s.data[start:j]
	s.i = j + 1
	if s.peek() != ':' {
		s.fail()
		return false
	}
	s.i++
	return true
}

// once fails when the key of bit was already seen in this object:
// encoding/json would merge or overwrite, which the scanner leaves to it.
func (s *scanner) once(seen *uint32, bit uint32) {
	if *seen&bit != 0 {
		s.fail()
	}
	*seen |= bit
}

// array consumes the opening bracket of an array. It returns false for null
// (the slice stays nil) and on failure.
func (s *scanner) array() bool {
	if s.null() {
		return false
	}
	if s.peek() != '[' {
		s.fail()
		return false
	}
	s.i++
	return true
}

// more reports whether the n-th element (from 0) of the current array
// follows, consuming the comma before it; it consumes the closing bracket
// and returns false at the end, and returns false on failure.
func (s *scanner) more(n int) bool {
	c := s.peek()
	if c == ']' {
		s.i++
		return false
	}
	if n > 0 {
		if c != ',' {
			s.fail()
			return false
		}
		s.i++
	}
	return !s.bad
}

// quoted returns the content of a string made only of printable ASCII
// without escapes, as a view of data: the form of identifiers, instants and
// base64. Anything else fails. Checking here rather than trusting the
// callers' parsers matters: uuid.ParseBytes ignores the first and last
// bytes of its 38-byte form ({...}), which could then be an escape, a
// control character or invalid UTF-8 that encoding/json would reject or
// replace.
func (s *scanner) quoted() []byte {
	if s.peek() != '"' {
		s.fail()
		return nil
	}
	start := s.i + 1
	end := start + plainRun(s.data[start:])
	if end == len(s.data) || s.data[end] != '"' {
		s.fail()
		return nil
	}
	s.i = end + 1
	return s.data[start:end]
}

// Constants of the tests of eight bytes at a time.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hasByte sets the high bit of the first byte of x equal to c (the classic
// "has zero byte" test; bytes after it may be flagged too, which callers
// never rely on: they go on byte by byte from the first flag).
func hasByte(x uint64, c byte) uint64 {
	y := x ^ uint64(c)*ones
	return (y - ones) &^ y
}

// plainRun returns the length of the prefix of b made of printable ASCII
// other than " and \, testing eight bytes at a time: strings are most of an
// event's bytes.
func plainRun(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		// Flagged: a high bit (not ASCII), a byte below 0x20 (its high
		// bit set by the subtraction), " or \.
		if (x|(x-0x20*ones)|hasByte(x, '"')|hasByte(x, '\\'))&highs != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			break
		}
	}
	return i
}

// text returns the unescaped content of a string: a view of data when it has
// no escape, else s.buf, valid until the next call. Invalid UTF-8 fails
// (encoding/json would replace it with U+FFFD).
func (s *scanner) text() []byte {
	if s.peek() != '"' {
		s.fail()
		return nil
	}
	start := s.i + 1
	ascii := true
	for j := start; j < len(s.data); j++ {
		j += plainRun(s.data[j:])
		if j == len(s.data) {
			break
		}
		switch c := s.data[j]; {
		case c == '"':
			b := s.data[start:j]
			if !ascii && !utf8.Valid(b) {
				s.fail()
				return nil
			}
			s.i = j + 1
			return b
		case c == '\\':
			return s.unescape(start, j)
		case c < 0x20:
			s.fail()
			return nil
		default:
			ascii = false
		}
	}
	s.fail()
	return nil
}

// unescape finishes text for a string starting at start whose first escape
// is at j.
func (s *scanner) unescape(start, j int) []byte {
	b := append(s.buf[:0], s.data[start:j]...)
	for j < len(s.data) {
		c := s.data[j]
		switch {
		case c == '"':
			s.i = j + 1
			s.buf = b
			// Escapes write whole runes, so the result is valid exactly
			// when every unescaped run is.
			if !utf8.Valid(b) {
				s.fail()
				return nil
			}
			return b
		case c < 0x20:
			s.fail()
			return nil
		case c != '\\':
			b = append(b, c)
			j++
			continue
		}
		if j+1 >= len(s.data) {
			break
		}
		switch e := s.data[j+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(s.data[j+2:])
			// A surrogate pairs with the next escape, or becomes U+FFFD:
			// rare enough to leave to encoding/json.
			if !ok || 0xD800 <= r && r < 0xE000 {
				s.fail()
				return nil
			}
			b = utf8.AppendRune(b, r)
			j += 4
		default:
			s.fail()
			return nil
		}
		j += 2
	}
	s.fail()
	return nil
}

// hex4 reads the four hexadecimal digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// str reads a string field. Null leaves it empty, as encoding/json does.
func (s *scanner) str() string {
	if s.null() {
		return ""
	}
	return string(s.text())
}

// known reads a string field whose value is usually one of names, and
// returns that constant instead of a new string when it is.
func (s *scanner) known(names []string) string {
	if s.null() {
		return ""
	}
	b := s.text()
	for _, n := range names {
		if string(b) == n {
			return n
		}
	}
	return string(b)
}

// id reads an identifier as uuid.UUID.UnmarshalText does (which
// encoding/json calls); escapes fail.
func (s *scanner) id() uuid.UUID {
	if s.null() {
		return uuid.Nil
	}
	b := s.quoted()
	if s.bad {
		return uuid.Nil
	}
	id, err := uuid.ParseBytes(b)
	if err != nil {
		s.fail()
	}
	return id
}

// bytes reads base64 as encoding/json does for []byte: "" gives an empty,
// non-nil slice.
func (s *scanner) bytes() []byte {
	if s.null() {
		return nil
	}
	b := s.quoted()
	if s.bad {
		return nil
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(out, b)
	if err != nil {
		s.fail()
		return nil
	}
	return out[:n]
}

// instant reads the RFC 3339 form Marshal writes for UTC,
// YYYY-MM-DDTHH:MM:SS[.F]Z with 1 to 9 fraction digits, into the same value
// time.Time.UnmarshalJSON gives. Offsets, longer fractions and any
// out-of-range part fail.
func (s *scanner) instant() time.Time {
	if s.null() {
		return time.Time{}
	}
	b := s.quoted()
	if s.bad {
		return time.Time{}
	}
	if len(b) < len("2006-01-02T15:04:05Z") || b[4] != '-' || b[7] != '-' || b[10] != 'T' ||
		b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		s.fail()
		return time.Time{}
	}
	year, ok1 := decimal(b[0:4])
	month, ok2 := decimal(b[5:7])
	day, ok3 := decimal(b[8:10])
	hour, ok4 := decimal(b[11:13])
	minute, ok5 := decimal(b[14:16])
	sec, ok6 := decimal(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > monthDays(year, month) || hour > 23 || minute > 59 || sec > 59 {
		s.fail()
		return time.Time{}
	}
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		n, ok := decimal(frac[1:])
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 || !ok {
			s.fail()
			return time.Time{}
		}
		for k := len(frac); k <= 9; k++ {
			n *= 10
		}
		nsec = n
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
}

// decimal reads an unsigned decimal number of at most 9 digits.
func decimal(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

// monthDays is the number of days of a month of the proleptic Gregorian
// calendar, which time.Parse checks the day against.
func monthDays(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
