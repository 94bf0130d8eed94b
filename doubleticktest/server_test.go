package doubleticktest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
)

func TestCreateGeneratesAndEchoesGroupIDs(t *testing.T) {
	at := time.Date(2026, 2, 10, 8, 21, 35, 0, time.UTC)
	srv := doubleticktest.NewServer(doubleticktest.WithClock(func() time.Time { return at }))
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	gen, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "A"})
	require.NoError(t, err)
	assert.Equal(t, "wagrp_000001", gen.GroupID)
	assert.Equal(t, "911111111111", gen.WABANumber)
	own, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "B", GroupID: "support_group_001", JoinApprovalMode: doubletick.JoinAutoApprove})
	require.NoError(t, err)
	assert.Equal(t, "support_group_001", own.GroupID)

	assert.Equal(t, []doubleticktest.Group{
		{GroupID: "wagrp_000001", WABANumber: "911111111111", Subject: "A", CreatedAt: at},
		{GroupID: "support_group_001", WABANumber: "911111111111", Subject: "B", JoinApprovalMode: doubletick.JoinAutoApprove, CreatedAt: at},
	}, srv.Groups())

	_, _, err = c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "C", GroupID: "support_group_001"})
	assert.ErrorIs(t, err, doubletick.ErrUnprocessable)
	assert.Len(t, srv.Groups(), 2, "a refused create stores nothing")
}

func TestFakeChecksTheAPIKeyInEitherHeader(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithAPIKey("key_right"))
	defer srv.Close()
	req := &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "A"}

	wrong, err := doubletick.NewClient("key_wrong", doubletick.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, _, err = wrong.Groups.Create(context.Background(), req)
	var apiErr *doubletick.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 401, apiErr.StatusCode)
	assert.Equal(t, []string{"Invalid public api key"}, apiErr.Messages)
	assert.Equal(t, "Unauthorized", apiErr.ErrorText)

	for _, h := range []string{doubletick.HeaderAuthorization, doubletick.HeaderPublicAPIKey} {
		c, err := srv.NewClient(doubletick.WithAuthHeader(h))
		require.NoError(t, err)
		_, _, err = c.Groups.Create(context.Background(), req)
		assert.NoError(t, err, h)
	}
}

func TestFakeValidatesLikeTheAPI(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithWABANumbers("911111111111"))
	defer srv.Close()

	// Bypass the SDK's own validation to reach the fake's.
	post := func(body string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/whatsapp/wa-group/create", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", doubleticktest.APIKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := post(`{"wabaNumber":"911111111111","subject":"","joinApprovalMode":"maybe"}`)
	assert.Equal(t, 400, status)
	assert.JSONEq(t, `{"statusCode":400,"error":"Bad Request","message":["subject should not be empty","joinApprovalMode must be one of the following values: auto_approve, approval_required"]}`, body)

	status, body = post(`{"wabaNumber":"911111111111","subject":"A","joinApprovalMode":"maybe"}`)
	assert.Equal(t, 400, status)
	assert.JSONEq(t, `{"statusCode":400,"error":"Bad Request","message":["joinApprovalMode must be one of the following values: auto_approve, approval_required"]}`, body,
		"a broken rule is a list even when it is the only one, as ValidationPipe answers")

	status, body = post(`{"wabaNumber":"919999999999","subject":"A"}`)
	assert.Equal(t, 400, status)
	assert.JSONEq(t, `{"statusCode":400,"error":"Bad Request","message":"No integration found for the given wabaNumber"}`, body,
		"an error the API throws itself is one string")

	// The message-status page's own example.
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/whatsapp/message/status?messageId=not-a-uuid", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", doubleticktest.APIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 400, resp.StatusCode)
	assert.JSONEq(t, `{"statusCode":400,"error":"Bad Request","message":["messageId must be a UUID"]}`, string(b))

	status, _ = post(`{"wabaNumber":`)
	assert.Equal(t, 400, status)

	status, body = post(`{}`)
	assert.Equal(t, 400, status)
	assert.Contains(t, body, "wabaNumber should not be empty")

	status, body = post(`{"wabaNumber":911111111111,"subject":"` + strings.Repeat("é", 129) + `","groupId":"` + strings.Repeat("g", 51) + `"}`)
	assert.Equal(t, 400, status)
	assert.JSONEq(t, `{"statusCode":400,"error":"Bad Request","message":["wabaNumber must be a string","subject must be shorter than or equal to 128 characters","groupId must be shorter than or equal to 50 characters"]}`, body)

	// The SDK's rules are not the fake's: a number with "+" and of any
	// length is a string, as the docs type it.
	status, _ = post(`{"wabaNumber":"+911111111111","subject":"A"}`)
	assert.Equal(t, 200, status)

	resp, err = http.Get(srv.URL + "/whatsapp/wa-group/create")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode, "the key is checked before routing")
	assert.Equal(t, 9, srv.Requests())
	require.Len(t, srv.Groups(), 1)
	assert.Equal(t, "911111111111", srv.Groups()[0].WABANumber)
}

