package bulk

import (
	"context"
	"sync"
	"time"

	"github.com/doubletick-go/doubletick"
	"golang.org/x/time/rate"
)

// PaceStep is how much each pause the server asks for on the create route
// lowers an import's pace: 2%.
const PaceStep = 0.02

// Pacer is the client Limiter of an import. It paces creates at the rate it
// was given, and lowers that pace by PaceStep (down to half the rate) each
// time the server answers a create with 429. A token bucket paced at r lets
// up to r+1 requests into any second; against a server counting r per
// fixed window, one window in two or so gets the extra request, and its
// Retry-After (whole seconds) costs a second each time: an import paced at
// exactly the server's limit ran at half of it. A pace a little under the
// limit runs at the pace. The pauses themselves, and every other route, are
// left to the limiter it wraps.
//
// It is safe for concurrent use.
type Pacer struct {
	inner  doubletick.Limiter
	create *rate.Limiter
	floor  rate.Limit
	now    func() time.Time

	mu          sync.Mutex
	pausedUntil time.Time
	lowered     int
}

// NewPacer returns a Pacer for creates at limit, with the SDK's default
// limits for every other route.
func NewPacer(limit doubletick.RateLimit) (*Pacer, error) {
	routes := doubletick.DefaultRouteLimits()
	// The create route's pace is the Pacer's; the inner limiter keeps only
	// its pauses.
	routes[doubletick.RouteCreateGroup] = doubletick.RateLimit{Rate: rate.Inf}
	inner, err := doubletick.NewPathLimiter(doubletick.PathLimiterConfig{Default: doubletick.DefaultRateLimit(), Routes: routes})
	if err != nil {
		return nil, err
	}
	return &Pacer{inner: inner, create: rate.NewLimiter(limit.Rate, max(limit.Burst, 1)), floor: limit.Rate / 2, now: time.Now}, nil
}

// Wait waits for a pause on key to end and, for a create, for its turn at
// the pace. A create whose turn came during a pause waits for a new turn
// after it: the creates held back by a pause go out at the pace, not all at
// once when it ends.
func (p *Pacer) Wait(ctx context.Context, key string) error {
	if key != doubletick.RouteCreateGroup {
		return p.inner.Wait(ctx, key)
	}
	for {
		if err := p.inner.Wait(ctx, key); err != nil {
			return err
		}
		if err := p.create.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The wait would outlast ctx's deadline: nothing was sent.
			return &doubletick.RateLimitError{}
		}
		if !p.paused() {
			return nil
		}
	}
}

func (p *Pacer) paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.now().Before(p.pausedUntil)
}

// Pause holds back key until the given time; for a create that is not
// already paused, it also lowers the pace.
func (p *Pacer) Pause(ctx context.Context, key string, until time.Time) {
	p.inner.Pause(ctx, key, until)
	if key != doubletick.RouteCreateGroup {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// The 429s of creates that were in flight together are one event.
	alreadyPaused := p.now().Before(p.pausedUntil)
	if until.After(p.pausedUntil) {
		p.pausedUntil = until
	}
	if alreadyPaused {
		return
	}
	if lower := p.create.Limit() * (1 - PaceStep); lower >= p.floor {
		p.create.SetLimit(lower)
		p.lowered++
	}
}

// Resume takes into account an earlier run of the import whose last create
// was sent at lastSent: the bucket holds only what has refilled since, as
// if that run had spent it all, so that a run started again at once does
// not send a fresh burst on top of the last one's. A zero lastSent (no
// earlier run) leaves the bucket full.
func (p *Pacer) Resume(lastSent time.Time) {
	if lastSent.IsZero() {
		return
	}
	now := p.now()
	refilled := float64(p.create.Limit()) * now.Sub(lastSent).Seconds()
	if drain := p.create.Burst() - int(refilled); drain > 0 {
		p.create.ReserveN(now, min(drain, p.create.Burst()))
	}
}

// TimeFor returns how long n more creates take at the pace, the tokens in
// the bucket now counted: never less than the pace allows, whatever a
// burst made the rate so far look like.
func (p *Pacer) TimeFor(n int) time.Duration {
	tokens := max(p.create.TokensAt(p.now()), 0)
	need := float64(n) - tokens
	if need <= 0 || p.create.Limit() == rate.Inf {
		return 0
	}
	return time.Duration(need / float64(p.create.Limit()) * float64(time.Second))
}

// Pace returns the pace of creates now, and how many times a 429 lowered it.
func (p *Pacer) Pace() (rate.Limit, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.create.Limit(), p.lowered
}
