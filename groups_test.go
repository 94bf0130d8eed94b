package doubletick_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
)

// call records what one request looked like.
type call struct {
	method string
	path   string
	query  url.Values
	header http.Header
	body   string
}

// recordingServer answers every request with status and body, recording it.
func recordingServer(t *testing.T, status int, body string, opts ...doubletick.Option) (*doubletick.Client, *[]call) {
	var calls []call
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls = append(calls, call{r.Method, r.URL.Path, r.URL.Query(), r.Header.Clone(), string(b)})
		respond(status, body)(w, r)
	}, opts...)
	return c, &calls
}

func assertCall(t *testing.T, got call, method, route string, query url.Values, body string) {
	t.Helper()
	assert.Equal(t, method, got.method)
	assert.Equal(t, basePath+route, got.path)
	assert.Equal(t, query, got.query)
	assert.Equal(t, testKey, got.header.Get("X-Public-Api-Key"))
	assert.Equal(t, testKey, got.header.Get("Authorization"))
	if body == "" {
		assert.Empty(t, got.body)
		assert.Empty(t, got.header.Get("Content-Type"))
	} else {
		assert.JSONEq(t, body, got.body)
		assert.Equal(t, "application/json", got.header.Get("Content-Type"))
	}
}

const groupJSON = `{"groupId":"new_support_2026","subject":"New Support","description":"d","totalParticipantCount":3,
	"inviteLink":null,"status":"ACTIVE","groupCreatedAt":"2026-01-15T09:30:00.123Z"}`

func TestGroupsGet(t *testing.T) {
	c, calls := recordingServer(t, 200, groupJSON)
	g, resp, err := c.Groups.Get(context.Background(), "new support/2026")
	require.NoError(t, err)
	assertCall(t, (*calls)[0], "GET", "/whatsapp/wa-group/info", url.Values{"groupId": {"new support/2026"}}, "")
	assert.Equal(t, &doubletick.Group{GroupID: "new_support_2026", Subject: "New Support", Description: "d", TotalParticipantCount: 3,
		Status: "ACTIVE", CreatedAt: time.Date(2026, 1, 15, 9, 30, 0, 123e6, time.UTC)}, g)
	assert.Equal(t, 200, resp.StatusCode)

	_, _, err = c.Groups.Get(context.Background(), "")
	var verr *doubletick.ValidationError
	assert.ErrorAs(t, err, &verr)
	assert.Len(t, *calls, 1, "an empty ID is not sent")
}

func TestGroupPendingIsDistinguishable(t *testing.T) {
	for _, tc := range []struct {
		body    string
		pending bool
	}{
		{`{"statusCode":404,"message":"Group not found or group creation is still pending","error":"Not Found"}`, true},
		{`{"statusCode":404,"message":"Group not found for the given groupId","error":"Not Found"}`, false},
	} {
		c, _ := recordingServer(t, 404, tc.body)
		_, err := c.Groups.Delete(context.Background(), "g")
		assert.ErrorIs(t, err, doubletick.ErrNotFound)
		assert.Equal(t, tc.pending, errors.Is(err, doubletick.ErrGroupPending), tc.body)
	}
	c, _ := recordingServer(t, 400, `{"statusCode":400,"message":"creation pending","error":"Bad Request"}`)
	_, err := c.Groups.Delete(context.Background(), "g")
	assert.NotErrorIs(t, err, doubletick.ErrGroupPending, "only a 404 can be a pending group")
}

func TestGroupsUpdate(t *testing.T) {
	c, calls := recordingServer(t, 200, `{"success":true}`)
	resp, err := c.Groups.Update(context.Background(), "old_id", &doubletick.UpdateGroupRequest{
		WABANumber: "911111111111", Subject: "Renamed", NewGroupID: "new_id",
	})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assertCall(t, (*calls)[0], "POST", "/whatsapp/wa-group/settings", url.Values{"groupId": {"old_id"}},
		`{"wabaNumber":"911111111111","subject":"Renamed","groupId":"new_id"}`)

	_, err = c.Groups.Update(context.Background(), "", &doubletick.UpdateGroupRequest{Subject: string(make([]byte, 129))})
	var verr *doubletick.ValidationError
	require.ErrorAs(t, err, &verr)
	var fields []string
	for _, f := range verr.Fields {
		fields = append(fields, f.Field)
	}
	assert.Equal(t, []string{"query.groupId", "wabaNumber", "subject"}, fields, "every violation in one error")
	_, err = c.Groups.Update(context.Background(), "g", nil)
	assert.ErrorAs(t, err, &verr)
	assert.Len(t, *calls, 1)

	c, _ = recordingServer(t, 200, `{"success":false}`)
	_, err = c.Groups.Update(context.Background(), "g", &doubletick.UpdateGroupRequest{WABANumber: "911111111111"})
	assert.ErrorIs(t, err, doubletick.ErrUnsuccessful)
}

