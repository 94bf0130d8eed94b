package redislimit_test

import (
	"context"
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

// A connector serving many organisations gives each its own budget, shared
// by every replica: one Limiter per organisation, the organisation in its
// key prefix. keys is the application's (a secrets manager, say); the
// organisation IDs are the application's too, and must not hold "{" or
// "}" (Redis Cluster hash tags).
func ExampleNew_perOrganisation() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	keys := func(ctx context.Context, org string) (string, error) {
		return os.Getenv("DOUBLETICK_API_KEY_" + org), nil
	}
	clients, err := doubletick.NewOrgClients(keys,
		doubletick.WithOrgClientOptions(func(org string) ([]doubletick.Option, error) {
			lim, err := redislimit.New(rdb, redislimit.WithPrefix(redislimit.DefaultPrefix+org+":"))
			if err != nil {
				return nil, err
			}
			return []doubletick.Option{doubletick.WithLimiter(lim)}, nil
		}))
	if err != nil {
		log.Fatal(err)
	}
	acme, err := clients.Client(context.Background(), "acme")
	if err != nil {
		log.Fatal(err)
	}
	_ = acme // acme.Groups.Create(ctx, …) spends acme's budget only
}
