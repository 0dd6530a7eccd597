package notify

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	sent     *prometheus.CounterVec
	failed   *prometheus.CounterVec
	enqueued prometheus.Counter
	delay    prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reso_notifications_sent_total", Help: "Mails accepted by the mail server (or written to the outbox), by kind.",
		}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reso_notifications_failed_total", Help: "Failed attempts to send a mail, by kind.",
		}, []string{"kind"}),
		enqueued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reso_notifications_enqueued_total", Help: "Delivery jobs the notifier enqueued (not counting duplicates).",
		}),
		delay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "reso_notification_delay_seconds",
			Help:    "From the event that causes a mail to the mail server's acceptance.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
	}
}

// Collectors returns the notifier's Prometheus metrics, for the caller to
// register.
func (n *Notifier) Collectors() []prometheus.Collector {
	return []prometheus.Collector{n.metrics.sent, n.metrics.failed, n.metrics.enqueued, n.metrics.delay}
}
