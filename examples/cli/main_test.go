package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

// syncBuffer is a bytes.Buffer safe for the listener's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCreate(t *testing.T) {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	var out bytes.Buffer
	err := run(context.Background(), []string{"create", "-base-url", srv.URL, "-waba", "911111111111", "-subject", "VIP", "-group-id", "vip-1", "-mode", "auto_approve"},
		&out, env(map[string]string{"DOUBLETICK_API_KEY": doubleticktest.APIKey}))
	require.NoError(t, err)
	assert.Contains(t, out.String(), "creation initiated: groupId=vip-1 wabaNumber=911111111111 (HTTP 200)")
	assert.Equal(t, "vip-1", srv.Groups()[0].GroupID)

	err = run(context.Background(), []string{"create", "-base-url", srv.URL, "-waba", "+91-1", "-subject", ""}, &out,
		env(map[string]string{"DOUBLETICK_API_KEY": doubleticktest.APIKey}))
	assert.ErrorContains(t, err, "wabaNumber")
	assert.ErrorContains(t, err, "subject: is required")
	err = run(context.Background(), []string{"create"}, &out, env(nil))
	assert.ErrorContains(t, err, "DOUBLETICK_API_KEY")
}

func TestVerify(t *testing.T) {
	body := []byte(`{"event":"GROUP_CREATED","orgId":"org_1","integrationId":"int_1","groupId":"g1","groupName":"VIP","inviteLink":"https://chat.whatsapp.com/secret","groupCreatedAt":"2026-01-15T09:30:00.000Z"}`)
	file := filepath.Join(t.TempDir(), "payload.json")
	require.NoError(t, os.WriteFile(file, body, 0o600))
	secrets := env(map[string]string{"DOUBLETICK_WEBHOOK_SECRET": "old-signing-key,new-signing-key"})

	sig := webhookstest.SignHMAC([]byte("new-signing-key"), webhooks.Hex, body)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"verify", "-file", file, "-auth", "hmac", "-name", "X-Signature", "-credential", sig}, &out, secrets))
	assert.Contains(t, out.String(), "verified\nGROUP_CREATED group=\"g1\" at 2026-01-15T09:30:00Z")
	assert.Contains(t, out.String(), "[hidden: a credential]")
	assert.NotContains(t, out.String(), "chat.whatsapp.com/secret")

	err := run(context.Background(), []string{"verify", "-file", file, "-auth", "hmac", "-name", "X-Signature", "-credential", sig[:63] + "0"}, &out, secrets)
	assert.ErrorIs(t, err, webhooks.ErrInvalidCredential)

	std := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	now := time.Now()
	ssig, err := webhookstest.SignStandard(std, "msg_1", now, body)
	require.NoError(t, err)
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"verify", "-file", file, "-auth", "standard", "-id", "msg_1",
		"-timestamp", strconv.FormatInt(now.Unix(), 10), "-signature", ssig}, &out, env(map[string]string{"DOUBLETICK_WEBHOOK_SECRET": std})))
	assert.True(t, strings.HasPrefix(out.String(), "verified\n"))

	require.NoError(t, run(context.Background(), []string{"verify", "-file", file, "-auth", "query", "-name", "token", "-credential", "new-signing-key"}, &out, secrets))
	err = run(context.Background(), []string{"verify", "-file", file, "-auth", "bearer", "-credential", "Bearer nope"}, &out, secrets)
	assert.ErrorIs(t, err, webhooks.ErrInvalidCredential)
	assert.NotContains(t, err.Error(), "new-signing-key")
}

func TestListen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- listen(ctx, []string{"-addr", "127.0.0.1:0", "-auth", "bearer"}, &out, env(map[string]string{"DOUBLETICK_WEBHOOK_SECRET": "listen-token"}), ready)
	}()
	addr := <-ready

	srv := doubleticktest.NewServer(doubleticktest.WithWebhookRetries(1, time.Millisecond))
	defer srv.Close()
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: "http://" + addr + "/hooks", Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: "listen-token"}}))
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: "http://" + addr + "/hooks", Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: "wrong"}}))
	_, _, err := srv.Client().Groups.Create(context.Background(), &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "S", GroupID: "g1"})
	require.NoError(t, err)
	require.NoError(t, srv.Join("g1", "+919876543210", "Asha"))
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	require.NoError(t, srv.WaitDeliveries(wctx, 4))
	cancel()
	require.NoError(t, <-done)

	printed := out.String()
	assert.Contains(t, printed, `GROUP_CREATED group="g1"`)
	assert.Contains(t, printed, "GROUP_PARTICIPANT_JOINED group=\"g1\"")
	assert.Contains(t, printed, "participant=+919876543210")
	assert.Equal(t, 1, strings.Count(printed, "GROUP_CREATED group"), "the wrongly authorised copy was refused")
	statuses := map[int]int{}
	for _, d := range srv.Deliveries() {
		statuses[d.Status]++
	}
	assert.Equal(t, 2, statuses[200])
	assert.Equal(t, 2, statuses[401])
}
