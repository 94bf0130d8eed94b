package doubleticktest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
)

// TestCreationIsAsynchronous: the create call only initiates; until the
// group resolves the other endpoints answer as the docs describe a missing
// group, and GROUP_CREATED comes after.
func TestCreationIsAsynchronous(t *testing.T) {
	bearer, err := webhooks.NewBearerVerifier("hook-token")
	require.NoError(t, err)
	col := newCollector(t, bearer)
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(time.Hour))
	defer srv.Close()
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: col.srv.URL, Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: "hook-token"}}))
	c := srv.Client()
	ctx := context.Background()

	res, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "S", GroupID: "slow"})
	require.NoError(t, err)
	assert.Equal(t, "slow", res.GroupID)

	_, _, err = c.Groups.Get(ctx, "slow")
	assert.ErrorIs(t, err, doubletick.ErrNotFound)
	assert.NotErrorIs(t, err, doubletick.ErrGroupPending, "info's documented 404 does not say pending")
	_, _, err = c.Participants.List(ctx, "slow", nil)
	assert.ErrorIs(t, err, doubletick.ErrNotFound)
	_, err = c.Groups.Update(ctx, "slow", &doubletick.UpdateGroupRequest{WABANumber: waba, Subject: "T"})
	assert.ErrorIs(t, err, doubletick.ErrGroupPending, "settings' documented 404 says pending")
	_, _, err = c.Participants.Remove(ctx, "slow", "+15551230000")
	assert.ErrorIs(t, err, doubletick.ErrGroupPending)
	page, _, err := c.Groups.List(ctx, waba, nil)
	require.NoError(t, err)
	assert.Empty(t, page.Groups, "a pending group is not listed")

	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, srv.WaitCreated(waitCtx, "slow"), context.DeadlineExceeded)
	assert.Empty(t, srv.Deliveries(), "no GROUP_CREATED before Meta confirms")
}

func TestCreationResolvesThenSendsGroupCreated(t *testing.T) {
	bearer, err := webhooks.NewBearerVerifier("hook-token")
	require.NoError(t, err)
	col := newCollector(t, bearer)
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(5*time.Millisecond), doubleticktest.WithWebhookSenders(1)) // in order
	defer srv.Close()
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: col.srv.URL, Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: "hook-token"}}))
	c := srv.Client()
	ctx := context.Background()
	_, _, err = c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "S", GroupID: "g1"})
	require.NoError(t, err)
	// A member can only join a group that exists: Join waits for it.
	require.NoError(t, srv.Join("g1", "+919876543210", "Asha"))
	g, _, err := c.Groups.Get(ctx, "g1")
	require.NoError(t, err)
	assert.Equal(t, 1, g.TotalParticipantCount)
	wait(t, srv, 2)
	assert.Equal(t, []webhooks.Type{webhooks.TypeGroupCreated, webhooks.TypeParticipantJoined}, col.types())
}

func TestFailedCreationSendsNothing(t *testing.T) {
	bearer, err := webhooks.NewBearerVerifier("hook-token")
	require.NoError(t, err)
	col := newCollector(t, bearer)
	srv := doubleticktest.NewServer(doubleticktest.WithFailedCreations("doomed"), doubleticktest.WithCreationDelay(time.Millisecond))
	defer srv.Close()
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: col.srv.URL, Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: "hook-token"}}))
	c := srv.Client()
	ctx := context.Background()
	_, _, err = c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "S", GroupID: "doomed"})
	require.NoError(t, err, "the create call only initiates")
	assert.ErrorIs(t, srv.WaitCreated(ctx, "doomed"), doubleticktest.ErrNoGroup)
	_, _, err = c.Groups.Get(ctx, "doomed")
	assert.ErrorIs(t, err, doubletick.ErrNotFound)
	assert.ErrorIs(t, srv.Join("doomed", "+919876543210", "Asha"), doubleticktest.ErrNoGroup)

	create(t, srv, c, "fine")
	wait(t, srv, 1)
	assert.Equal(t, []webhooks.Type{webhooks.TypeGroupCreated}, col.types(), "only the group that was created")
	col.mu.Lock()
	defer col.mu.Unlock()
	assert.Equal(t, "fine", col.events[0].Group())
}

func TestEarlyNulls(t *testing.T) {
	bearer, err := webhooks.NewBearerVerifier("hook-token")
	require.NoError(t, err)
	col := newCollector(t, bearer)
	srv := doubleticktest.NewServer(doubleticktest.WithEarlyNulls())
	defer srv.Close()
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{URL: col.srv.URL, Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: "hook-token"}}))
	create(t, srv, srv.Client(), "g1")
	wait(t, srv, 1)
	col.mu.Lock()
	defer col.mu.Unlock()
	require.Len(t, col.events, 1)
	gc := col.events[0].(*webhooks.GroupCreated)
	assert.Empty(t, gc.GroupID)
	assert.Empty(t, gc.GroupName)
	assert.Empty(t, gc.InviteLink)
	assert.Contains(t, string(gc.RawJSON()), `"groupId":null`)
}

// TestClientHasNoClientSideLimit makes more calls than the SDK's default
// budget (60 a minute) allows within a deadline that budget could not meet:
// Server.Client must not hold any of them back.
func TestClientHasNoClientSideLimit(t *testing.T) {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c := srv.Client()
	create(t, srv, c, "g1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 120 {
		_, _, err := c.Groups.Get(ctx, "g1")
		require.NoError(t, err, "call %d", i+1)
	}
}
