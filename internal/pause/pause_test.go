package pause

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFits(t *testing.T) {
	assert.True(t, Fits(context.Background(), time.Hour), "no deadline")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	assert.True(t, Fits(ctx, time.Second))
	assert.False(t, Fits(ctx, 2*time.Minute))
}

func TestSleep(t *testing.T) {
	start := time.Now()
	assert.NoError(t, Sleep(context.Background(), 20*time.Millisecond))
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.NoError(t, Sleep(ctx, 0), "nothing to wait for")
	start = time.Now()
	assert.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled)
	assert.Less(t, time.Since(start), time.Second)
}

func TestExtendNeverShortens(t *testing.T) {
	var until atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() { Extend(&until, int64(i)) })
	}
	wg.Wait()
	assert.Equal(t, int64(99), until.Load())
	Extend(&until, 5)
	assert.Equal(t, int64(99), until.Load())
}
