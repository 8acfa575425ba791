package realtime

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus instruments. A nil *metrics records
// nothing, so that a Server without a registry pays nothing.
type metrics struct {
	lessons       prometheus.Gauge
	participants  prometheus.Gauge
	appended      prometheus.Counter
	appendLatency prometheus.Histogram
	messagesIn    *prometheus.CounterVec
	bytesIn       *prometheus.CounterVec
	messagesOut   *prometheus.CounterVec
	bytesOut      *prometheus.CounterVec
	compressed    prometheus.Counter
	replays       *prometheus.CounterVec
	refused       *prometheus.CounterVec
	offers        *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		lessons: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "classroom", Name: "live_lessons",
			Help: "Lessons live on this server."}),
		participants: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "classroom", Name: "participants",
			Help: "Participants connected to this server."}),
		appended: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "classroom", Name: "events_appended_total",
			Help: "Events stored by this server's rooms."}),
		appendLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "classroom", Name: "append_seconds",
			Help:    "Time from a room's append call to the store's acknowledgement.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5}}),
		messagesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "classroom", Name: "datachannel_messages_received_total",
			Help: "Data channel messages received from participants."}, []string{"channel"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "classroom", Name: "datachannel_bytes_received_total",
			Help: "Data channel bytes received from participants."}, []string{"channel"}),
		messagesOut: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "classroom", Name: "datachannel_messages_sent_total",
			Help: "Data channel messages sent to participants."}, []string{"channel"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "classroom", Name: "datachannel_bytes_sent_total",
			Help: "Data channel bytes sent to participants."}, []string{"channel"}),
		compressed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "classroom", Name: "events_messages_compressed_total",
			Help: "Events messages sent compressed (to clients of protocol version 3 and later), of the events channel's messages sent."}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "classroom", Name: "replays_total",
			Help: "Catch-ups served to joining or resuming participants, by kind (snapshot or events)."}, []string{"kind"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "classroom", Name: "commands_refused_total",
			Help: "Commands refused, by error code."}, []string{"code"}),
		offers: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "classroom", Name: "sdp_offers_total",
			Help: "SDP offers by who made them and what became of them: server/sent, client/answered, client/collided (crossed the server's own and was ignored)."},
			[]string{"from", "outcome"}),
	}
	for _, c := range []prometheus.Collector{m.lessons, m.participants, m.appended, m.appendLatency,
		m.messagesIn, m.bytesIn, m.messagesOut, m.bytesOut, m.compressed, m.replays, m.refused, m.offers} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) received(channel string, n int) {
	if m != nil {
		m.messagesIn.WithLabelValues(channel).Inc()
		m.bytesIn.WithLabelValues(channel).Add(float64(n))
	}
}

func (m *metrics) sent(channel string, n int) {
	if m != nil {
		m.messagesOut.WithLabelValues(channel).Inc()
		m.bytesOut.WithLabelValues(channel).Add(float64(n))
	}
}

// sentCompressed counts an events message sent compressed (nil metrics
// count nothing).
func (m *metrics) sentCompressed() {
	if m != nil {
		m.compressed.Inc()
	}
}

func (m *metrics) appendedEvents(n int, seconds float64) {
	if m != nil {
		m.appended.Add(float64(n))
		m.appendLatency.Observe(seconds)
	}
}

func (m *metrics) replay(kind string) {
	if m != nil {
		m.replays.WithLabelValues(kind).Inc()
	}
}

func (m *metrics) refuse(code string) {
	if m != nil {
		m.refused.WithLabelValues(code).Inc()
	}
}

func (m *metrics) lessonsDelta(d float64) {
	if m != nil {
		m.lessons.Add(d)
	}
}

func (m *metrics) participantsDelta(d float64) {
	if m != nil {
		m.participants.Add(d)
	}
}

func (m *metrics) offer(from, outcome string) {
	if m != nil {
		m.offers.WithLabelValues(from, outcome).Inc()
	}
}
