package doubletick

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// CallObserver sees each API call a Client makes, for metrics and traces, in
// the spirit of net/http/httptrace: how long the route's limiter held it,
// each attempt's status and request ID, and whether it was retried. An
// adapter turns these into spans and metrics (the otel module does so for
// OpenTelemetry); the core depends on none.
//
// It is told nothing personal: the route key names the call by method and
// path template ("POST /whatsapp/wa-group/create"), never a group ID, phone,
// message text, query, body or secret. (A call through [Client.Do] is keyed
// by the path it was given, which may hold an ID of the caller's.)
//
// Every field may be nil. The functions run on the goroutine of the call,
// for every call of every goroutine: they must be fast and safe for
// concurrent use.
type CallObserver struct {
	// Start is called when a call begins, before the limiter's wait, with
	// the call's route key. The context it returns carries the call from
	// then on, into the limiter, the HTTP request and the other functions
	// (a tracer starts a span there); returning nil keeps ctx.
	Start func(ctx context.Context, route string) context.Context
	// LimiterWait is called after each wait of the route's limiter, before
	// each attempt, with how long it held the call.
	LimiterWait func(ctx context.Context, route string, waited time.Duration)
	// Attempt is called after each attempt.
	Attempt func(ctx context.Context, a AttemptInfo)
	// Done is called once when the call ends, successful or not.
	Done func(ctx context.Context, d CallInfo)
}

// AttemptInfo is what one attempt of a call did.
type AttemptInfo struct {
	// Route is the call's route key.
	Route string
	// Number counts the attempts: 1 for the first.
	Number int
	// StatusCode is the server's answer, 0 when none came.
	StatusCode int
	// RequestID is the answer's request ID, "" when it had none.
	RequestID string
	// Duration is the attempt's time on the wire: from sending the request
	// to its answer read (the limiter's wait is not in it).
	Duration time.Duration
	// ErrorType is "" when the attempt succeeded, else a short class of
	// its failure (see [CallInfo.ErrorType]).
	ErrorType string
	// Retry reports whether the call sends another attempt, after
	// RetryWait.
	Retry     bool
	RetryWait time.Duration
}

// CallInfo is what a whole call did.
type CallInfo struct {
	// Route is the call's route key.
	Route string
	// Attempts is how many attempts were sent, 0 when the call ended
	// before the first (its context ended in the limiter's wait).
	Attempts int
	// StatusCode is the last answer's status, 0 when none came.
	StatusCode int
	// Duration runs from Start to the end, limiter waits and retries
	// included.
	Duration time.Duration
	// ErrorType is "" for a successful call, else the class of its
	// failure, of low cardinality as OpenTelemetry's error.type asks: the
	// status code for an HTTP error answer ("429", "500"), "timeout" or
	// "canceled" when the context ended, "decode" for a 2xx answer that
	// could not be read, "transport" when no answer came.
	ErrorType string
}

// WithCallObserver makes the Client report each call to o.
func WithCallObserver(o CallObserver) Option {
	return func(s *settings) error {
		s.observer = o
		return nil
	}
}

// observedCall is one call as its CallObserver sees it: its methods call
// the observer's functions that are set, and read the clock only for
// those, so that a Client without an observer pays nothing for it.
type observedCall struct {
	obs      *CallObserver
	route    string
	start    time.Time
	attempts int
}

// begin starts observing a call of route, and returns the context the call
// runs in from then on.
func (o *CallObserver) begin(ctx context.Context, route string) (context.Context, observedCall) {
	if o.Start != nil {
		if started := o.Start(ctx, route); started != nil {
			ctx = started
		}
	}
	return ctx, observedCall{obs: o, route: route, start: observedNow(o.Done != nil)}
}

// observedNow is the time when observed, else the zero time.
func observedNow(observed bool) time.Time {
	if observed {
		return time.Now()
	}
	return time.Time{}
}

// limiterWait waits for the route's turn in l, and reports how long it
// held the call.
func (c *observedCall) limiterWait(ctx context.Context, l Limiter) error {
	start := observedNow(c.obs.LimiterWait != nil)
	err := l.Wait(ctx, c.route)
	if c.obs.LimiterWait != nil {
		c.obs.LimiterWait(ctx, c.route, time.Since(start))
	}
	return err
}

// sending counts attempt as sent, and returns what attempted needs of it.
func (c *observedCall) sending(attempt int) sendingAttempt {
	c.attempts = attempt
	return sendingAttempt{number: attempt, start: observedNow(c.obs.Attempt != nil)}
}

// sendingAttempt is an attempt being sent.
type sendingAttempt struct {
	number int
	start  time.Time
}

// attempted reports an attempt's outcome: its answer or error, and whether
// the call retries it after wait.
func (c *observedCall) attempted(ctx context.Context, a sendingAttempt, resp *Response, err error, retry bool, wait time.Duration) {
	if c.obs.Attempt == nil {
		return
	}
	info := AttemptInfo{Route: c.route, Number: a.number, Duration: time.Since(a.start), Retry: retry}
	if resp != nil {
		info.StatusCode, info.RequestID = resp.StatusCode, resp.RequestID
	}
	info.ErrorType = errorType(err, info.StatusCode)
	if retry {
		info.RetryWait = wait
	}
	c.obs.Attempt(ctx, info)
}

// done reports the call's end, and returns resp and err.
func (c *observedCall) done(ctx context.Context, resp *Response, err error) (*Response, error) {
	if c.obs.Done != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		c.obs.Done(ctx, CallInfo{Route: c.route, Attempts: c.attempts, StatusCode: status,
			Duration: time.Since(c.start), ErrorType: errorType(err, status)})
	}
	return resp, err
}

// errorType classifies a failed attempt or call; status is its answer's,
// 0 when none came.
func errorType(err error, status int) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case status >= 400:
		return strconv.Itoa(status)
	case status != 0:
		return "decode"
	}
	return "transport"
}
