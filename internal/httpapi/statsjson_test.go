package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/reso-fr/reso/internal/app"
)

// statsRows are rows shaped as a month × subject answer: months, subjects,
// rates, hours set or nil, and a few names to escape.
func statsRows(n int) []app.StatsRow {
	names := []string{"", "CCI Hauts-de-France", `Chambre de Métiers "CMA" <59> & co`, "ligne\u2028\x01"}
	rows := make([]app.StatsRow, n)
	for i := range rows {
		r := &rows[i]
		r.Month, r.Subject = fmt.Sprintf("2025-%02d", i%12+1), fmt.Sprintf("subject-%d", i%41)
		r.OrganisationName = names[i%len(names)]
		r.Needs, r.Matches = int64(1300+i), int64(1235+i)
		r.PositioningRate, r.TakingCareRate = float64(i%97)/97, float64(i)/float64(n+1)
		r.Within3DaysRate, r.Within5DaysRate = 1e-7*float64(i%3), 0.36
		if i%5 != 0 {
			med, p90 := 70.92+float64(i)/7, 180.3
			r.MedianHoursToTakeCharge, r.P90HoursToTakeCharge = &med, &p90
		}
		if i%3 == 0 {
			k := i%25 - 12
			r.MonthsSinceOpening = &k
		}
		r.Done, r.DoneNoHelp, r.NotForMe = int64(i), int64(i/2), 0
	}
	return rows
}

func TestWriteStatsJSON(t *testing.T) {
	for _, rows := range [][]app.StatsRow{nil, {}, statsRows(1), statsRows(800), statsRows(3)} {
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		writeJSON(want, http.StatusOK, map[string]any{"rows": rows})
		writeStatsJSON(got, http.StatusOK, rows)
		if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Errorf("%d rows: got\n%.300s\nwant\n%.300s", len(rows), got.Body, want.Body)
		}
		if g, w := got.Header().Get("Content-Type"), want.Header().Get("Content-Type"); g != w || got.Code != want.Code {
			t.Errorf("%d rows: %d %q, want %d %q", len(rows), got.Code, g, want.Code, w)
		}
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmark measures the encoding only.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return io.Discard.Write(b) }
func (d discardWriter) WriteHeader(int)             {}

// BenchmarkStatsJSON encodes a month × subject answer (779 rows over
// 1,000,000 needs) with encoding/json and with writeStatsJSON.
func BenchmarkStatsJSON(b *testing.B) {
	rows := statsRows(779)
	w := discardWriter{h: http.Header{}}
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			writeJSON(w, http.StatusOK, map[string]any{"rows": rows})
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			writeStatsJSON(w, http.StatusOK, rows)
		}
	})
}
