package stats

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// jsonStrings are strings encoding/json escapes in each of its ways.
var jsonStrings = []string{"", "2025-03", "59", "Chambre de Métiers & de l'Artisanat", `"quoted" \ back`,
	"<script>alert(1)</script>", "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f", "ligne\u2028para\u2029",
	"bad \xff utf-8 \xc3", "émoji 🎉 ñ", "a\u00a0b"}

// jsonFloats are rates and hours at the edges of encoding/json's formats.
var jsonFloats = []float64{0, 1, 0.5, 1.0 / 3, 2.0 / 3, 1e-6, 9.99e-7, 1e-7, 1.5e-9, 5e-324, 1e20, 1e21, 123456789.125,
	0.98019801980198, 70.92, -0.25, 1e-10, 2.2250738585072014e-308, 1e100}

// randomRow draws a row with every field set or empty, from the values
// above and random bytes.
func randomRow(r *rand.Rand) StatsRow {
	str := func() string {
		if r.IntN(4) == 0 {
			b := make([]byte, r.IntN(8))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return string(b)
		}
		return jsonStrings[r.IntN(len(jsonStrings))]
	}
	flt := func() float64 {
		if r.IntN(3) == 0 {
			return math.Float64frombits(r.Uint64()&^(0x7ff<<52)) * math.Pow(10, float64(r.IntN(60)-30))
		}
		return jsonFloats[r.IntN(len(jsonFloats))]
	}
	fptr := func() *float64 {
		if r.IntN(3) == 0 {
			return nil
		}
		f := flt()
		return &f
	}
	row := StatsRow{Month: str(), Region: str(), Departement: str(), Organisation: str(), OrganisationName: str(),
		Subject: str(), SFAlert: str(), Needs: r.Int64N(1e7), Matches: r.Int64() - r.Int64(),
		PositioningRate: flt(), TakingCareRate: flt(), Within3DaysRate: flt(), Within5DaysRate: flt(),
		MedianHoursToTakeCharge: fptr(), P90HoursToTakeCharge: fptr(),
		Done: r.Int64N(3), DoneNoHelp: math.MaxInt64, DoneNotReachable: math.MinInt64, NotForMe: 0, Abandoned: -1}
	if r.IntN(2) == 0 {
		n := r.IntN(41) - 20
		row.MonthsSinceOpening = &n
	}
	return row
}

func TestAppendJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 1))
	rows := make([]StatsRow, 5000)
	for i := range rows {
		rows[i] = randomRow(r)
	}
	rows = append(rows, StatsRow{}) // every optional field empty
	for i := range rows {
		want, err := json.Marshal(rows[i])
		if err != nil {
			t.Fatal(err)
		}
		if got := rows[i].AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("row %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// FuzzAppendJSONString holds appendJSONString to encoding/json on any
// string.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	})
}

// FuzzAppendJSONFloat holds appendJSONFloat to encoding/json on any
// finite float.
func FuzzAppendJSONFloat(f *testing.F) {
	for _, v := range jsonFloats {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		want, _ := json.Marshal(v)
		if got := appendJSONFloat(nil, v); !bytes.Equal(got, want) {
			t.Errorf("%v: got %s, want %s", v, got, want)
		}
	})
}

// TestAppendJSONEveryField sets every field of a StatsRow, found by
// reflection, so that a field added to StatsRow but not to AppendJSON
// fails here even if randomRow does not know it.
func TestAppendJSONEveryField(t *testing.T) {
	var row StatsRow
	v := reflect.ValueOf(&row).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer {
			f.Set(reflect.New(f.Type().Elem()))
			f = f.Elem()
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("x" + v.Type().Field(i).Name)
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Float64:
			f.SetFloat(float64(i) + 0.5)
		default:
			t.Fatalf("field %s of kind %s: teach this test and AppendJSON", v.Type().Field(i).Name, f.Kind())
		}
	}
	want, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	if got := row.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("AppendJSON\n got %s\nwant %s", got, want)
	}
}
