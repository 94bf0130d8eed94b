package doubleticktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

// lockedBuffer is a bytes.Buffer safe for the fake's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestWithRequestLogLogsEachRequestWithoutItsContent: a line per request
// with its method, path and status, and nothing of the key, the query or
// the body.
func TestWithRequestLogLogsEachRequestWithoutItsContent(t *testing.T) {
	var logs lockedBuffer
	srv := doubleticktest.NewServer(doubleticktest.WithRequestLog(slog.New(slog.NewJSONHandler(&logs, nil))),
		doubleticktest.WithCreationDelay(0), doubleticktest.WithControlAPI())
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	_, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "VIP", GroupID: "secret-group-1"})
	require.NoError(t, err)
	_, _, err = c.Groups.Get(ctx, "secret-group-1")
	require.NoError(t, err)
	_, _, err = c.Groups.Get(ctx, "no-such-group")
	require.Error(t, err)
	status, _ := control(t, srv, "POST", "join", `{"groupId":"secret-group-1","phone":"+919876543210","name":"Asha"}`)
	require.Equal(t, 200, status)

	type line struct {
		Msg, Method, Path string
		Status            int
	}
	var got []line
	for _, raw := range bytes.Split(bytes.TrimSpace([]byte(logs.String())), []byte("\n")) {
		var l line
		require.NoError(t, json.Unmarshal(raw, &l), "%s", raw)
		got = append(got, l)
	}
	assert.Equal(t, []line{
		{"request", "POST", "/whatsapp/wa-group/create", 200},
		{"request", "GET", "/whatsapp/wa-group/info", 200},
		{"request", "GET", "/whatsapp/wa-group/info", 404},
		{"request", "POST", doubleticktest.ControlPath + "join", 200},
	}, got)
	for _, secret := range []string{doubleticktest.APIKey, "secret-group-1", "9876543210", "Asha"} {
		assert.NotContains(t, logs.String(), secret)
	}
}