func TestFakeAnswersUnknownRoutesLikeNestJS(t *testing.T) {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/whatsapp/wa-group/create", nil)
	req.Header.Set("X-Public-Api-Key", doubleticktest.APIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 404, resp.StatusCode)
	assert.JSONEq(t, `{"statusCode":404,"message":"Cannot GET /whatsapp/wa-group/create","error":"Not Found"}`, string(b))
}

func TestFakeListsWebhooksInTheDocumentedOrder(t *testing.T) {
	srv := doubleticktest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client()
	ctx := context.Background()
	for _, name := range []string{"b-crm", "a-analytics", "c-billing"} {
		_, _, err := c.Webhooks.Register(ctx, &doubletick.WebhookRegistration{URL: "https://" + name + ".example.com/hooks", Name: name,
			Events: []webhooks.Type{webhooks.TypeMessageReceived}, WABANumbers: []string{"+911111111111"}})
		require.NoError(t, err)
	}
	names := func(opts *doubletick.ListWebhooksOptions) []string {
		list, _, err := c.Webhooks.List(ctx, opts)
		require.NoError(t, err)
		var out []string
		for _, w := range list {
			out = append(out, w.Name)
		}
		return out
	}
	assert.Equal(t, []string{"a-analytics", "b-crm", "c-billing"}, names(nil), "by name, ascending, by default")
	assert.Equal(t, []string{"c-billing", "b-crm", "a-analytics"}, names(&doubletick.ListWebhooksOptions{SortBy: "url", SortDirection: "DESC"}))

	// Values outside the documented enums (the SDK refuses them before
	// sending; another client may not).
	for _, q := range []string{"sortBy=id", "sortDirection=desc"} {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/v2/webhooks?"+q, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", doubleticktest.APIKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
	}
}

func TestFakeRefusesOptionValuesItCannotUse(t *testing.T) {
	for _, tc := range []struct {
		opt  doubleticktest.Option
		want string
	}{
		{doubleticktest.WithPageSize(0), "WithPageSize(0): a page holds at least 1 item"},
		{doubleticktest.WithCreationDelay(-time.Second), "WithCreationDelay(-1s): a delay is 0 or more"},
		{doubleticktest.WithWebhookSenders(0), "WithWebhookSenders(0): at least 1 sender"},
		{doubleticktest.WithWebhookRetries(0, time.Second), "WithWebhookRetries(0, 1s): at least 1 attempt"},
		{doubleticktest.WithDuplicateGroupIDStatus(200), "WithDuplicateGroupIDStatus(200): the status of a refusal is 4xx or 5xx"},
		{doubleticktest.WithAPIKey(""), "WithAPIKey: the key is empty"},
		{doubleticktest.WithClock(nil), "WithClock: the clock is nil"},
		{doubleticktest.WithServerRateLimit("/whatsapp/wa-group/create", 10, time.Second), `WithServerRateLimit("/whatsapp/wa-group/create", 10, 1s): a route key`},
		{doubleticktest.WithServerRateLimit(doubletick.RouteCreateGroup, 0, time.Second), `WithServerRateLimit("POST /whatsapp/wa-group/create", 0, 1s)`},
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				assert.True(t, strings.HasPrefix(msg, "doubleticktest: NewServer: "+tc.want), "got panic %q, want %q", msg, tc.want)
			}()
			doubleticktest.NewServer(tc.opt).Close()
		}()
	}
}

// The subscription API takes the events of DoubleTick's documented enum,
// which lacks the group events, and refuses a registration naming any
// other event with 400, as the enum check of its schema does;
// WithGroupEventSubscriptions is the fake's convenience that takes them.
func TestFakeSubscriptionAPIGroupEventsAreOptIn(t *testing.T) {
	reg := &doubletick.WebhookRegistration{URL: "https://crm.example.com/hooks", Name: "crm", WABANumbers: []string{"+911111111111"},
		Events: []webhooks.Type{webhooks.TypeMessageReceived, "GROUP_CREATED", "WA_GROUP_MESSAGE_RECEIVED"}}
	srv := doubleticktest.NewServer()
	_, _, err := srv.Client().Webhooks.Register(context.Background(), reg)
	srv.Close()
	var apiErr *doubletick.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.Contains(t, apiErr.Message(), "each value in webhookEvents must be one of the following values: MESSAGE_RECEIVED,")

	srv = doubleticktest.NewServer(doubleticktest.WithGroupEventSubscriptions())
	defer srv.Close()
	res, _, err := srv.Client().Webhooks.Register(context.Background(), reg)
	require.NoError(t, err)
	var valid []string
	for _, w := range res.ValidWebhooks {
		valid = append(valid, string(w.WebhookEventType))
	}
	assert.Equal(t, []string{"MESSAGE_RECEIVED", "GROUP_CREATED", "WA_GROUP_MESSAGE_RECEIVED"}, valid)
}

