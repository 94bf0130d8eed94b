// Package redislimit is a doubletick.Limiter whose budget lives in Redis,
// so that every replica of a service shares one limit per route.
//
// DoubleTick limits each path per account (or key; its docs do not say
// which), not per process. With N replicas, each holding the SDK's default
// per-process [doubletick.PathLimiter], the account may see N times the
// intended rate. A [Limiter] keeps each route's token bucket in Redis as a
// GCRA (generic cell rate algorithm) state: one timestamp per route, read and
// advanced by a Lua script on Redis's own clock, so replicas' clocks do not
// matter. Each request costs one round trip: the script reserves the
// request's send time and the caller sleeps until then, instead of polling
// Redis while it waits. A 429's pause reaches every replica.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	lim, err := redislimit.New(rdb, redislimit.WithRateLimit(doubletick.RateLimit{Rate: 50, Burst: 10}))
//	...
//	c, err := doubletick.NewClient(key, doubletick.WithLimiter(lim))
//
// When Redis cannot be reached, a Limiter by default fails open to a local
// limiter with the same limits per process (see [WithFailOpen]), so the
// service keeps working and each replica stays within the limit on its own;
// [WithFailClosed] refuses requests instead.
package redislimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/redislimit/internal/pause"
)

// ErrUnavailable matches the error Wait returns when Redis cannot be reached
// and the Limiter fails closed. Nothing was sent.
var ErrUnavailable = errors.New("redislimit: Redis unavailable")

// Defaults of a Limiter.
const (
	// DefaultPrefix starts every key the Limiter writes.
	DefaultPrefix = "doubletick:"
	// DefaultTimeout bounds each Redis round trip.
	DefaultTimeout = 250 * time.Millisecond
	// DefaultRetryRedisAfter is how long a Limiter that found Redis
	// unreachable goes without it before trying again.
	DefaultRetryRedisAfter = time.Second
)

// Limiter is a [doubletick.Limiter] shared through Redis. It is safe for
// concurrent use.
type Limiter struct {
	rdb        redis.UniversalClient
	prefix     string
	def        doubletick.RateLimit
	routes     map[string]doubletick.RateLimit
	failClosed bool
	fallback   doubletick.Limiter
	timeout    time.Duration
	retryAfter time.Duration
	log        *slog.Logger

	downUntil  atomic.Int64 // Unix nanoseconds: Redis is skipped until then
	pauses     sync.Map     // route → *atomic.Int64 (Unix nanoseconds)
	pauseCalls atomic.Int64 // pauses recorded, to prune the expired now and then
}

// pruneEvery is how many pauses are recorded between two prunings of the
// expired ones, so that the map stays as small as the routes paused now.
const pruneEvery = 1024

// Option configures a Limiter.
type Option func(*Limiter) error

// WithRateLimit sets the limit of every route without its own (see
// [WithPathRateLimit]); by default [doubletick.DefaultRateLimit]. It is the
// budget of all replicas together.
func WithRateLimit(l doubletick.RateLimit) Option {
	return func(lim *Limiter) error {
		lim.def = l
		return nil
	}
}

// WithPathRateLimit sets the limit of one route, keyed like
// [doubletick.RouteCreateGroup].
func WithPathRateLimit(route string, l doubletick.RateLimit) Option {
	return func(lim *Limiter) error {
		lim.routes[route] = l
		return nil
	}
}

// WithPrefix sets the prefix of every key the Limiter writes; by default
// [DefaultPrefix]. Replicas that share a budget must use the same one.
func WithPrefix(p string) Option {
	return func(lim *Limiter) error {
		lim.prefix = p
		return nil
	}
}