func TestGroupsDelete(t *testing.T) {
	c, calls := recordingServer(t, 200, `{"success":true}`)
	_, err := c.Groups.Delete(context.Background(), "g&1")
	require.NoError(t, err)
	assertCall(t, (*calls)[0], "DELETE", "/whatsapp/wa-group", url.Values{"groupId": {"g&1"}}, "")
}

func TestParticipantsRemove(t *testing.T) {
	c, calls := recordingServer(t, 200, `{"messaging_product":"whatsapp","request_id":"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"}`)
	for _, written := range []string{"15551230000", "+1 555-123-0000", "+15551230000"} {
		res, _, err := c.Participants.Remove(context.Background(), "g1", written)
		require.NoError(t, err)
		assert.Equal(t, &doubletick.RemoveParticipantResult{MessagingProduct: "whatsapp", RequestID: "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"}, res)
	}
	for _, got := range *calls {
		assertCall(t, got, "DELETE", "/whatsapp/wa-group/participants", url.Values{"groupId": {"g1"}, "participantPhone": {"+15551230000"}}, "")
	}
	_, _, err := c.Participants.Remove(context.Background(), "g1", "call me")
	var verr *doubletick.ValidationError
	require.ErrorAs(t, err, &verr)
	_, ok := verr.Field("participantPhone")
	assert.True(t, ok)
	assert.Len(t, *calls, 3)
}

func TestGroupsAISummary(t *testing.T) {
	c, calls := recordingServer(t, 200, `{"startDate":"2026-01-12T00:00:00.000Z","endDate":"2026-01-18","chatType":"WA_GROUP",
		"groupName":"VIP","memberCount":2,"members":[{"id":"m1","name":"A","customerNumber":"+15551230000"}],
		"chatMessagesCount":40,"callsCount":1,"summaries":[{"title":"Pricing","description":"Asked about plans"}]}`)
	ist := time.FixedZone("IST", 5*3600+1800)
	// 2026-01-12 03:00 IST is still 2026-01-11 in UTC.
	start := time.Date(2026, 1, 12, 3, 0, 0, 0, ist)
	end := time.Date(2026, 1, 17, 23, 0, 0, 0, time.UTC)
	sum, _, err := c.Groups.GetAISummary(context.Background(), "vip-support-42", &doubletick.GetAISummaryRequest{Start: start, End: end})
	require.NoError(t, err)
	assertCall(t, (*calls)[0], "GET", "/channel/wa-group/ai-summary",
		url.Values{"groupId": {"vip-support-42"}, "startDate": {"2026-01-11"}, "endDate": {"2026-01-17"}}, "")
	assert.Equal(t, time.Date(2026, 1, 18, 0, 0, 0, 0, time.UTC), sum.EndDate, "a bare date is accepted")
	assert.Equal(t, 2, sum.MemberCount)
	assert.Equal(t, "+15551230000", sum.Members[0].CustomerNumber)
	assert.Equal(t, "Pricing", sum.Summaries[0].Title)

	monday := time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)
	_, _, err = c.Groups.GetAISummary(context.Background(), "g", &doubletick.GetAISummaryRequest{Start: monday, End: monday.AddDate(0, 0, 6)})
	assert.NoError(t, err, "Monday to Sunday is allowed")
	for name, r := range map[string][2]time.Time{
		"8 days":   {monday, monday.AddDate(0, 0, 7)},
		"inverted": {monday, monday.AddDate(0, 0, -1)},
		"no start": {{}, monday},
	} {
		_, _, err := c.Groups.GetAISummary(context.Background(), "g", &doubletick.GetAISummaryRequest{Start: r[0], End: r[1]})
		var verr *doubletick.ValidationError
		assert.ErrorAs(t, err, &verr, name)
	}
	assert.Len(t, *calls, 2)
}

