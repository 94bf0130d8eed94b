package otel

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// InboxCounts is what an inbox holds: the fields of the inbox module's
// Stats, so that one converts to the other (this module does not import
// the inbox, and so does not pull River into an app that has none):
//
//	err := tel.ObserveInbox(func(ctx context.Context) (otel.InboxCounts, error) {
//		st, err := in.Stats(ctx)
//		return otel.InboxCounts(st), err
//	})
type InboxCounts struct {
	Waiting, Running int
	Retrying         int
	Dead             int
	OldestWaiting    time.Duration
}

// InboxStateKey is the attribute of doubletick.inbox.deliveries: waiting,
// running, retrying or dead.
const InboxStateKey = attribute.Key("doubletick.inbox.state")

// ObserveInbox reports an inbox's counts each time metrics are collected,
// read with read: doubletick.inbox.deliveries (by doubletick.inbox.state)
// and doubletick.inbox.oldest_waiting (seconds). Each collection runs one
// read, which queries the inbox's database: collect every few seconds, not
// more often.
func (t *Telemetry) ObserveInbox(read func(context.Context) (InboxCounts, error)) error {
	deliveries, err := t.meter.Int64ObservableGauge("doubletick.inbox.deliveries",
		metric.WithDescription("Webhook deliveries the inbox holds, by state."))
	if err != nil {
		return err
	}
	oldest, err := t.meter.Float64ObservableGauge("doubletick.inbox.oldest_waiting", metric.WithUnit("s"),
		metric.WithDescription("How long the delivery waiting longest for a worker has waited."))
	if err != nil {
		return err
	}
	states := [4]metric.ObserveOption{}
	for i, s := range []string{"waiting", "running", "retrying", "dead"} {
		states[i] = metric.WithAttributeSet(attribute.NewSet(InboxStateKey.String(s)))
	}
	_, err = t.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		c, err := read(ctx)
		if err != nil {
			return err
		}
		for i, n := range []int{c.Waiting, c.Running, c.Retrying, c.Dead} {
			o.ObserveInt64(deliveries, int64(n), states[i])
		}
		o.ObserveFloat64(oldest, c.OldestWaiting.Seconds())
		return nil
	}, deliveries, oldest)
	return err
}
