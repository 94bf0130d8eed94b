package doubletick_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
)

// pagedGroups serves pages of two groups each; page n's cursor is g<2n+1>
// with a millisecond timestamp, and the last page says hasMore false.
func pagedGroups(t *testing.T, pages int, queries *[]url.Values) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		*queries = append(*queries, r.URL.Query())
		n := len(*queries) - 1
		more := n+1 < pages
		respond(200, fmt.Sprintf(`{"groups":[{"groupId":"g%d"},{"groupId":"g%d"}],"hasMore":%t,
			"lastGroupId":"g%d","olderThanTimestamp":"2026-01-15T09:30:0%d.123Z"}`, 2*n, 2*n+1, more, 2*n+1, n))(w, r)
	}
}

func TestGroupsAllFollowsCursors(t *testing.T) {
	var queries []url.Values
	c := newTestClient(t, pagedGroups(t, 3, &queries))
	var ids []string
	for g, err := range c.Groups.All(context.Background(), "911111111111", nil) {
		require.NoError(t, err)
		ids = append(ids, g.GroupID)
	}
	assert.Equal(t, []string{"g0", "g1", "g2", "g3", "g4", "g5"}, ids)
	require.Len(t, queries, 3)
	assert.Equal(t, url.Values{"wabaNumber": {"911111111111"}}, queries[0])
	assert.Equal(t, url.Values{"wabaNumber": {"911111111111"}, "lastGroupId": {"g1"}, "olderThanTimestamp": {"2026-01-15T09:30:00.123Z"}}, queries[1],
		"cursors go back with their milliseconds")
	assert.Equal(t, "g3", queries[2].Get("lastGroupId"))
}

func TestGroupsAllStopsWhenTheLoopBreaks(t *testing.T) {
	var queries []url.Values
	c := newTestClient(t, pagedGroups(t, 10, &queries))
	n := 0
	for _, err := range c.Groups.All(context.Background(), "911111111111", nil) {
		require.NoError(t, err)
		if n++; n == 3 {
			break
		}
	}
	assert.Len(t, queries, 2, "no page is fetched past the break")
}

func TestGroupsAllStopsOnCancel(t *testing.T) {
	var queries []url.Values
	c := newTestClient(t, pagedGroups(t, 10, &queries))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last error
	n := 0
	for _, err := range c.Groups.All(ctx, "911111111111", nil) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 2 {
			cancel()
		}
	}
	assert.ErrorIs(t, last, context.Canceled)
	assert.Len(t, queries, 1)
}

func TestAllRefusesARepeatedCursor(t *testing.T) {
	for name, body := range map[string]string{
		"same cursor": `{"groups":[{"groupId":"g0"}],"hasMore":true,"lastGroupId":"g0","olderThanTimestamp":null}`,
		"no cursor":   `{"groups":[],"hasMore":true,"lastGroupId":null,"olderThanTimestamp":null}`,
	} {
		t.Run(name, func(t *testing.T) {
			var hits atomic.Int32
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				respond(200, body)(w, r)
			})
			var last error
			for _, err := range c.Groups.All(context.Background(), "911111111111", nil) {
				last = err
			}
			assert.ErrorIs(t, last, doubletick.ErrRepeatedCursor)
			assert.LessOrEqual(t, hits.Load(), int32(2))
		})
	}
	// A cycle of two cursors is caught too.
	var n atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		cursor := []string{"a", "b"}[n.Add(1)%2]
		respond(200, `{"participants":[{"phoneNumber":"+1555000000`+cursor+`"}],"hasMore":true,"lastPhoneNumber":"`+cursor+`"}`)(w, r)
	})
	var last error
	for _, err := range c.Participants.All(context.Background(), "g", nil) {
		last = err
	}
	assert.ErrorIs(t, last, doubletick.ErrRepeatedCursor)
	assert.Equal(t, int32(3), n.Load())
}

func TestParticipantsAll(t *testing.T) {
	var queries []url.Values
	pages := []string{
		`{"participants":[{"name":"A","phoneNumber":"+15551230000","dateJoined":"2026-01-15T10:00:00.000Z","dateLeft":null,"dateRemoved":null}],
			"hasMore":true,"lastPhoneNumber":"+15551230000","olderThanTimestamp":"2026-01-15T10:00:00.000Z"}`,
		`{"participants":[{"name":null,"phoneNumber":"+15551230001","dateJoined":"2026-01-14T10:00:00.000Z","dateLeft":"2026-01-15T08:00:00.000Z"}],
			"hasMore":true,"lastPhoneNumber":"+15551230001","olderThanTimestamp":"2026-01-14T10:00:00.000Z"}`,
		`{"participants":[{"phoneNumber":"+15551230002","dateJoined":"2026-01-16T10:00:00.000Z","dateRemoved":"2026-01-15T08:00:00.000Z"}],
			"hasMore":false,"lastPhoneNumber":null,"olderThanTimestamp":null}`,
	}
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.Query())
		respond(200, pages[len(queries)-1])(w, r)
	})
	var current []bool
	for p, err := range c.Participants.All(context.Background(), "g1", nil) {
		require.NoError(t, err)
		current = append(current, p.IsCurrent())
	}
	assert.Equal(t, []bool{true, false, true}, current, "a participant who rejoined after removal is current")
	assert.Equal(t, url.Values{"groupId": {"g1"}, "lastPhoneNumber": {"+15551230001"}, "olderThanTimestamp": {"2026-01-14T10:00:00Z"}}, queries[2])
}
