package redislimit

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestExpiredPausesArePruned records 200,000 pauses that have ended on as
// many routes: the limiter keeps at most a pruning interval's worth, and a
// pause still running is never dropped.
func TestExpiredPausesArePruned(t *testing.T) {
	var l Limiter
	l.pauseLocally("GET /live", time.Now().Add(time.Hour))
	for i := range 200_000 {
		l.pauseLocally(fmt.Sprintf("GET /old/%d", i), time.Now().Add(-time.Second))
	}
	assert.LessOrEqual(t, l.pausedRoutes(), pruneEvery+1)
	assert.Greater(t, l.localPause("GET /live"), 59*time.Minute, "the running pause is kept")
}
