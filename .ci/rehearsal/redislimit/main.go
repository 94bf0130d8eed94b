// A program outside the repository that uses redislimit from its released
// module: one wait for a route, against the Redis server at
// DOUBLETICK_TEST_REDIS_ADDR.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/redislimit"
)

func main() {
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("DOUBLETICK_TEST_REDIS_ADDR")})
	defer rdb.Close()
	limiter, err := redislimit.New(rdb, redislimit.WithRateLimit(doubletick.RateLimit{Rate: 10, Burst: 1}))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := limiter.Wait(ctx, doubletick.RouteCreateGroup); err != nil {
		log.Fatal(err)
	}
	fmt.Println("redislimit with the SDK", doubletick.Version(), "waited for", doubletick.RouteCreateGroup)
}
