package doubletick

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate is the rate-limit information a response carried.
//
// DoubleTick documents that every group endpoint is rate limited per path but
// documents no rate-limit headers. Its API is built on NestJS, whose
// throttler sends X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset, and Retry-After on a 429; the IETF draft names
// RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset. Whichever of these
// the server sends is read here; anything it does not send is left unknown.
type Rate struct {
	// Limit is the number of requests allowed per window; 0 when not sent.
	Limit int
	// Remaining is the number of requests left in the window; -1 when not
	// sent.
	Remaining int
	// Reset is when the window resets; the zero time when not sent.
	// A reset header of at least 1e9 is read as a Unix time, a smaller one
	// as seconds from now.
	Reset time.Time
	// RetryAfter is the wait the Retry-After header asked for, in either of
	// its forms (seconds, or an HTTP date measured against the response's
	// Date header); 0 when not sent or not parseable.
	RetryAfter time.Duration
}

// parseRate reads the rate-limit headers of h, taking now as the time the
// response arrived.
func parseRate(h http.Header, now time.Time) Rate {
	r := Rate{Remaining: -1}
	if v, ok := headerInt(h, "X-Ratelimit-Limit", "Ratelimit-Limit"); ok && v > 0 {
		r.Limit = int(v)
	}
	if v, ok := headerInt(h, "X-Ratelimit-Remaining", "Ratelimit-Remaining"); ok {
		r.Remaining = int(v)
	}
	if v, ok := headerInt(h, "X-Ratelimit-Reset", "Ratelimit-Reset"); ok {
		if v >= 1e9 {
			r.Reset = time.Unix(v, 0)
		} else {
			r.Reset = now.Add(time.Duration(v) * time.Second)
		}
	}
	r.RetryAfter = parseRetryAfter(h, now)
	return r
}

// headerInt returns the first of the named headers that holds a non-negative
// integer.
func headerInt(h http.Header, names ...string) (int64, bool) {
	for _, name := range names {
		vs := h[name]
		if len(vs) == 0 {
			continue
		}
		// Some servers list one value per policy; the first is the binding one.
		v := strings.TrimSpace(vs[0])
		if i := strings.IndexByte(v, ','); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			return n, true
		}
	}
	return 0, false
}

// parseRetryAfter reads Retry-After as delay-seconds or as an HTTP date. A
// date is measured against the response's own Date header when it has one,
// so that a skewed local clock does not stretch or shrink the wait.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second
	}
	when, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date
	}
	if d := when.Sub(now); d > 0 {
		return d
	}
	return 0
}
