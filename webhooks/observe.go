package webhooks

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Observer sees what a [Handler] does with each delivery, for metrics and
// traces, as the client's CallObserver does for calls: the verdict, the
// reason of a refusal, how long the callbacks took. An adapter turns these
// into spans and metrics (the otel module does so for OpenTelemetry).
//
// It is told nothing personal: event types, statuses, verdicts, short
// reasons, durations and organisation IDs (yours); never a group ID, phone, name, message text, body
// or secret.
//
// Every field may be nil. The functions run on the goroutine of the
// delivery: they must be fast and safe for concurrent use.
type Observer struct {
	// Start is called when ServeHTTP begins a delivery. The context it
	// returns is the request's from then on, the callbacks' included (a
	// tracer starts a span there); nil keeps ctx.
	Start func(ctx context.Context) context.Context
	// Delivery is called once a delivery is answered, by ServeHTTP or, for a
	// refusal, by [Handler.Refuse].
	Delivery func(ctx context.Context, d DeliveryInfo)
	// Callbacks is called after an event's callbacks ran, by
	// [Handler.Dispatch] (so for the inbox's workers too).
	Callbacks func(ctx context.Context, c CallbackInfo)
}

// The verdicts of a delivery.
const (
	VerdictHandled   = "handled"   // its callbacks ran and returned nil: 200
	VerdictDuplicate = "duplicate" // its event was handled before: 200, nothing run
	VerdictRefused   = "refused"   // see Reason: 4xx, nothing run
	VerdictFailed    = "failed"    // a callback or the Deduplicator failed: 500
	VerdictInFlight  = "in_flight" // another delivery of its event still runs: 503
)

// DeliveryInfo is what became of one delivery.
type DeliveryInfo struct {
	// EventType is the event's type, "" when it was refused before it was
	// read, and TypeUnknownToObserver for a type this package does not
	// know (see [ObservedType]: a metric keyed by type keeps a bounded
	// number of series).
	EventType Type
	// Status is the answer's status code.
	Status int
	// Verdict is one of the Verdict constants.
	Verdict string
	// Reason says why a delivery was refused: "method" (405), "too_large"
	// (413), "unauthorized" (401), "media_type" (415), "malformed" (400)
	// or "unknown_org" (404); "" otherwise.
	Reason string
	// Duration runs from the start of the delivery to its answer, for
	// ServeHTTP; 0 from Refuse, which does not see the start.
	Duration time.Duration
	// Org is the ID of the organisation the delivery was addressed to, for
	// a Handler of many ([NewOrgHandler]) once it knew it; "" otherwise.
	// There may be thousands: an adapter adds it to a metric only when
	// asked, and bounds its values.
	Org string
}

// CallbackInfo is how an event's callbacks went.
type CallbackInfo struct {
	// EventType is the event's type, as in [DeliveryInfo].
	EventType Type
	// Duration is how long they ran, together.
	Duration time.Duration
	// ErrorType is "" when every callback returned nil, "error" when one
	// returned an error, "panic" when one panicked.
	ErrorType string
	// Org is the event's organisation ([OrgFromContext]), as in
	// [DeliveryInfo].
	Org string
}

// WithObserver makes the handler report each delivery to o.
func WithObserver(o Observer) HandlerOption {
	return func(h *Handler) error {
		h.observer = o
		return nil
	}
}

// TypeUnknownToObserver is the EventType an [Observer] is told for an
// *[Unknown] event.
const TypeUnknownToObserver Type = "unknown"

// ObservedType is the type an observer is told of ev: its Type, or
// TypeUnknownToObserver for an *[Unknown] event, whatever its payload says.
// The inbox's Observer uses it too.
func ObservedType(ev Event) Type {
	if _, unknown := ev.(*Unknown); unknown {
		return TypeUnknownToObserver
	}
	return ev.Type()
}

// CallbackErrorType classifies what [Handler.Dispatch] returned, as
// [CallbackInfo.ErrorType] does: "" for nil, "panic" for a *[PanicError],
// "error" otherwise.
func CallbackErrorType(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.As(err, new(*PanicError)):
		return "panic"
	}
	return "error"
}

// refusalReason names the refusal of status.
func refusalReason(status int) string {
	switch status {
	case http.StatusMethodNotAllowed:
		return "method"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusUnsupportedMediaType:
		return "media_type"
	case http.StatusBadRequest:
		return "malformed"
	case http.StatusNotFound:
		return "unknown_org"
	}
	return "other"
}
