package doubletick

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/doubletick-go/doubletick/internal/pause"
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
	const maxSecs = int64(1<<63-1) / int64(time.Second)
	secs, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err == nil && secs <= 0:
		return 0
	case err == nil:
		return time.Duration(min(secs, maxSecs)) * time.Second
	case errors.Is(err, strconv.ErrRange) && v[0] != '-':
		// More seconds than an int64 holds: longer than any cap.
		return time.Duration(maxSecs) * time.Second
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

// Limiter decides when a request may be sent. The Client calls Wait before
// every attempt, with the call's route key (see [RouteCreateGroup]), and
// Pause when the server says that route is over its limit. Implementations
// must be safe for concurrent use. [PathLimiter] is the one the Client uses
// unless [WithLimiter] names another, for example one shared by every replica
// of a service.
type Limiter interface {
	// Wait blocks until a request under key may be sent. When the wait
	// could not end before ctx's deadline it returns at once an error that
	// matches ErrRateLimited; when ctx ends while waiting, ctx's error.
	Wait(ctx context.Context, key string) error
	// Pause holds back every request under key until the given time. A
	// pause never shortens one already in force. ctx bounds any I/O the
	// limiter does to share the pause (a shared limiter tells its store);
	// the Client passes its call's context without its cancellation, so
	// that a pause is shared even when the call that met the 429 ends.
	Pause(ctx context.Context, key string, until time.Time)
}

// RateLimit is a token bucket: Rate requests per second on average, and at
// most Burst at once. A Rate of rate.Inf means no limit.
type RateLimit struct {
	Rate  rate.Limit
	Burst int
}

// DefaultRateLimit is the limit the Client applies to each route unless told
// otherwise: 60 requests per 60 seconds, as a bucket of 60 that refills at one
// per second.
//
// DoubleTick says every group endpoint is rate limited per path but publishes
// no numbers for them; the only per-path figures it publishes are those of
// its Call API, whose create path allows 60 requests per 60 s. A server that
// answers 429 anyway pauses that route for every caller of the Client (see
// [Limiter]). Change it with [WithRateLimit] and [WithPathRateLimit].
func DefaultRateLimit() RateLimit { return RateLimit{Rate: 1, Burst: 60} }

// DefaultRouteLimits returns the limits of the routes for which DoubleTick
// publishes a number, each the default of its route. Every other route gets
// [DefaultRateLimit]: the group API says only that it is "subject to
// path-based rate limiting", with no numbers
// (https://docs.doubletick.io/reference/whatsapp-group-public-api).
func DefaultRouteLimits() map[string]RateLimit {
	return map[string]RateLimit{
		// "Rate limited to 1 request per second, per organisation."
		// (https://docs.doubletick.io/reference/get-message-status)
		RouteGetMessageStatus: {Rate: 1, Burst: 1},
		// "60 requests/hour per organization and at most 1 successful
		// update per channel per hour": a bucket of 60 refilling at 60 an
		// hour, as DefaultRateLimit reads "60 per 60 s"; the per-channel
		// limit is the server's to answer
		// (https://docs.doubletick.io/reference/update-channel-details).
		RouteUpdateChannel: {Rate: 60.0 / 3600, Burst: 60},
		// "Rate limit: 60 requests per minute per organization." on each
		// notes page (https://docs.doubletick.io/reference/create-note): the
		// SDK's default too, written here so that a change of WithRateLimit
		// leaves them as DoubleTick states them.
		RouteCreateNote: {Rate: 1, Burst: 60},
		RouteListNotes:  {Rate: 1, Burst: 60},
		RouteGetNote:    {Rate: 1, Burst: 60},
		RouteUpdateNote: {Rate: 1, Burst: 60},
		RouteDeleteNote: {Rate: 1, Burst: 60},
	}
}

// DefaultMaxPaths bounds how many routes a [PathLimiter] keeps state for.
const DefaultMaxPaths = 16384

// numShards spreads the routes over independently locked maps.
const numShards = 32

