package doubletick_test

import (
	"context"
	"fmt"
	"testing"

	"golang.org/x/time/rate"

	"github.com/doubletick-go/doubletick"
)

// BenchmarkLimiter compares the per-route limiter's Wait with a bare
// rate.Limiter's Wait (and Allow) in one run. The rates are high enough that no call waits, so
// this measures the bookkeeping alone:
//
//	go test -run '^$' -bench Limiter -benchmem -count 6
func BenchmarkLimiter(b *testing.B) {
	const r, burst = 1e12, 1 << 30
	ctx := context.Background()

	b.Run("bare-Wait/serial", func(b *testing.B) {
		lim := rate.NewLimiter(r, burst)
		b.ReportAllocs()
		for b.Loop() {
			if err := lim.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare-Wait/parallel", func(b *testing.B) {
		lim := rate.NewLimiter(r, burst)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := lim.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("bare-Allow/serial", func(b *testing.B) {
		lim := rate.NewLimiter(r, burst)
		b.ReportAllocs()
		for b.Loop() {
			if !lim.Allow() {
				b.Fatal("refused")
			}
		}
	})
	b.Run("bare-Allow/parallel", func(b *testing.B) {
		lim := rate.NewLimiter(r, burst)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !lim.Allow() {
					b.Fatal("refused")
				}
			}
		})
	})
	for _, paths := range []int{1, 100, 10_000} {
		keys := make([]string, paths)
		for i := range keys {
			keys[i] = fmt.Sprintf("GET /whatsapp/wa-group/custom-%d", i)
		}
		newLimiter := func(b *testing.B) *doubletick.PathLimiter {
			l, err := doubletick.NewPathLimiter(doubletick.PathLimiterConfig{Default: doubletick.RateLimit{Rate: r, Burst: burst}})
			if err != nil {
				b.Fatal(err)
			}
			for _, k := range keys { // steady state: every route has its bucket
				_ = l.Wait(ctx, k)
			}
			return l
		}
		b.Run(fmt.Sprintf("paths-%d/serial", paths), func(b *testing.B) {
			l := newLimiter(b)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := l.Wait(ctx, keys[i%paths]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("paths-%d/parallel", paths), func(b *testing.B) {
			l := newLimiter(b)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if err := l.Wait(ctx, keys[i%paths]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}
