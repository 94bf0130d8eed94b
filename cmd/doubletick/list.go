package main

import (
	"context"
	"fmt"
	"iter"
	"math"
	"sync"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/spf13/cobra"
	"golang.org/x/time/rate"
)

// listFlags are the flags of a list command that pages: how much to list
// and how fast.
type listFlags struct {
	all   bool
	limit int
	rate  float64
}

func (f *listFlags) add(cmd *cobra.Command, noun string) {
	fl := cmd.Flags()
	fl.BoolVar(&f.all, "all", false, "list every page")
	fl.IntVar(&f.limit, "limit", 0, "list at most this many "+noun+", over as many pages as it takes")
	fl.Float64Var(&f.rate, "rate", 0, "requests per second while paging (default: the client's limit, "+
		"60 at once and then 1/s; DoubleTick publishes no limit for the group API, a 429 is waited out)")
}

// paging reports whether the command lists more than the one page asked for.
func (f *listFlags) paging() bool { return f.all || f.limit > 0 }

// check refuses values that make no sense.
func (f *listFlags) check() error {
	switch {
	case f.limit < 0:
		return usagef("--limit %d: want 1 or more", f.limit)
	case f.rate < 0 || math.IsNaN(f.rate) || math.IsInf(f.rate, 0):
		return usagef("--rate %v: want a positive number of requests per second", f.rate)
	}
	return nil
}

// options returns the client options for route: the pace --rate asks.
func (f *listFlags) options(route string) []doubletick.Option {
	if f.rate == 0 {
		return nil
	}
	return []doubletick.Option{doubletick.WithPathRateLimit(route,
		doubletick.RateLimit{Rate: rate.Limit(f.rate), Burst: max(1, int(f.rate))})}
}

// collect runs items to the end, or until --limit of them are kept,
// appending to out each that keep keeps (every one when keep is nil). On a
// terminal it shows how many it has so far, on standard error.
func collect[T any](ctx context.Context, a *app, f *listFlags, noun string, items iter.Seq2[*T, error], keep func(*T) bool, out *[]T) error {
	p := a.newCounter(noun)
	defer p.finish()
	for item, err := range items {
		if err != nil {
			return err
		}
		if keep != nil && !keep(item) {
			continue
		}
		*out = append(*out, *item)
		p.add(1)
		if f.limit > 0 && len(*out) >= f.limit {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// counter shows a running count on a terminal: "listing groups: 1200".
type counter struct {
	mu    sync.Mutex
	app   *app
	noun  string
	n     int
	shown time.Time
}

// newCounter returns a counter that shows on standard error when it is a
// terminal, and shows nothing otherwise.
func (a *app) newCounter(noun string) *counter {
	if !a.stderrIsTerminal {
		return nil
	}
	return &counter{app: a, noun: noun}
}

// counterEvery is how often the count is redrawn.
const counterEvery = 100 * time.Millisecond

func (c *counter) add(n int) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += n
	if now := time.Now(); now.Sub(c.shown) >= counterEvery {
		c.shown = now
		fmt.Fprintf(c.app.stderr, "\rlisting %s: %d", c.noun, c.n)
	}
}

// finish ends the line the count was drawn on.
func (c *counter) finish() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.shown.IsZero() {
		fmt.Fprintf(c.app.stderr, "\rlisting %s: %d, done\n", c.noun, c.n)
	}
}
