package doubletick

import (
	"context"
	"fmt"
	"iter"
)

// paginate yields every item of the pages fetch returns, following the
// cursors it returns, from opts on. It stops when the caller breaks, when
// the server says no page follows, or with an error: fetch's, ctx's, or
// [ErrRepeatedCursor] when a cursor comes back a second time, so that a
// server that keeps answering hasMore with an old cursor cannot loop the
// caller forever.
func paginate[T any, O comparable](ctx context.Context, route string, opts *O, fetch func(*O) ([]T, bool, O, error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		var cur, zero O
		if opts != nil {
			cur = *opts
		}
		seen := map[O]bool{cur: true}
		for {
			if err := ctx.Err(); err != nil {
				yield(nil, fmt.Errorf("doubletick: %s: %w", route, err))
				return
			}
			items, more, next, err := fetch(&cur)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range items {
				if !yield(&items[i], nil) {
					return
				}
			}
			if !more {
				return
			}
			if next == zero || seen[next] {
				yield(nil, fmt.Errorf("%w: %s answered hasMore with a cursor it had already given", ErrRepeatedCursor, route))
				return
			}
			seen[next] = true
			cur = next
		}
	}
}
