package stats

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends r as encoding/json encodes it (same field order,
// omitempty, null for a nil pointer, same numbers and string escapes,
// HTML characters included), without reflection: encoding a response of
// hundreds of rows with encoding/json took a fifth of the stats
// endpoint's CPU (issue 21). TestAppendJSON holds it to encoding/json's
// output; a field added to StatsRow must be added here too.
func (r *StatsRow) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	// first is true until a field is written: the optional keys come first.
	first := true
	key := func(dst []byte, k string) []byte {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		return append(append(append(dst, '"'), k...), '"', ':')
	}
	for _, f := range [...]struct{ k, v string }{
		{"month", r.Month}, {"region", r.Region}, {"departement", r.Departement},
		{"organisation", r.Organisation}, {"organisation_name", r.OrganisationName}, {"subject", r.Subject},
	} {
		if f.v != "" {
			dst = appendJSONString(key(dst, f.k), f.v)
		}
	}
	if r.MonthsSinceOpening != nil {
		dst = strconv.AppendInt(key(dst, "months_since_opening"), int64(*r.MonthsSinceOpening), 10)
	}
	if r.SFAlert != "" {
		dst = appendJSONString(key(dst, "sf_alert"), r.SFAlert)
	}
	dst = strconv.AppendInt(key(dst, "needs"), r.Needs, 10)
	dst = strconv.AppendInt(append(dst, `,"matches":`...), r.Matches, 10)
	dst = appendJSONFloat(append(dst, `,"positioning_rate":`...), r.PositioningRate)
	dst = appendJSONFloat(append(dst, `,"taking_care_rate":`...), r.TakingCareRate)
	dst = appendJSONFloat(append(dst, `,"within_3_days_rate":`...), r.Within3DaysRate)
	dst = appendJSONFloat(append(dst, `,"within_5_days_rate":`...), r.Within5DaysRate)
	dst = appendJSONFloatPtr(append(dst, `,"median_hours_to_take_charge":`...), r.MedianHoursToTakeCharge)
	dst = appendJSONFloatPtr(append(dst, `,"p90_hours_to_take_charge":`...), r.P90HoursToTakeCharge)
	dst = strconv.AppendInt(append(dst, `,"done":`...), r.Done, 10)
	dst = strconv.AppendInt(append(dst, `,"done_no_help":`...), r.DoneNoHelp, 10)
	dst = strconv.AppendInt(append(dst, `,"done_not_reachable":`...), r.DoneNotReachable, 10)
	dst = strconv.AppendInt(append(dst, `,"not_for_me":`...), r.NotForMe, 10)
	dst = strconv.AppendInt(append(dst, `,"abandoned":`...), r.Abandoned, 10)
	return append(dst, '}')
}

func appendJSONFloatPtr(dst []byte, f *float64) []byte {
	if f == nil {
		return append(dst, "null"...)
	}
	return appendJSONFloat(dst, *f)
}

// appendJSONFloat formats f as encoding/json does a float64: the shortest
// decimal that reads back as f, in exponent form below 1e-6 or from 1e21
// on, with a one-digit negative exponent not padded (1e-7, not 1e-07).
// Figures are never NaN nor infinite (encoding/json refuses them).
func appendJSONFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if n := len(dst); format == 'e' && n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
		dst[n-2] = dst[n-1]
		dst = dst[:n-1]
	}
	return dst
}

// jsonSafe says which ASCII bytes a JSON string holds as they are, as
// encoding/json's HTML-safe encoding does: not controls, quotes,
// backslashes nor <, > and &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json does: the escapes
// \" \\ \b \f \n \r \t, other controls and <, >, & as \u00XX, U+2028 and
// U+2029 as \u2028 and \u2029, and each byte of invalid UTF-8 as \ufffd.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is yet to be copied
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(append(dst, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}
