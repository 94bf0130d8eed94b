package redislimit_test

import (
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/redislimit"
)

// Every replica builds its Client the same way; together they send at
// most 50 requests a second on each route, 10 at once, and one more group
// creation every 2 seconds. While Redis is down, each replica falls back
// to a quarter of the budget on its own (four replicas).
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()

	shared := doubletick.RateLimit{Rate: 50, Burst: 10}
	create := doubletick.RateLimit{Rate: rate.Every(2 * time.Second), Burst: 1}
	local, err := doubletick.NewPathLimiter(doubletick.PathLimiterConfig{
		Default: doubletick.RateLimit{Rate: shared.Rate / 4, Burst: shared.Burst / 4},
		Routes:  map[string]doubletick.RateLimit{doubletick.RouteCreateGroup: {Rate: create.Rate / 4, Burst: 1}},
	})
	if err != nil {
		log.Fatal(err)
	}
	limiter, err := redislimit.New(rdb,
		redislimit.WithRateLimit(shared),
		redislimit.WithPathRateLimit(doubletick.RouteCreateGroup, create),
		redislimit.WithFailOpen(local),
	)
	if err != nil {
		log.Fatal(err)
	}
	client, err := doubletick.NewClient(os.Getenv("DOUBLETICK_API_KEY"), doubletick.WithLimiter(limiter))
	if err != nil {
		log.Fatal(err)
	}
	_ = client
}
