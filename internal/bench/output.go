package bench

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON prints v as one JSON object on one line. It returns the
// encoding or write error.
func WriteJSON(w io.Writer, v any) error {
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Round keeps d decimals of x, so that reports stay readable.
func Round(x float64, d int) float64 {
	p := 1.0
	for range d {
		p *= 10
	}
	if x < 0 {
		return -float64(int64(-x*p+0.5)) / p
	}
	return float64(int64(x*p+0.5)) / p
}
