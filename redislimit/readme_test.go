package redislimit_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/redislimit"
	"github.com/doubletick-go/doubletick/redislimit/internal/readmetest"
)

// readmeClient is the README's snippet, compiled: running it needs Redis,
// which the other tests of this package use.
func readmeClient(key string) (*doubletick.Client, error) {
	// README:redislimit:begin
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	limiter, err := redislimit.New(rdb, redislimit.WithRateLimit(doubletick.RateLimit{Rate: 50, Burst: 10}))
	if err != nil {
		return nil, err
	}
	c, err := doubletick.NewClient(key, doubletick.WithLimiter(limiter))
	// README:redislimit:end
	return c, err
}

func TestREADMESnippetIsThisCode(t *testing.T) {
	readmetest.Check(t, "../README.md", "readme_test.go", "redislimit")
	_ = readmeClient
}
