package inbox

import "github.com/riverqueue/river"

// DefaultRiverConfig is the River configuration of an Inbox made without
// options, without its workers and queues: what the benchmarks give River's
// own worker, so that both sides fetch alike.
func DefaultRiverConfig() *river.Config {
	c := defaultConfig()
	c.work = false
	return riverConfig(&c)
}
