package domain

import (
	"encoding/base64"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The JSON writers of codec_encode.go: each appends exactly the bytes
// json.Marshal writes for the same Go value.

const hexDigits = "0123456789abcdef"

// plainByte marks the ASCII bytes json.Marshal copies as they are: not a
// control character, not " or \, and not <, > or & (which it escapes so
// that JSON can be embedded in HTML).
var plainByte = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// htmlPlainRun returns the length of the prefix of s that json.Marshal
// copies as it is, testing eight bytes at a time as plainRun does.
func htmlPlainRun(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if (x|(x-0x20*ones)|hasByte(x, '"')|hasByte(x, '\\')|hasByte(x, '<')|hasByte(x, '>')|hasByte(x, '&'))&highs != 0 {
			break
		}
	}
	for i < len(s) && s[i] < utf8.RuneSelf && plainByte[s[i]] {
		i++
	}
	return i
}

// AppendJSONString appends s as a JSON string the way json.Marshal writes
// it (appendString): for code outside the domain that encodes its own JSON
// without reflection (the statistics answers).
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }

// appendString writes s as a JSON string the way json.Marshal does: \" and
// \\, \b \f \n \r \t by name, other control characters and <, >, & as
// \u00XX, U+2028 and U+2029 as \u2028 and \u2029 (JavaScript line
// terminators), and each byte of invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	done := 0 // s[:done] is already in b
	for i := 0; i < len(s); {
		i += htmlPlainRun(s[i:])
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if plainByte[c] {
				i++
				continue
			}
			b = append(b, s[done:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			done = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[done:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[done:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		done = i
	}
	b = append(b, s[done:]...)
	return append(b, '"')
}

// appendUUID writes id as its MarshalText does: 36 lowercase characters,
// filled in place rather than appended byte by byte.
func appendUUID(b []byte, id uuid.UUID) []byte {
	n := len(b)
	b = append(b, `"00000000-0000-0000-0000-000000000000"`...)
	d := b[n+1 : n+37]
	j := 0
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			j++ // the dash
		}
		d[j] = hexDigits[c>>4]
		d[j+1] = hexDigits[c&0xf]
		j += 2
	}
	return b
}

// appendBytes writes p as base64, null for a nil slice.
func appendBytes(b []byte, p []byte) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

// The Unix seconds of the first and after the last instant RFC 3339 can
// write (years 0000 to 9999).
var (
	minRFC3339 = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxRFC3339 = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
)

// appendTime writes t as time.Time.MarshalJSON does (RFC 3339 with the
// nanoseconds, trailing zeros trimmed). It returns false where MarshalJSON
// fails: a year outside 0–9999 or an offset of 24 hours or more, in t's
// zone.
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	_, offset := t.Zone()
	if offset <= -24*3600 || offset >= 24*3600 {
		return b, false
	}
	if sec := t.Unix() + int64(offset); sec < minRFC3339 || sec >= maxRFC3339 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendMeta opens an event's object with Meta's fields.
func appendMeta(b []byte, m *Meta) ([]byte, bool) {
	b = append(b, `{"at":`...)
	b, ok := appendTime(b, m.At)
	b = append(b, `,"by":{"id":`...)
	b = appendUUID(b, m.By.ID)
	b = append(b, `,"role":`...)
	b = appendString(b, string(m.By.Role))
	return append(b, '}'), ok
}

func appendZone(b []byte, z Zone) []byte {
	b = append(b, `{"level":`...)
	b = appendString(b, string(z.Level))
	if z.Code != "" {
		b = append(b, `,"code":`...)
		b = appendString(b, z.Code)
	}
	return append(b, '}')
}

func appendZones(b []byte, zs []Zone) []byte {
	if zs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, z := range zs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendZone(b, z)
	}
	return append(b, ']')
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}