// WithFailOpen makes the Limiter, while Redis cannot be reached, use
// fallback instead, with no shared budget. This is the default, with a
// [doubletick.PathLimiter] of the Limiter's own limits in each process: with
// N replicas the account may then see up to N times the limit. Pass a
// limiter with a share of the limits to stay under it.
func WithFailOpen(fallback doubletick.Limiter) Option {
	return func(lim *Limiter) error {
		if fallback == nil {
			return errors.New("redislimit: WithFailOpen: nil fallback")
		}
		lim.fallback, lim.failClosed = fallback, false
		return nil
	}
}

// WithFailClosed makes Wait fail with an error matching [ErrUnavailable],
// sending nothing, while Redis cannot be reached.
func WithFailClosed() Option {
	return func(lim *Limiter) error {
		lim.fallback, lim.failClosed = nil, true
		return nil
	}
}

// WithTimeout bounds each Redis round trip; by default [DefaultTimeout].
// A round trip that takes longer counts as Redis being unreachable.
func WithTimeout(d time.Duration) Option {
	return func(lim *Limiter) error {
		if d <= 0 {
			return fmt.Errorf("redislimit: WithTimeout: need a positive duration, got %v", d)
		}
		lim.timeout = d
		return nil
	}
}

// WithRetryRedisAfter sets how long the Limiter goes without Redis after
// finding it unreachable, so that a dead Redis costs one timeout per
// period, not one per request; by default [DefaultRetryRedisAfter].
func WithRetryRedisAfter(d time.Duration) Option {
	return func(lim *Limiter) error {
		if d < 0 {
			return fmt.Errorf("redislimit: WithRetryRedisAfter: negative duration %v", d)
		}
		lim.retryAfter = d
		return nil
	}
}

// WithLogger sets where the Limiter logs that Redis became unreachable or
// came back; by default, nowhere.
func WithLogger(l *slog.Logger) Option {
	return func(lim *Limiter) error {
		if l == nil {
			return errors.New("redislimit: WithLogger: nil logger")
		}
		lim.log = l
		return nil
	}
}

// New returns a Limiter that keeps its budget in rdb, a *redis.Client,
// *redis.ClusterClient or *redis.Ring.
func New(rdb redis.UniversalClient, opts ...Option) (*Limiter, error) {
	if rdb == nil {
		return nil, errors.New("redislimit: nil Redis client")
	}
	lim := &Limiter{
		rdb:        rdb,
		prefix:     DefaultPrefix,
		def:        doubletick.DefaultRateLimit(),
		routes:     make(map[string]doubletick.RateLimit),
		timeout:    DefaultTimeout,
		retryAfter: DefaultRetryRedisAfter,
		log:        slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		if err := opt(lim); err != nil {
			return nil, err
		}
	}
	// The SDK's own limiter checks the limits, and is the default fallback.
	local, err := doubletick.NewPathLimiter(doubletick.PathLimiterConfig{Default: lim.def, Routes: lim.routes})
	if err != nil {
		return nil, fmt.Errorf("redislimit: %w", err)
	}
	if !lim.failClosed && lim.fallback == nil {
		lim.fallback = local
	}
	return lim, nil
}

// limit returns the limit of route.
func (l *Limiter) limit(route string) doubletick.RateLimit {
	if r, ok := l.routes[route]; ok {
		return r
	}
	return l.def
}

// Wait blocks until a request under route may be sent by any replica; see
// [doubletick.Limiter].
func (l *Limiter) Wait(ctx context.Context, route string) error {
	lim := l.limit(route)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d := l.localPause(route); d > 0 {
			if !pause.Fits(ctx, d) { // as the SDK's own limiter does
				return &doubletick.RateLimitError{RetryAfter: d}
			}
			if err := pause.Sleep(ctx, d); err != nil {
				return err
			}
			continue
		}
		if lim.Rate == rate.Inf {
			return nil
		}
		if time.Now().UnixNano() < l.downUntil.Load() {
			return l.unavailable(ctx, route, nil)
		}
		d, err := l.try(ctx, route, lim)
		var refused *doubletick.RateLimitError
		switch {
		case errors.As(err, &refused):
			return err
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			return l.unavailable(ctx, route, err)
		}
		if err := pause.Sleep(ctx, d); err != nil {
			l.giveBack(route, lim) // the caller left: its slot is another's
			return err
		}
		// A pause this process learned of while the caller slept holds it
		// back too; the reserved slot is then given back.
		if l.localPause(route) <= 0 {
			return nil
		}
		l.giveBack(route, lim)
	}
}

