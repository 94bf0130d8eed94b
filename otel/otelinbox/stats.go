package otelinbox

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/doubletick-go/doubletick/inbox"
	dtotel "github.com/doubletick-go/doubletick/otel"
)

// StateKey is the attribute of doubletick.inbox.deliveries: waiting,
// running, retrying or dead.
const StateKey = attribute.Key("doubletick.inbox.state")

// StatsReader is what ObserveStats reads: an [inbox.Inbox] or an
// [inbox.Admin], of either driver.
type StatsReader interface {
	Stats(context.Context) (inbox.Stats, error)
}

// ObserveStats reports an inbox's counts each time metrics are collected:
// doubletick.inbox.deliveries (by doubletick.inbox.state),
// doubletick.inbox.oldest_waiting (seconds) and doubletick.inbox.stored
// (bytes kept, which inbox.WithMaxStoredBytes bounds). Each collection reads in's
// Stats once, which queries the inbox's database: collect every few
// seconds, not more often.
func ObserveStats(tel *dtotel.Telemetry, in StatsReader) error {
	meter := tel.Meter()
	deliveries, err := meter.Int64ObservableGauge("doubletick.inbox.deliveries",
		metric.WithDescription("Webhook deliveries the inbox holds, by state."))
	if err != nil {
		return err
	}
	oldest, err := meter.Float64ObservableGauge("doubletick.inbox.oldest_waiting", metric.WithUnit("s"),
		metric.WithDescription("How long the delivery waiting longest for a worker has waited."))
	if err != nil {
		return err
	}
	stored, err := meter.Int64ObservableGauge("doubletick.inbox.stored", metric.WithUnit("By"),
		metric.WithDescription("Bytes the inbox's deliveries take in its database, in every state; inbox.WithMaxStoredBytes bounds them."))
	if err != nil {
		return err
	}
	var states [4]metric.ObserveOption
	for i, s := range []string{"waiting", "running", "retrying", "dead"} {
		states[i] = metric.WithAttributeSet(attribute.NewSet(StateKey.String(s)))
	}
	_, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		st, err := in.Stats(ctx)
		if err != nil {
			return err
		}
		for i, n := range []int{st.Waiting, st.Running, st.Retrying, st.Dead} {
			o.ObserveInt64(deliveries, int64(n), states[i])
		}
		o.ObserveFloat64(oldest, st.OldestWaiting.Seconds())
		o.ObserveInt64(stored, st.StoredBytes)
		return nil
	}, deliveries, oldest, stored)
	return err
}