// PathLimiterConfig configures a [PathLimiter].
type PathLimiterConfig struct {
	// Default applies to every route without an entry in Routes.
	Default RateLimit
	// Routes sets the limit of single routes, keyed like
	// [RouteCreateGroup]: the method, a space, and the path without query.
	Routes map[string]RateLimit
	// MaxPaths bounds the routes kept; 0 means DefaultMaxPaths.
	MaxPaths int
}

// PathLimiter keeps one token bucket per route, built on
// golang.org/x/time/rate. It is safe for concurrent use.
//
// Memory stays bounded whatever the routes: a bucket idle long enough to
// have refilled is dropped, since it is then the same as a new one; and past
// MaxPaths routes, the least recently used buckets are dropped even before
// that, which can only let a forgotten route send its burst again. The SDK's
// own routes are a few; only calls to arbitrary paths can reach the bound.
type PathLimiter struct {
	def         RateLimit
	routes      map[string]RateLimit // read-only after construction
	maxPerShard int
	now         func() time.Time
	sleep       func(context.Context, time.Duration) error // pause.Sleep; a test's clock
	seed        maphash.Seed
	shards      [numShards]limiterShard
}

type limiterShard struct {
	mu      sync.RWMutex
	buckets map[string]*bucket
}

type bucket struct {
	lim         *rate.Limiter
	refill      time.Duration // how long an idle bucket takes to fill up
	pausedUntil atomic.Int64  // Unix nanoseconds
	lastUsed    atomic.Int64  // Unix nanoseconds
}

// NewPathLimiter returns a PathLimiter, or an error naming the first limit
// that is not a usable token bucket.
func NewPathLimiter(cfg PathLimiterConfig) (*PathLimiter, error) {
	if err := checkRateLimit("Default", cfg.Default); err != nil {
		return nil, err
	}
	routes := make(map[string]RateLimit, len(cfg.Routes))
	for key, l := range cfg.Routes {
		if err := checkRouteKey(key); err != nil {
			return nil, err
		}
		if err := checkRateLimit(key, l); err != nil {
			return nil, err
		}
		routes[boundedKey(key)] = l
	}
	if cfg.MaxPaths < 0 {
		return nil, fmt.Errorf("doubletick: PathLimiter: negative MaxPaths %d", cfg.MaxPaths)
	}
	maxPaths := cfg.MaxPaths
	if maxPaths == 0 {
		maxPaths = DefaultMaxPaths
	}
	l := &PathLimiter{
		def:         cfg.Default,
		routes:      routes,
		maxPerShard: max(1, maxPaths/numShards),
		now:         time.Now,
		sleep:       pause.Sleep,
		seed:        maphash.MakeSeed(),
	}
	return l, nil
}

// checkRouteKey refuses a route key that is not a method and a path, such
// as "/whatsapp/wa-group/create" without its method: it would be accepted
// and limit nothing.
func checkRouteKey(key string) error {
	method, path, ok := strings.Cut(key, " ")
	if !ok || !validHeaderName(method) || method != strings.ToUpper(method) ||
		!strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#") {
		return fmt.Errorf("doubletick: route %q: want an upper-case method, a space and a path without query, e.g. %q", key, RouteCreateGroup)
	}
	return nil
}

func checkRateLimit(name string, l RateLimit) error {
	switch {
	case l.Rate == rate.Inf:
		return nil
	case math.IsNaN(float64(l.Rate)) || l.Rate <= 0:
		return fmt.Errorf("doubletick: rate limit %s: rate must be positive or rate.Inf, got %v", name, float64(l.Rate))
	case l.Burst < 1:
		return fmt.Errorf("doubletick: rate limit %s: burst must be at least 1, got %d", name, l.Burst)
	}
	return nil
}

// Wait blocks until a request under key may be sent; see [Limiter].
//
// A caller first waits out any pause, then takes a token, waiting for it
// if it is not due yet; a pause that begins while it waits holds it back
// too, but the token stays its own: it is not thrown away for another.
func (l *PathLimiter) Wait(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b := l.bucket(key)
	if err := l.waitPause(ctx, b); err != nil {
		return err
	}
	now := l.now()
	b.touch(now)
	if b.lim.AllowN(now, 1) { // a token is there: the usual case, no reservation
		return l.waitPause(ctx, b)
	}
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		if err := l.waitFor(ctx, d); err != nil {
			r.CancelAt(l.now())
			return err
		}
	}
	return l.waitPause(ctx, b)
}

