package bulk

import (
	"context"
	"testing"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestPacerLowersThePaceOncePer429Pause(t *testing.T) {
	p, err := NewPacer(doubletick.RateLimit{Rate: 100, Burst: 1})
	require.NoError(t, err)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	ctx := context.Background()

	p.Pause(ctx, doubletick.RouteCreateGroup, now.Add(time.Second))
	pace, lowered := p.Pace()
	assert.InDelta(t, 98, float64(pace), 1e-9)
	assert.Equal(t, 1, lowered)

	// The 429s of the other creates in flight: the same pause.
	p.Pause(ctx, doubletick.RouteCreateGroup, now.Add(1100*time.Millisecond))
	pace, lowered = p.Pace()
	assert.InDelta(t, 98, float64(pace), 1e-9)
	assert.Equal(t, 1, lowered)

	// Another route's 429 is not the pace's business.
	now = now.Add(2 * time.Second)
	p.Pause(ctx, doubletick.RouteGetGroup, now.Add(time.Second))
	_, lowered = p.Pace()
	assert.Equal(t, 1, lowered)

	// A new pause, once the first has ended: lower again, down to half.
	for range 100 {
		p.Pause(ctx, doubletick.RouteCreateGroup, now.Add(time.Second))
		now = now.Add(2 * time.Second)
	}
	pace, lowered = p.Pace()
	assert.GreaterOrEqual(t, float64(pace), 50.0)
	assert.Less(t, float64(pace), 50/(1-PaceStep))
	assert.Equal(t, 34, lowered, "100·0.98^34 ≈ 50.3 is the last pace at or above half")
}

func TestPacerHoldsCreatesThroughAPauseAndSpacesThemAfter(t *testing.T) {
	p, err := NewPacer(doubletick.RateLimit{Rate: rate.Inf})
	require.NoError(t, err)
	ctx := context.Background()
	until := time.Now().Add(150 * time.Millisecond)
	p.Pause(ctx, doubletick.RouteCreateGroup, until)

	require.NoError(t, p.Wait(ctx, doubletick.RouteCreateGroup))
	assert.False(t, time.Now().Before(until), "a create waits for the pause to end")
	require.NoError(t, p.Wait(ctx, doubletick.RouteGetGroup), "other routes are not paused")

	// A deadline the pace cannot meet: refused as rate limited, at once.
	slow, err := NewPacer(doubletick.RateLimit{Rate: 0.001, Burst: 1})
	require.NoError(t, err)
	require.NoError(t, slow.Wait(ctx, doubletick.RouteCreateGroup))
	short, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	assert.ErrorIs(t, slow.Wait(short, doubletick.RouteCreateGroup), doubletick.ErrRateLimited)
}