func TestGroupsTags(t *testing.T) {
	c, calls := recordingServer(t, 201, `{"tags":{"added":["vip"],"errored":[{"tag":"ghost","error":"Tag not found"}]},
		"customFields":{"added":["tier"],"errored":[]}}`)
	res, resp, err := c.Groups.AssignTags(context.Background(), &doubletick.AssignTagsRequest{
		GroupID: "grp_AbCdEf1234", Tags: []string{"vip", "ghost"},
		CustomFields: []doubletick.CustomField{{Name: "tier", Value: "gold"}},
	})
	require.NoError(t, err)
	assert.Equal(t, 201, resp.StatusCode)
	assertCall(t, (*calls)[0], "POST", "/wa-group/assign-tags-custom-fields", url.Values{},
		`{"groupId":"grp_AbCdEf1234","tags":["vip","ghost"],"customFields":[{"name":"tier","value":"gold"}]}`)
	assert.Equal(t, []string{"vip"}, res.Tags.Added)
	assert.Equal(t, "ghost", res.Tags.Errored[0].Tag)
	assert.Equal(t, "Tag not found", res.Tags.Errored[0].Error)
	assert.Equal(t, []string{"tier"}, res.CustomFields.Added)

	no := false
	c, calls = recordingServer(t, 201, `{"tags":{"removed":["vip"],"errored":[]},"customFields":{"removed":["tier"],"errored":[]}}`)
	res, _, err = c.Groups.RemoveTags(context.Background(), &doubletick.RemoveTagsRequest{
		GroupID: "grp_AbCdEf1234", Tags: []string{"vip"}, CustomFields: []string{"tier"}, ShouldCreateChatLog: &no,
	})
	require.NoError(t, err)
	assertCall(t, (*calls)[0], "POST", "/wa-group/remove-tags-custom-fields", url.Values{},
		`{"groupId":"grp_AbCdEf1234","tags":["vip"],"customFields":["tier"],"shouldCreateChatLog":false}`)
	assert.Equal(t, []string{"vip"}, res.Tags.Removed)

	for name, req := range map[string]*doubletick.AssignTagsRequest{
		"nil":         nil,
		"no group":    {Tags: []string{"vip"}},
		"nothing":     {GroupID: "g"},
		"blank tag":   {GroupID: "g", Tags: []string{" "}},
		"nameless cf": {GroupID: "g", CustomFields: []doubletick.CustomField{{Value: "x"}}},
	} {
		_, _, err := c.Groups.AssignTags(context.Background(), req)
		var verr *doubletick.ValidationError
		assert.ErrorAs(t, err, &verr, name)
	}
	assert.Len(t, *calls, 1)
}

func TestEveryEndpointMapsDocumentedStatuses(t *testing.T) {
	ctx := context.Background()
	monday := time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)
	endpoints := map[string]func(c *doubletick.Client) error{
		"get": func(c *doubletick.Client) error { _, _, err := c.Groups.Get(ctx, "g"); return err },
		"update": func(c *doubletick.Client) error {
			_, err := c.Groups.Update(ctx, "g", &doubletick.UpdateGroupRequest{WABANumber: "911111111111"})
			return err
		},
		"list":    func(c *doubletick.Client) error { _, _, err := c.Groups.List(ctx, "911111111111", nil); return err },
		"delete":  func(c *doubletick.Client) error { _, err := c.Groups.Delete(ctx, "g"); return err },
		"members": func(c *doubletick.Client) error { _, _, err := c.Participants.List(ctx, "g", nil); return err },
		"remove": func(c *doubletick.Client) error {
			_, _, err := c.Participants.Remove(ctx, "g", "+15551230000")
			return err
		},
		"summary": func(c *doubletick.Client) error {
			_, _, err := c.Groups.GetAISummary(ctx, "g", &doubletick.GetAISummaryRequest{Start: monday, End: monday})
			return err
		},
		"assign": func(c *doubletick.Client) error {
			_, _, err := c.Groups.AssignTags(ctx, &doubletick.AssignTagsRequest{GroupID: "g", Tags: []string{"t"}})
			return err
		},
		"unassign": func(c *doubletick.Client) error {
			_, _, err := c.Groups.RemoveTags(ctx, &doubletick.RemoveTagsRequest{GroupID: "g", Tags: []string{"t"}})
			return err
		},
	}
	statuses := map[int]error{400: doubletick.ErrBadRequest, 401: doubletick.ErrUnauthorized, 403: doubletick.ErrForbidden,
		404: doubletick.ErrNotFound, 422: doubletick.ErrUnprocessable, 429: doubletick.ErrRateLimited, 500: doubletick.ErrServerError}
	for name, call := range endpoints {
		for status, want := range statuses {
			c, _ := recordingServer(t, status, fmt.Sprintf(`{"statusCode":%d,"message":"m","error":"e"}`, status))
			err := call(c)
			assert.ErrorIs(t, err, want, "%s %d", name, status)
			var apiErr *doubletick.APIError
			if assert.ErrorAs(t, err, &apiErr) {
				assert.Equal(t, []string{"m"}, apiErr.Messages)
			}
		}
		c, _ := recordingServer(t, 200, `{"truncated":`)
		var decErr *doubletick.DecodeError
		assert.ErrorAs(t, call(c), &decErr, name)
	}
}
