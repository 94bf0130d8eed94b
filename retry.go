package doubletick

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// Retry defaults. See [WithMaxAttempts], [WithBackoff] and
// [WithMaxRetryAfter].
const (
	DefaultMaxAttempts   = 4
	DefaultBackoffBase   = 500 * time.Millisecond
	DefaultBackoffMax    = 30 * time.Second
	DefaultMaxRetryAfter = time.Minute
)

// Attempt describes a failed attempt of a call, for a [RetryPolicy].
type Attempt struct {
	// Method and Route name the call; Route has no query string.
	Method string
	Route  string
	// Number counts the attempts so far: 1 after the first.
	Number int
	// Response is what the server answered; nil when no answer arrived.
	Response *Response
	// Err is the attempt's error.
	Err error
	// Sent is false only when the request certainly never reached the
	// server: the connection to it could not be made.
	Sent bool
	// Repeatable is true when sending the request again cannot repeat its
	// effect: its method is GET, HEAD, OPTIONS, PUT or DELETE, or the client
	// was built with [WithRetryNonIdempotent].
	Repeatable bool
}

// RetryPolicy decides whether the Client tries a failed call again. It is
// asked only while attempts remain and the call's context is alive; the wait
// before the next attempt comes from the [Backoff], or from the server's
// Retry-After when it sent one.
type RetryPolicy func(a *Attempt) bool

// DefaultRetryPolicy retries only what cannot create anything twice:
//
//   - a 429, and a 503 that carries Retry-After: the server refused the
//     request without acting on it (but not a 429 of a route whose
//     documented limit is counted in hours, [RouteUpdateChannel]: no wait
//     within a call outlasts it);
//   - a connection that could not be made: nothing reached the server;
//   - for repeatable calls (see [Attempt.Repeatable]) also any other
//     transport failure and any 5xx but 501.
//
// Create is a POST, and DoubleTick documents no idempotency key: a Create
// that timed out after it was sent, or that a 500 answered, may have created
// the group, and sending it again could create a second one. Such failures
// are returned to you unless you opt in with [WithRetryNonIdempotent].
func DefaultRetryPolicy(a *Attempt) bool {
	if a.Response == nil {
		return !a.Sent || a.Repeatable
	}
	switch status := a.Response.StatusCode; {
	case status == http.StatusTooManyRequests:
		return a.Method+" "+a.Route != RouteUpdateChannel
	case status == http.StatusServiceUnavailable && a.Response.Rate.RetryAfter > 0:
		return true
	case status >= 500 && status != http.StatusNotImplemented:
		return a.Repeatable
	}
	return false
}

// Backoff returns how long to wait before retry n (1 for the first retry)
// when the server did not say how long.
type Backoff func(n int) time.Duration

// ExponentialBackoff returns a Backoff with full jitter: before retry n it
// waits a random time between 0 and min(max, base·2^(n-1)), so that clients
// that failed together do not retry together.
func ExponentialBackoff(base, max time.Duration) Backoff {
	return func(n int) time.Duration {
		ceiling := max
		if n >= 1 && n < 63 && base <= max>>(n-1) {
			ceiling = base << (n - 1)
		}
		if ceiling <= 0 {
			return 0
		}
		return rand.N(ceiling + 1)
	}
}

// repeatableMethod reports whether sending method twice has the effect of
// sending it once (RFC 9110 §9.2.2).
func repeatableMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// certainlyNotSent reports whether err means the request never left: the
// connection (or the one to a proxy) could not be made, or the host not
// resolved.
func certainlyNotSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect") {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}