// A registration receives exactly the events it was accepted for: nothing
// when DoubleTick accepted none (here, no number of the registration has
// an integration), where an empty list once meant every event.
func TestARegistrationReceivesOnlyWhatItWasAcceptedFor(t *testing.T) {
	var got atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer recv.Close()
	// One sender: deliveries go in the order of their events.
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0), doubleticktest.WithWABANumbers("911111111111"),
		doubleticktest.WithGroupEventSubscriptions(), doubleticktest.WithWebhookSenders(1))
	defer srv.Close()
	c := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, _, err := c.Webhooks.Register(ctx, &doubletick.WebhookRegistration{URL: recv.URL, Name: "elsewhere",
		WABANumbers: []string{"+919999999999"}, Events: []webhooks.Type{webhooks.TypeGroupCreated}})
	require.ErrorIs(t, err, doubletick.ErrNothingRegistered)
	assert.Equal(t, []string{"+919999999999"}, res.InvalidWABANumbers)
	_, _, err = c.Webhooks.Register(ctx, &doubletick.WebhookRegistration{URL: recv.URL + "/joins", Name: "joins",
		WABANumbers: []string{"+911111111111"}, Events: []webhooks.Type{webhooks.TypeParticipantJoined}})
	require.NoError(t, err)

	_, _, err = c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "S", GroupID: "g"})
	require.NoError(t, err)
	require.NoError(t, srv.Join("g", "+919876543210", "Asha"))
	require.NoError(t, srv.WaitDeliveries(ctx, 1))
	var types []webhooks.Type
	for _, d := range srv.Deliveries() {
		types = append(types, d.Event)
	}
	assert.Equal(t, []webhooks.Type{webhooks.TypeParticipantJoined}, types, "GROUP_CREATED went to no one; the join to the receiver accepted for it")
	assert.Equal(t, int32(1), got.Load())
}

// The fake reads requests as DoubleTick's server does: the key bare or
// after "key " (its Node and PHP samples), a "+" sent unencoded in a query
// as the space it decodes to, and answers each page's 400 in its shape.
func TestTheFakeReadsRequestsAsDoubleTickDoes(t *testing.T) {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	do := func(method, path, auth, body string) (int, map[string]any) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	status, _ := do("GET", "/organization/channel/profile", "key "+doubleticktest.APIKey, "")
	assert.Equal(t, 200, status, `"Authorization: key <key>", as DoubleTick's Node and PHP samples send it`)
	status, _ = do("GET", "/organization/channel/profile", "Bearer "+doubleticktest.APIKey, "")
	assert.Equal(t, 401, status)
	status, body := do("GET", "/whatsapp/wa-group/list?wabaNumber=+911111111111", doubleticktest.APIKey, "")
	assert.Equal(t, 400, status, `"+911…" unencoded is " 911…": no integration`)
	assert.Equal(t, "Missing wabaNumber or no integration found for the given WABA number", body["message"])
	status, _ = do("GET", "/whatsapp/wa-group/list?wabaNumber=%2B911111111111", doubleticktest.APIKey, "")
	assert.Equal(t, 200, status)
	status, body = do("POST", "/wa-group/assign-tags-custom-fields", doubleticktest.APIKey, `{"tags":["vip"]}`)
	assert.Equal(t, 400, status)
	assert.IsType(t, "", body["message"], "the tag pages' 400 message is a string")

	// The same reading on every route: the channel filter too.
	_, body = do("GET", "/organization/channel/profile?wabaNumber=+911111111111", doubleticktest.APIKey, "")
	assert.Empty(t, body["channels"], `" 911…" is no channel's number`)
	_, body = do("GET", "/organization/channel/profile?wabaNumber=%2B911111111111", doubleticktest.APIKey, "")
	assert.Len(t, body["channels"], 1)
}

// A chat list's tags filter compares tags as they are, a leading @ or +
// included.
func TestTheFakesChatListFiltersTagsAsGiven(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0))
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	_, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "S", GroupID: "g"})
	require.NoError(t, err)
	_, _, err = c.Groups.AssignTags(ctx, &doubletick.AssignTagsRequest{GroupID: "g", Tags: []string{"@vip"}})
	require.NoError(t, err)
	page, _, err := c.Chats.List(ctx, &doubletick.ListChatsOptions{Tags: []string{"@vip"}})
	require.NoError(t, err)
	assert.Len(t, page.Chats, 1)
	page, _, err = c.Chats.List(ctx, &doubletick.ListChatsOptions{Tags: []string{"vip"}})
	require.NoError(t, err)
	assert.Empty(t, page.Chats)
}
