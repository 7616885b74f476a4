// Package metrics holds Honten's Prometheus metrics in one registry, served
// by GET /metrics. Packages record into the variables here; nothing else
// registers metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Registry is the registry /metrics serves.
var Registry = prometheus.NewRegistry()

var (
	// HTTPDuration is request latency by route pattern, method and status class.
	HTTPDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "honten_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern, method and status code.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method", "code"})

	// Appends counts appended events by stream type.
	Appends = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "honten_eventstore_appended_events_total",
		Help: "Events appended to the event store, by stream type.",
	}, []string{"stream_type"})

	// AppendConflicts counts optimistic-concurrency conflicts and ordering-guard retries.
	AppendConflicts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "honten_eventstore_append_conflicts_total",
		Help: "Appends refused: version conflicts, duplicate event ids and ordering-guard retries.",
	}, []string{"reason"})

	// ProjectorLagEvents is the number of events a live projector has not applied.
	ProjectorLagEvents = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "honten_projector_lag_events",
		Help: "Events committed but not yet applied, per projection.",
	}, []string{"projection"})

	// ProjectorLagSeconds is the age of the oldest event a projector has not applied.
	ProjectorLagSeconds = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "honten_projector_lag_seconds",
		Help: "Age of the oldest unapplied event, per projection.",
	}, []string{"projection"})

	// ProjectorApplied counts events applied by projectors.
	ProjectorApplied = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "honten_projector_applied_events_total",
		Help: "Events applied, per projection.",
	}, []string{"projection"})

	// ReplicaLagBytes is the WAL the read replica has not replayed yet.
	ReplicaLagBytes = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "honten_replica_lag_bytes",
		Help: "Bytes of WAL written on the primary and not yet replayed on the read replica (REPLICA_URL).",
	})

	// ReplicaLagSeconds is the age of the replica's last replayed commit while it is behind.
	ReplicaLagSeconds = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "honten_replica_lag_seconds",
		Help: "Age of the last commit the read replica replayed while it is behind the primary; 0 when caught up.",
	})

	// HandlerMessages counts watermill handler outcomes.
	HandlerMessages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "honten_handler_messages_total",
		Help: "Messages handled by event handlers (policies, workers), by handler and outcome.",
	}, []string{"handler", "outcome"})

	// PoisonedMessages counts messages that failed every retry and went to
	// the poison queue (GET /api/v1/admin/poison lists them).
	PoisonedMessages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "honten_poisoned_messages_total",
		Help: "Messages that failed every retry of their handler and went to the poison queue, by handler.",
	}, []string{"handler"})
)

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		HTTPDuration, Appends, AppendConflicts,
		ProjectorLagEvents, ProjectorLagSeconds, ProjectorApplied, HandlerMessages,
		PoisonedMessages, ReplicaLagBytes, ReplicaLagSeconds,
	)
}
