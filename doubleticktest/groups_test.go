package doubleticktest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

const waba = "911111111111"

// tick returns a clock that moves one second per reading.
func tick() func() time.Time {
	t := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

// create creates a group through c and waits until the fake has created it.
func create(t *testing.T, srv *doubleticktest.Server, c *doubletick.Client, id string) {
	t.Helper()
	_, _, err := c.Groups.Create(context.Background(), &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "S " + id, GroupID: id})
	require.NoError(t, err)
	require.NoError(t, srv.WaitCreated(context.Background(), id))
}

func TestFakeListsGroupsPageByPage(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithPageSize(2), doubleticktest.WithClock(tick()))
	defer srv.Close()
	c := srv.Client()
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		create(t, srv, c, id)
	}
	_, _, err := c.Groups.Create(context.Background(), &doubletick.CreateGroupRequest{WABANumber: "919999999999", Subject: "other", GroupID: "other"})
	require.NoError(t, err)
	require.NoError(t, srv.WaitCreated(context.Background(), "other"))

	var ids []string
	for g, err := range c.Groups.All(context.Background(), waba, nil) {
		require.NoError(t, err)
		ids = append(ids, g.GroupID)
	}
	assert.Equal(t, []string{"e", "d", "c", "b", "a"}, ids, "newest first, one WABA number only")

	page, _, err := c.Groups.List(context.Background(), waba, &doubletick.ListGroupsOptions{OlderThan: time.Date(2026, 1, 15, 9, 0, 3, 0, time.UTC)})
	require.NoError(t, err)
	require.Len(t, page.Groups, 2)
	assert.Equal(t, []string{"b", "a"}, []string{page.Groups[0].GroupID, page.Groups[1].GroupID})
	assert.False(t, page.HasMore)

	// A cursor whose group was deleted falls back to its timestamp: no repeats.
	first, _, err := c.Groups.List(context.Background(), waba, nil)
	require.NoError(t, err)
	_, err = c.Groups.Delete(context.Background(), first.LastGroupID)
	require.NoError(t, err)
	next, _, err := c.Groups.List(context.Background(), waba, &doubletick.ListGroupsOptions{LastGroupID: first.LastGroupID, OlderThan: first.OlderThan})
	require.NoError(t, err)
	assert.Equal(t, "c", next.Groups[0].GroupID)
}

func TestFakeGroupLifecycle(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithClock(tick()))
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	create(t, srv, c, "support")

	g, _, err := c.Groups.Get(ctx, "support")
	require.NoError(t, err)
	assert.Equal(t, "S support", g.Subject)
	assert.Equal(t, "ACTIVE", g.Status)

	_, err = c.Groups.Update(ctx, "support", &doubletick.UpdateGroupRequest{WABANumber: waba, Subject: "Support", NewGroupID: "support-2"})
	require.NoError(t, err)
	_, _, err = c.Groups.Get(ctx, "support")
	assert.ErrorIs(t, err, doubletick.ErrNotFound)
	g, _, err = c.Groups.Get(ctx, "support-2")
	require.NoError(t, err)
	assert.Equal(t, "Support", g.Subject)

	_, err = c.Groups.Update(ctx, "support-2", &doubletick.UpdateGroupRequest{WABANumber: "919999999999"})
	assert.ErrorIs(t, err, doubletick.ErrBadRequest, "another WABA number's group")

	_, err = c.Groups.Delete(ctx, "support-2")
	require.NoError(t, err)
	_, err = c.Groups.Delete(ctx, "support-2")
	assert.ErrorIs(t, err, doubletick.ErrGroupPending, "the documented 404 for delete")
	assert.Empty(t, srv.Groups())
}

