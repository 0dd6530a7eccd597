package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reso-fr/reso/projections"
)

// lagCollector reads the projections' lag when scraped, so the figure is
// never older than the scrape.
type lagCollector struct {
	engine interface {
		Status(ctx context.Context) ([]projections.Status, error)
	}
}

var (
	lagEventsDesc = prometheus.NewDesc("reso_projection_lag_events",
		"Events in the log that a projection has not applied yet.", []string{"projection", "state"}, nil)
	lagSecondsDesc = prometheus.NewDesc("reso_projection_lag_seconds",
		"Age of the oldest event a projection has not applied yet.", []string{"projection", "state"}, nil)
)

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lagEventsDesc
	ch <- lagSecondsDesc
}

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sts, err := c.engine.Status(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(lagEventsDesc, err)
		return
	}
	for _, s := range sts {
		ch <- prometheus.MustNewConstMetric(lagEventsDesc, prometheus.GaugeValue, float64(s.LagEvents), s.Name, s.State)
		ch <- prometheus.MustNewConstMetric(lagSecondsDesc, prometheus.GaugeValue, s.LagSeconds, s.Name, s.State)
	}
}