// waitPause waits until b is not paused, however often the pause is
// extended meanwhile. A route never paused costs no clock read.
func (l *PathLimiter) waitPause(ctx context.Context, b *bucket) error {
	for {
		until := b.pausedUntil.Load()
		if until == 0 {
			return nil
		}
		now := l.now().UnixNano()
		if now >= until {
			return nil
		}
		if err := l.waitFor(ctx, time.Duration(until-now)); err != nil {
			return err
		}
	}
}

// Pause holds back every request under key until the given time.
func (l *PathLimiter) Pause(_ context.Context, key string, until time.Time) {
	pause.Extend(&l.bucket(key).pausedUntil, until.UnixNano())
}

// paths returns how many routes the limiter holds state for.
func (l *PathLimiter) paths() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.RLock()
		n += len(s.buckets)
		s.mu.RUnlock()
	}
	return n
}

// MaxRouteKeyLength is the longest route key a [PathLimiter] keeps as it
// is; a longer one (a call to an arbitrary long path through Client.Do) is
// kept as its first bytes and a SHA-256 of the whole, so that the memory of
// each route is bounded as well as their number.
const MaxRouteKeyLength = 256

// boundedKey returns key, or its bounded form when it is too long.
func boundedKey(key string) string {
	if len(key) <= MaxRouteKeyLength {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return key[:MaxRouteKeyLength-1-2*len(sum)] + "#" + hex.EncodeToString(sum[:])
}

// bucket returns the bucket of key, creating it when needed.
func (l *PathLimiter) bucket(key string) *bucket {
	key = boundedKey(key)
	s := &l.shards[maphash.String(l.seed, key)%numShards]
	s.mu.RLock()
	b := s.buckets[key]
	s.mu.RUnlock()
	if b != nil {
		return b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b = s.buckets[key]; b != nil {
		return b
	}
	if len(s.buckets) >= l.maxPerShard {
		l.evict(s)
	}
	limit, ok := l.routes[key]
	if !ok {
		limit = l.def
	}
	b = &bucket{lim: rate.NewLimiter(limit.Rate, limit.Burst)}
	if limit.Rate != rate.Inf {
		b.refill = time.Duration(float64(limit.Burst) / float64(limit.Rate) * float64(time.Second))
	}
	b.lastUsed.Store(l.now().UnixNano())
	if s.buckets == nil { // made on first use: most shards of most limiters stay empty
		s.buckets = make(map[string]*bucket)
	}
	s.buckets[strings.Clone(key)] = b
	return b
}

// evict makes room in a full shard. It drops the buckets that have refilled
// and are not paused; if that frees less than an eighth of the shard, it
// drops the least recently used ones as well. The caller holds s.mu.
func (l *PathLimiter) evict(s *limiterShard) {
	now := l.now().UnixNano()
	for key, b := range s.buckets {
		if now-b.lastUsed.Load() >= int64(b.refill) && b.pausedUntil.Load() <= now {
			delete(s.buckets, key)
		}
	}
	target := l.maxPerShard - max(1, l.maxPerShard/8)
	if len(s.buckets) <= target {
		return
	}
	keys := make([]string, 0, len(s.buckets))
	for key := range s.buckets {
		keys = append(keys, key)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Compare(s.buckets[a].lastUsed.Load(), s.buckets[b].lastUsed.Load())
	})
	for _, key := range keys[:len(keys)-target] {
		delete(s.buckets, key)
	}
}

// touch records a use, writing only when the clock has moved on noticeably so
// that concurrent callers of one route do not all write the same word.
func (b *bucket) touch(now time.Time) {
	n := now.UnixNano()
	if n-b.lastUsed.Load() > int64(time.Millisecond) {
		b.lastUsed.Store(n)
	}
}

// waitFor waits d for a token or a pause to end. A wait that would outlast
// ctx's deadline is refused at once with a *RateLimitError.
func (l *PathLimiter) waitFor(ctx context.Context, d time.Duration) error {
	if !pause.Fits(ctx, d) {
		return &RateLimitError{RetryAfter: d}
	}
	return l.sleep(ctx, d)
}