// try reserves a send time for one request under route in Redis, and
// returns how long to wait for it. A wait past ctx's deadline is refused,
// reserving nothing, with a *doubletick.RateLimitError.
func (l *Limiter) try(ctx context.Context, route string, lim doubletick.RateLimit) (time.Duration, error) {
	maxWait := int64(-1)
	if deadline, ok := ctx.Deadline(); ok {
		maxWait = max(0, time.Until(deadline).Microseconds())
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	res, err := reserve.Run(ctx, l.rdb, l.keys(route), interval(lim), lim.Burst, maxWait).Int64Slice()
	if err != nil {
		return 0, err
	}
	l.up()
	if len(res) != 2 {
		return 0, fmt.Errorf("redislimit: unexpected answer %v", res)
	}
	d := time.Duration(res[1]) * time.Microsecond
	if res[0] == 0 {
		return 0, &doubletick.RateLimitError{RetryAfter: d}
	}
	return max(d, 0), nil
}

// interval is the emission interval of lim in microseconds: one request
// per interval on average.
func interval(lim doubletick.RateLimit) string {
	return strconv.FormatFloat(float64(time.Second/time.Microsecond)/float64(lim.Rate), 'f', -1, 64)
}

// giveBack returns the slot of a caller that left before its reserved
// time, moving the route's TAT back one interval while it is ahead of
// now, as x/time/rate's Reservation.Cancel does. It is best effort: an
// error only leaves the slot unused.
func (l *Limiter) giveBack(route string, lim doubletick.RateLimit) {
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	defer cancel()
	if err := giveBack.Run(ctx, l.rdb, l.keys(route)[:1], interval(lim)).Err(); err != nil {
		l.log.Warn("redislimit: slot of a cancelled wait not given back", "route", route, "error", err)
	}
}

// luaNow starts each script: now, Redis's clock in microseconds. Scripts
// that write after reading the clock need effects replication, the default
// from Redis 5 on and asked for before.
const luaNow = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])`

// giveBack moves the TAT back one emission interval (ARGV[1]) when that
// leaves it ahead of now.
var giveBack = redis.NewScript(luaNow + `
local tat = tonumber(redis.call("GET", KEYS[1]) or "0") - tonumber(ARGV[1])
if tat >= now then
  redis.call("SET", KEYS[1], string.format("%.0f", tat), "PX", math.ceil((tat - now) / 1000) + 1000)
end
return 1`)

// keys are the route's GCRA state and pause, with a hash tag so that a
// Redis Cluster keeps both in one slot.
func (l *Limiter) keys(route string) []string {
	k := l.prefix + "{" + route + "}"
	return []string{k + ":tat", k + ":pause"}
}

// reserve is GCRA with reservations, on Redis's clock in microseconds.
// KEYS: the route's theoretical arrival time (TAT) and its pause end.
// ARGV: the emission interval, the burst, and the longest wait the caller
// accepts (-1: any). It returns {1, wait} having reserved a send time
// wait from now, or {0, wait} having reserved nothing because wait is too
// long. A pause moves "now" to its end, so at most a burst goes then.
var reserve = redis.NewScript(luaNow + `
local interval, burst, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local base = math.max(now, tonumber(redis.call("GET", KEYS[2]) or "0"))
local tat = math.max(base, tonumber(redis.call("GET", KEYS[1]) or "0")) + interval
local wait = math.max(base, tat - burst * interval) - now
if max_wait >= 0 and wait > max_wait then
  return {0, math.floor(wait)}
