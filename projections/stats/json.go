package stats

import (
	"strconv"

	"github.com/reso-fr/reso/domain"
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

// appendJSONFloat formats f as encoding/json does a float64 (the
// domain's codec). Figures are never NaN nor infinite; were one, it is
// written null rather than breaking the answer.
func appendJSONFloat(dst []byte, f float64) []byte {
	out, ok := domain.AppendJSONFloat(dst, f)
	if !ok {
		return append(dst, "null"...)
	}
	return out
}

// appendJSONString appends s quoted as encoding/json does, HTML
// characters escaped: the domain's codec already does it.
func appendJSONString(dst []byte, s string) []byte { return domain.AppendJSONString(dst, s) }
