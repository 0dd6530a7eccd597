package bench

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/reso-fr/reso/internal/mailpit"
	"github.com/reso-fr/reso/internal/pgtest"
)

// BenchmarkNotify measures the notifier against Mailpit: deliveries per
// second of a burst of forwards, and the delay from a forward to the mail
// (p50, p99), on each store. One run is the measure: -benchtime 1x.
func BenchmarkNotify(b *testing.B) {
	if _, err := mailpit.Binary(); err != nil {
		b.Skip(err)
	}
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			cfg := NotifyConfig{Store: store, DSN: pgtest.BaseURL(), Workers: benchWorkers()}
			if testing.Verbose() {
				cfg.Progress = os.Stderr
			}
			for range b.N {
				rep, err := RunNotify(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(rep.PerSec, "mails/s")
				b.ReportMetric(rep.Delay.P50Ms, "p50-ms")
				b.ReportMetric(rep.Delay.P99Ms, "p99-ms")
			}
		})
	}
}

// benchWorkers reads RESO_BENCH_NOTIFY_WORKERS (0: the notifier's default).
func benchWorkers() int {
	n, _ := strconv.Atoi(os.Getenv("RESO_BENCH_NOTIFY_WORKERS"))
	return n
}