end
redis.call("SET", KEYS[1], string.format("%.0f", tat), "PX", math.ceil((tat - now) / 1000) + 1000)
return {1, math.floor(wait)}`)

// unavailable answers Wait while Redis cannot be reached: it notes the
// outage, then fails closed or hands the wait to the fallback.
func (l *Limiter) unavailable(ctx context.Context, route string, cause error) error {
	if cause != nil {
		until := time.Now().Add(l.retryAfter).UnixNano()
		if old := l.downUntil.Swap(until); old == 0 {
			l.log.WarnContext(ctx, "redislimit: Redis unreachable; "+l.mode(), "error", cause, "retry_in", l.retryAfter)
		}
	}
	if l.failClosed {
		if cause == nil {
			return fmt.Errorf("%w: not retried for %v after the last failure", ErrUnavailable, l.retryAfter)
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, cause)
	}
	return l.fallback.Wait(ctx, route)
}

func (l *Limiter) mode() string {
	if l.failClosed {
		return "failing closed"
	}
	return "failing open to the local limiter"
}

// up notes that Redis answered.
func (l *Limiter) up() {
	if l.downUntil.Load() != 0 && l.downUntil.Swap(0) != 0 {
		l.log.Info("redislimit: Redis reachable again; sharing the budget")
	}
}

// Pause holds back every request under route, in every replica, until the
// given time; see [doubletick.Limiter]. It tells Redis within the Limiter's
// timeout; if Redis cannot be reached, the pause holds in this process.
func (l *Limiter) Pause(ctx context.Context, route string, until time.Time) {
	l.pauseLocally(route, until)
	if l.fallback != nil {
		l.fallback.Pause(ctx, route, until)
	}
	d := time.Until(until)
	if d <= 0 || time.Now().UnixNano() < l.downUntil.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	if err := extendPause.Run(ctx, l.rdb, l.keys(route)[1:], d.Microseconds()).Err(); err != nil {
		l.log.Warn("redislimit: pause not shared", "route", route, "error", err)
	}
}

// extendPause makes the pause of a route end ARGV[1] microseconds from now
// on Redis's clock, unless it already ends later.
var extendPause = redis.NewScript(luaNow + `
local d = tonumber(ARGV[1])
local ends = now + d
if ends > tonumber(redis.call("GET", KEYS[1]) or "0") then
  redis.call("SET", KEYS[1], string.format("%.0f", ends), "PX", math.ceil(d / 1000) + 1)
end
return 1`)

// pauseLocally records a pause in this process, never shortening one, and
// now and then forgets the pauses that have ended.
func (l *Limiter) pauseLocally(route string, until time.Time) {
	v, _ := l.pauses.LoadOrStore(route, new(atomic.Int64))
	pause.Extend(v.(*atomic.Int64), until.UnixNano())
	if l.pauseCalls.Add(1)%pruneEvery == 0 {
		l.prunePauses()
	}
}

// prunePauses deletes the pauses that have ended. A pause extended while
// it is being deleted is put back, so none is lost.
func (l *Limiter) prunePauses() {
	now := time.Now().UnixNano()
	l.pauses.Range(func(key, v any) bool {
		p := v.(*atomic.Int64)
		if p.Load() > now || !l.pauses.CompareAndDelete(key, v) {
			return true
		}
		if until := p.Load(); until > now {
			back, _ := l.pauses.LoadOrStore(key, new(atomic.Int64))
			pause.Extend(back.(*atomic.Int64), until)
		}
		return true
	})
}

// pausedRoutes returns how many routes have a pause recorded.
func (l *Limiter) pausedRoutes() int {
	n := 0
	l.pauses.Range(func(any, any) bool { n++; return true })
	return n
}

// localPause returns how long the pause this process knows of for route
// has still to run.
func (l *Limiter) localPause(route string) time.Duration {
	v, ok := l.pauses.Load(route)
	if !ok {
		return 0
	}
	return time.Duration(v.(*atomic.Int64).Load() - time.Now().UnixNano())
}