func TestFakeParticipants(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithPageSize(2), doubleticktest.WithClock(tick()))
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	create(t, srv, c, "g")
	require.NoError(t, srv.Join("g", "919876543210", "Asha"))
	require.NoError(t, srv.Join("g", "+15551230000", "Bo"))
	require.NoError(t, srv.Join("g", "+442079460958", ""))
	require.NoError(t, srv.Leave("g", "+442079460958"))
	assert.Error(t, srv.Leave("g", "+442079460958"), "already gone")
	assert.ErrorIs(t, srv.Join("nope", "+15551230000", "x"), doubleticktest.ErrNoGroup)

	res, _, err := c.Participants.Remove(ctx, "g", "1 555 123 0000")
	require.NoError(t, err)
	assert.Equal(t, "whatsapp", res.MessagingProduct)
	assert.Len(t, res.RequestID, 32)
	_, _, err = c.Participants.Remove(ctx, "g", "+15551230000")
	assert.ErrorIs(t, err, doubletick.ErrNotFound, "no longer a member")

	current := map[string]bool{}
	for p, err := range c.Participants.All(ctx, "g", nil) {
		require.NoError(t, err)
		current[p.PhoneNumber] = p.IsCurrent()
	}
	assert.Equal(t, map[string]bool{"+919876543210": true, "+15551230000": false, "+442079460958": false}, current)
	g, _, err := c.Groups.Get(ctx, "g")
	require.NoError(t, err)
	assert.Equal(t, 1, g.TotalParticipantCount)

	// The docs list 200 and 404 for this endpoint: a member's number without
	// "+" still finds them.
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/whatsapp/wa-group/participants?groupId=g&participantPhone=919876543210", nil)
	req.Header.Set("Authorization", doubleticktest.APIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}

func TestFakeAISummaryAndTags(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithClock(tick()))
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	create(t, srv, c, "g")
	require.NoError(t, srv.Join("g", "+15551230000", "Bo"))
	require.NoError(t, srv.Join("g", "+919876543210", "Asha"))

	day := time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)
	sum, _, err := c.Groups.GetAISummary(ctx, "g", &doubletick.GetAISummaryRequest{Start: day, End: day.AddDate(0, 0, 6)})
	require.NoError(t, err)
	assert.Equal(t, "WA_GROUP", sum.ChatType)
	assert.Equal(t, 0, sum.MemberCount, "members are those who sent a message in the range")
	assert.NotNil(t, sum.Members, "an empty array, never null")
	assert.Empty(t, sum.Summaries, "no conversation, no summary")
	assert.Equal(t, day, sum.StartDate)
	assert.Equal(t, time.Date(2026, 1, 18, 23, 59, 59, 999e6, time.UTC), sum.EndDate, "end of the last day, as the docs' example")

	require.NoError(t, srv.SendMessage("g", "+15551230000", "hi"))
	require.NoError(t, srv.SendMessage("g", "15551230000", "anyone?"))
	sum, _, err = c.Groups.GetAISummary(ctx, "g", &doubletick.GetAISummaryRequest{Start: day, End: day.AddDate(0, 0, 6)})
	require.NoError(t, err)
	assert.Equal(t, 1, sum.MemberCount)
	assert.Equal(t, 2, sum.ChatMessagesCount)
	require.Len(t, sum.Members, 1)
	assert.Equal(t, "Bo", sum.Members[0].Name)
	assert.Len(t, sum.Summaries, 1)
	sum, _, err = c.Groups.GetAISummary(ctx, "g", &doubletick.GetAISummaryRequest{Start: day.AddDate(0, 0, 4), End: day.AddDate(0, 0, 4)})
	require.NoError(t, err)
	assert.Zero(t, sum.ChatMessagesCount, "nothing was said on the 16th")

	res, _, err := c.Groups.AssignTags(ctx, &doubletick.AssignTagsRequest{GroupID: "g", Tags: []string{"vip"},
		CustomFields: []doubletick.CustomField{{Name: "tier", Value: "gold"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"vip"}, res.Tags.Added)
	assert.Equal(t, []string{"vip"}, srv.Groups()[0].Tags)
	assert.Equal(t, map[string]string{"tier": "gold"}, srv.Groups()[0].CustomFields)

	res, _, err = c.Groups.RemoveTags(ctx, &doubletick.RemoveTagsRequest{GroupID: "g", Tags: []string{"vip", "ghost"}, CustomFields: []string{"tier"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"vip"}, res.Tags.Removed)
	require.Len(t, res.Tags.Errored, 1)
	assert.Equal(t, "ghost", res.Tags.Errored[0].Tag)
	assert.Empty(t, srv.Groups()[0].Tags)

	_, _, err = c.Groups.AssignTags(ctx, &doubletick.AssignTagsRequest{GroupID: "missing", Tags: []string{"x"}})
	assert.ErrorIs(t, err, doubletick.ErrNotFound)
}
