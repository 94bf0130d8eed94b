package redislimit_test

import (
	"context"
	"testing"

	"golang.org/x/time/rate"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/redislimit"
)

// The cost of a shared token, against a bare Redis round trip (PING) on the
// same connection pool: compare BenchmarkRedisLimiterWait with
// BenchmarkRedisPing.
func BenchmarkRedisLimiterWait(b *testing.B) {
	rdb := redisClient(b)
	lim, err := redislimit.New(rdb, redislimit.WithPrefix("doubletick-bench:"),
		redislimit.WithRateLimit(doubletick.RateLimit{Rate: rate.Limit(1e9), Burst: 1 << 30}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := lim.Wait(ctx, doubletick.RouteGetGroup); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedisPing(b *testing.B) {
	rdb := redisClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := rdb.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
	}
}
