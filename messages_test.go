package doubletick_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
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

// captured is one request a test server saw.
type captured struct {
	method, path, query, ctype, auth string
	body                             map[string]any
}

// capture returns a handler that keeps each request and answers status and
// body.
func capture(got *[]captured, status int, answer string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := captured{method: r.Method, path: strings.TrimPrefix(r.URL.EscapedPath(), basePath), query: r.URL.RawQuery,
			ctype: r.Header.Get("Content-Type"), auth: r.Header.Get("Authorization")}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			_ = json.Unmarshal(b, &c.body)
		}
		*got = append(*got, c)
		respond(status, answer)(w, r)
	}
}

func TestSendsHaveTheDocumentedShape(t *testing.T) {
	var got []captured
	c := newTestClient(t, capture(&got, 201, ""))
	ctx := context.Background()
	group := doubletick.Target{GroupID: "grp_XYZ"}
	phone := doubletick.Target{To: "+919999999999", From: "+919000000000", MessageID: "c2973bf3-5f7a-4f30-a927-57cfb0c66ad3"}

	res, _, err := c.Messages.SendText(ctx, &doubletick.TextMessage{Target: group, Text: "Hello, group"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "POST", got[0].method)
	assert.Equal(t, "/whatsapp/message/text", got[0].path)
	assert.Equal(t, "application/json", got[0].ctype)
	assert.Equal(t, testKey, got[0].auth)
	id := got[0].body["messageId"].(string)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, id, "a generated UUID v4")
	assert.Equal(t, map[string]any{"groupId": "grp_XYZ", "messageId": id, "content": map[string]any{"text": "Hello, group"}}, got[0].body)
	assert.Equal(t, id, res.MessageID, "an empty 201 returns the ID that was sent")

	_, _, err = c.Messages.SendImage(ctx, &doubletick.MediaMessage{Target: phone, MediaURL: "https://example.com/a.jpg", Caption: "A"})
	require.NoError(t, err)
	assert.Equal(t, "/whatsapp/message/image", got[1].path)
	assert.Equal(t, map[string]any{"to": "+919999999999", "from": "+919000000000", "messageId": phone.MessageID,
		"content": map[string]any{"mediaUrl": "https://example.com/a.jpg", "caption": "A"}}, got[1].body)

	for i, send := range []func() error{
		func() error {
			_, _, err := c.Messages.SendVideo(ctx, &doubletick.MediaMessage{Target: group, MediaURL: "https://x/v.mp4"})
			return err
		},
		func() error {
			_, _, err := c.Messages.SendAudio(ctx, &doubletick.MediaMessage{Target: group, MediaURL: "https://x/a.mp3"})
			return err
		},
		func() error {
			_, _, err := c.Messages.SendDocument(ctx, &doubletick.DocumentMessage{MediaMessage: doubletick.MediaMessage{Target: group, MediaURL: "https://x/d.pdf"}, Filename: "d.pdf"})
			return err
		},
		func() error {
			_, _, err := c.Messages.SendLocation(ctx, &doubletick.LocationMessage{Target: group, Latitude: 19.082502, Longitude: 72.7163737, Name: "Office"})
			return err
		},
	} {
		require.NoError(t, send(), i)
	}
	assert.Equal(t, "/whatsapp/message/video", got[2].path)
	assert.Equal(t, "/whatsapp/message/audio", got[3].path)
	assert.Equal(t, "/whatsapp/message/document", got[4].path)
	assert.Equal(t, map[string]any{"mediaUrl": "https://x/d.pdf", "filename": "d.pdf"}, got[4].body["content"])
	assert.Equal(t, "/whatsapp/message/location", got[5].path)
	assert.Equal(t, map[string]any{"latitude": 19.082502, "longitude": 72.7163737, "name": "Office"}, got[5].body["content"])

	results, _, err := c.Messages.SendTemplate(ctx, &doubletick.SendTemplateRequest{Messages: []doubletick.TemplateMessage{{Target: group,
		Content:    doubletick.TemplateContent{TemplateName: "order_confirmation", Language: "en", TemplateData: &doubletick.TemplateData{Body: &doubletick.TemplateBody{Placeholders: []string{"Asha"}}}},
		CustomData: map[string]string{"orderId": "12345"}}}})
	require.NoError(t, err)
	assert.Equal(t, "/whatsapp/message/template", got[6].path)
	msgs := got[6].body["messages"].([]any)
	require.Len(t, msgs, 1)
	item := msgs[0].(map[string]any)
	assert.Equal(t, "grp_XYZ", item["groupId"])
	assert.Equal(t, map[string]any{"orderId": "12345"}, item["customData"])
	assert.Equal(t, map[string]any{"templateName": "order_confirmation", "language": "en",
		"templateData": map[string]any{"body": map[string]any{"placeholders": []any{"Asha"}}}}, item["content"])
	require.Len(t, results, 1)
	assert.Equal(t, item["messageId"], results[0].MessageID)
}

func TestSendResultsInEveryDocumentedShape(t *testing.T) {
	ctx := context.Background()
	c := newTestClient(t, respond(201, `{"status":"SENT","recipient":"grp_XYZ","messageId":"c2973bf3-5f7a-4f30-a927-57cfb0c66ad3"}`))
	res, _, err := c.Messages.SendText(ctx, &doubletick.TextMessage{Target: doubletick.Target{GroupID: "grp_XYZ"}, Text: "hi"})
	require.NoError(t, err)
	assert.Equal(t, doubletick.SendResult{Status: "SENT", Recipient: "grp_XYZ", MessageID: "c2973bf3-5f7a-4f30-a927-57cfb0c66ad3"}, *res)

	tmpl := doubletick.TemplateMessage{Target: doubletick.Target{To: "+919999999999"}, Content: doubletick.TemplateContent{TemplateName: "t", Language: "en"}}
	c = newTestClient(t, respond(201, `[{"status":"SENT","messageId":"a"},{"status":"SENT","messageId":"b"}]`))
	results, _, err := c.Messages.SendTemplate(ctx, &doubletick.SendTemplateRequest{Messages: []doubletick.TemplateMessage{tmpl, tmpl}})
	require.NoError(t, err)
	assert.Len(t, results, 2, "an array answer")

	var got []captured
	c = newTestClient(t, capture(&got, 201, `{"messages":[{"status":"ENQUEUED","recipient":"grp_XYZ","messageId":"m1","errorMessage":""}]}`))
	v2, _, err := c.Messages.SendTemplateV2(ctx, &doubletick.SendTemplateV2Request{ByPassMediaURLValidation: true, Messages: []doubletick.TemplateMessageV2{{
		Target: doubletick.Target{GroupID: "grp_XYZ"}, Content: doubletick.TemplateContentV2{TemplateName: "t", Language: "en_US"}}}})
	require.NoError(t, err)
	assert.Equal(t, "ENQUEUED", v2.Messages[0].Status)
	assert.Equal(t, "/v2/whatsapp/message/template", got[0].path)
	assert.Equal(t, true, got[0].body["byPassMediaUrlValidation"])
	assert.NotContains(t, got[0].body["messages"].([]any)[0], "messageId", "v2 takes no messageId")
}

func TestSendValidation(t *testing.T) {
	var calls atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1) })
	ctx := context.Background()
	fields := func(err error) []string {
		var verr *doubletick.ValidationError
		require.ErrorAs(t, err, &verr)
		var out []string
		for _, f := range verr.Fields {
			out = append(out, f.Field)
		}
		return out
	}
	_, _, err := c.Messages.SendText(ctx, &doubletick.TextMessage{Text: "x"})
	assert.Equal(t, []string{"groupId"}, fields(err), "neither groupId nor to")
	_, _, err = c.Messages.SendText(ctx, &doubletick.TextMessage{Target: doubletick.Target{GroupID: "g", To: "+919999999999"}, Text: "x"})
	assert.Equal(t, []string{"groupId"}, fields(err), "both")
	_, _, err = c.Messages.SendText(ctx, &doubletick.TextMessage{Target: doubletick.Target{To: "+9199", From: "12345678901234567", MessageID: "uuid-v4"}})
	assert.Equal(t, []string{"to", "from", "messageId", "content.text"}, fields(err), "every violation at once")
	_, _, err = c.Messages.SendImage(ctx, &doubletick.MediaMessage{Target: doubletick.Target{GroupID: "g"}, MediaURL: strings.Repeat("u", 2049), Caption: strings.Repeat("c", 3001)})
	assert.Equal(t, []string{"content.mediaUrl", "content.caption"}, fields(err))
	_, _, err = c.Messages.SendTemplate(ctx, &doubletick.SendTemplateRequest{Messages: []doubletick.TemplateMessage{{Target: doubletick.Target{GroupID: "g"}, Content: doubletick.TemplateContent{Language: "fr"}}}})
	assert.Equal(t, []string{"messages[0].content.templateName", "messages[0].content.language"}, fields(err))
	_, _, err = c.Messages.SendTemplateV2(ctx, &doubletick.SendTemplateV2Request{Messages: []doubletick.TemplateMessageV2{{Target: doubletick.Target{GroupID: "g", MessageID: doubletick.NewMessageID()},
		Content: doubletick.TemplateContentV2{TemplateName: "t", Language: "en"}}}})
	assert.Equal(t, []string{"messages[0].messageId"}, fields(err))
	_, _, err = c.Messages.SendText(ctx, nil)
	assert.Error(t, err)
	_, _, err = c.Messages.GetStatus(ctx, "not-a-uuid")
	assert.Equal(t, []string{"messageId"}, fields(err))
	_, _, err = c.Messages.UploadMedia(ctx, &doubletick.MediaFile{Name: "big.mp4", Size: doubletick.MaxMediaUploadBytes + 1, Body: strings.NewReader("")})
	assert.Equal(t, []string{"file.size"}, fields(err))
	_, _, err = c.Messages.UploadMedia(ctx, &doubletick.MediaFile{})
	assert.Equal(t, []string{"file.name", "file.body"}, fields(err))
	assert.Zero(t, calls.Load(), "nothing was sent")
}

// TestSendsAreNotRetriedOnceTheyMayHaveArrived: a 500 after a send may mean
// it was sent; only a 429 is retried.
func TestSendsAreNotRetriedOnceTheyMayHaveArrived(t *testing.T) {
	var calls atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			respond(429, `{"statusCode":429,"message":"Too Many Requests"}`, "Retry-After", "0")(w, r)
			return
		}
		respond(500, `{"statusCode":500,"message":"boom"}`)(w, r)
	}, doubletick.WithMaxAttempts(4), doubletick.WithBackoff(func(int) time.Duration { return time.Millisecond }))
	_, _, err := c.Messages.SendText(context.Background(), &doubletick.TextMessage{Target: doubletick.Target{GroupID: "g"}, Text: "x"})
	assert.ErrorIs(t, err, doubletick.ErrServerError)
	assert.Equal(t, int32(2), calls.Load(), "the 429 was retried, the 500 was not")
}

func TestMessageStatusAndItsDefaultLimit(t *testing.T) {
	var got []captured
	srvHandler := capture(&got, 200, `{"messageId":"c2973bf3-5f7a-4f30-a927-57cfb0c66ad3","sentAt":"2026-06-04T11:48:14.000Z",`+
		`"deliveredAt":null,"readAt":null,"repliedAt":null,"failedAt":"2026-06-04T11:49:00.000Z","failedReason":"blocked","errorCode":131047}`)
	c := newTestClient(t, srvHandler)
	st, _, err := c.Messages.GetStatus(context.Background(), "c2973bf3-5f7a-4f30-a927-57cfb0c66ad3")
	require.NoError(t, err)
	assert.Equal(t, "GET", got[0].method)
	assert.Equal(t, "/whatsapp/message/status", got[0].path)
	assert.Equal(t, "messageId=c2973bf3-5f7a-4f30-a927-57cfb0c66ad3", got[0].query)
	assert.False(t, st.SentAt.IsZero())
	assert.True(t, st.DeliveredAt.IsZero(), "null is the zero time")
	assert.Equal(t, "131047", st.ErrorCode, "a number is read too")

	assert.Equal(t, doubletick.RateLimit{Rate: 1, Burst: 1}, doubletick.DefaultRouteLimits()[doubletick.RouteGetMessageStatus],
		"get-message-status: 1 request per second per organisation")
	// With the defaults, a second status call within a second waits for its
	// token: a deadline shorter than that fails at once, nothing sent.
	def, err := doubletick.NewClient(testKey, doubletick.WithBaseURL("http://127.0.0.1:1"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, _ = def.Messages.GetStatus(ctx, "c2973bf3-5f7a-4f30-a927-57cfb0c66ad3")
	_, _, err = def.Messages.GetStatus(ctx, "c2973bf3-5f7a-4f30-a927-57cfb0c66ad3")
	assert.ErrorIs(t, err, doubletick.ErrRateLimited)
}

// slowZeros is a reader of n zero bytes that is not an io.Seeker.
type slowZeros struct{ n int64 }

func (z *slowZeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// TestUploadStreams16MiB uploads the largest file allowed to the fake and
// checks that the SDK never held it: its allocations stay far below the
// file's size.
func TestUploadStreams16MiB(t *testing.T) {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c := srv.Client()
	upload := func(n int64) (*doubletick.UploadResult, uint64, error) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res, _, err := c.Messages.UploadMedia(context.Background(), &doubletick.MediaFile{Name: "clip.mp4", Size: n, Body: &slowZeros{n}})
		runtime.ReadMemStats(&after)
		return res, after.TotalAlloc - before.TotalAlloc, err
	}
	res, alloc, err := upload(doubletick.MaxMediaUploadBytes)
	require.NoError(t, err)
	assert.Contains(t, res.MediaURL, "clip.mp4")
	assert.Equal(t, 86400, res.ExpiresIn)
	assert.Equal(t, int64(doubletick.MaxMediaUploadBytes), srv.UploadedBytes())
	// The fake in the same process streams too; both sides together
	// allocate a small fraction of the 16 MiB.
	assert.Less(t, alloc, uint64(4<<20), "allocated %d bytes for a 16 MiB upload", alloc)

	// A body longer than it said is cut off at its size; one of unknown
	// size, at the limit.
	_, _, err = c.Messages.UploadMedia(context.Background(), &doubletick.MediaFile{Name: "liar.mp4", Size: 10, Body: &slowZeros{20}})
	assert.ErrorIs(t, err, doubletick.ErrMediaSizeMismatch)
	_, _, err = c.Messages.UploadMedia(context.Background(), &doubletick.MediaFile{Name: "huge.mp4", Body: &slowZeros{doubletick.MaxMediaUploadBytes + 1}})
	assert.ErrorIs(t, err, doubletick.ErrMediaTooLarge)
	// A file of unknown size within the limit goes through, chunked.
	res, _, err = c.Messages.UploadMedia(context.Background(), &doubletick.MediaFile{Name: "small.png", Body: strings.NewReader("png")})
	require.NoError(t, err)
	assert.Contains(t, res.MediaURL, "small.png")
}

// TestRegisterThenDeliver registers a receiver through Client.Webhooks on the
// fake, with the same Authorization its verifier is built from, and gets the
// group's events there, in the registered body format.
func TestRegisterThenDeliver(t *testing.T) {
	// In order, and group events registered through the subscription API,
	// which DoubleTick's enum lacks: the fake's convenience.
	srv := doubleticktest.NewServer(doubleticktest.WithWebhookSenders(1), doubleticktest.WithGroupEventSubscriptions())
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	auth := &webhooks.Authorization{Type: webhooks.AuthorizationBearer, Payload: "one-secret-both-ends"}
	verifier, err := auth.Verifier()
	require.NoError(t, err)
	events := make(chan webhooks.Event, 10)
	h, err := webhooks.NewHandler(verifier, webhooks.WithBodyFormat(webhooks.BodyFormData), webhooks.WithMethods("PUT"),
		webhooks.OnEvent(func(_ context.Context, e webhooks.Event) error { events <- e; return nil }))
	require.NoError(t, err)
	recv := newHookServer(t, h)

	res, _, err := c.Webhooks.Register(ctx, &doubletick.WebhookRegistration{
		URL: recv + "/hooks", Method: "PUT", Name: "crm", WABANumbers: []string{"+911111111111"},
		Events:        []webhooks.Type{webhooks.TypeGroupCreated, webhooks.TypeParticipantJoined},
		BodyFormat:    webhooks.BodyFormData,
		Authorization: auth,
	})
	require.NoError(t, err)
	assert.Len(t, res.ValidWebhooks, 2)
	assert.Empty(t, res.InvalidWebhooks)

	_, _, err = c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "S", GroupID: "g1"})
	require.NoError(t, err)
	require.NoError(t, srv.Join("g1", "+919876543210", "Asha"))
	require.NoError(t, srv.SendMessage("g1", "+919876543210", "not subscribed"))
	require.NoError(t, srv.Join("g1", "+15551230000", "Bo"))
	got := []webhooks.Type{(<-events).Type(), (<-events).Type(), (<-events).Type()}
	assert.Equal(t, []webhooks.Type{webhooks.TypeGroupCreated, webhooks.TypeParticipantJoined, webhooks.TypeParticipantJoined}, got,
		"the message, not subscribed, was not delivered before the second join")

	list, _, err := c.Webhooks.List(ctx, &doubletick.ListWebhooksOptions{SortBy: "name"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "crm", list[0].Name)
	assert.Equal(t, 1, list[0].IntegrationCount)

	_, err = c.Webhooks.Deregister(ctx, list[0].WebhookID)
	require.NoError(t, err)
	list, _, err = c.Webhooks.List(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, list)
	require.NoError(t, srv.Join("g1", "+442079460958", "Cy"))
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	assert.Error(t, srv.WaitDeliveries(wctx, 4), "nothing is delivered to a deregistered webhook")
}

func TestWebhookRegistrationValidation(t *testing.T) {
	var calls atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1) })
	_, _, err := c.Webhooks.Register(context.Background(), &doubletick.WebhookRegistration{
		URL: "http://crm.example.com/hooks", Method: "TRACE", BodyFormat: "XML", WABANumbers: []string{"123"},
		Authorization: &webhooks.Authorization{Type: "DIGEST"},
	})
	var verr *doubletick.ValidationError
	require.ErrorAs(t, err, &verr)
	var names []string
	for _, f := range verr.Fields {
		names = append(names, f.Field)
	}
	assert.Equal(t, []string{"url", "method", "webhookEvents", "name", "wabaNumbers[0]", "bodyFormat", "authorization.type", "authorization.payload"}, names)
	_, _, err = c.Webhooks.Register(context.Background(), &doubletick.WebhookRegistration{URL: "", Name: "n", Events: []webhooks.Type{webhooks.TypeAddTag}, WABANumbers: []string{"+919999999999"}})
	assert.Error(t, err)
	_, _, err = c.Webhooks.Update(context.Background(), "", nil)
	assert.Error(t, err)
	_, err = c.Webhooks.Deregister(context.Background(), "")
	assert.Error(t, err)
	assert.Zero(t, calls.Load())
	assert.NotContains(t, err.Error()+verr.Error(), "payload-secret")
}

func TestWebhookCallsHaveTheDocumentedShape(t *testing.T) {
	var got []captured
	c := newTestClient(t, capture(&got, 201, `{"validWebhooks":[{"wabaNumber":"+919999999999","webhookEventType":"MESSAGE_RECEIVED"}],"invalidWebhooks":[],"invalidWabaNumbers":[]}`))
	ctx := context.Background()
	reg := &doubletick.WebhookRegistration{URL: "https://crm.example.com/hooks", Name: "crm", Events: []webhooks.Type{webhooks.TypeMessageReceived},
		WABANumbers: []string{"+919999999999"}, Authorization: &webhooks.Authorization{Type: "BEARER", Payload: "payload-secret"}, RetryOnTimeout: true}
	_, _, err := c.Webhooks.Register(ctx, reg)
	require.NoError(t, err)
	_, _, err = c.Webhooks.Update(ctx, "abc/123", reg)
	require.NoError(t, err)
	assert.Equal(t, "/v2/webhook/register", got[0].path)
	assert.Equal(t, map[string]any{"url": "https://crm.example.com/hooks", "method": "POST", "webhookEvents": []any{"MESSAGE_RECEIVED"},
		"name": "crm", "wabaNumbers": []any{"+919999999999"}, "authorization": map[string]any{"type": "BEARER", "payload": "payload-secret"},
		"retryOnTimeout": true}, got[0].body)
	assert.Equal(t, "/v2/webhook/abc%2F123", got[1].path)

	// Without an authorization the field is left out, not sent as null
	// (the subscription API's schema does not allow null).
	reg.Authorization = nil
	_, _, err = c.Webhooks.Register(ctx, reg)
	require.NoError(t, err)
	assert.NotContains(t, got[2].body, "authorization")
	got = got[:2]

	c = newTestClient(t, capture(&got, 201, `{"webhookId":"abc123","url":"https://x","eventTypes":["MESSAGE_RECEIVED"],"wabaNumbers":["+919999999999"],"integrationCount":"3","createdBy":"admin","name":"My Webhook"}`))
	list, _, err := c.Webhooks.List(ctx, &doubletick.ListWebhooksOptions{SortBy: "url", SortDirection: "DESC"})
	require.NoError(t, err)
	require.Len(t, list, 1, "the OpenAPI's single object")
	assert.Equal(t, 3, list[0].IntegrationCount, "the guide's string count")
	assert.Equal(t, "sortBy=url&sortDirection=DESC", got[2].query)

	c = newTestClient(t, capture(&got, 201, `{}`))
	_, err = c.Webhooks.Deregister(ctx, "abc123")
	require.NoError(t, err)
	assert.Equal(t, "DELETE", got[3].method)
	assert.Equal(t, "/v2/webhook/deregister", got[3].path)
	assert.Equal(t, map[string]any{"webhookId": "abc123"}, got[3].body)
}

// TestAuthorizationHidesItsPayload prints an Authorization the ways a user
// might.
func TestAuthorizationHidesItsPayload(t *testing.T) {
	a := webhooks.Authorization{Type: "BEARER", Payload: "payload-secret"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		assert.NotContains(t, sprintf(verb, a), "payload-secret")
		assert.NotContains(t, sprintf(verb, &a), "payload-secret")
	}
	_, err := (webhooks.Authorization{Type: "DIGEST", Payload: "payload-secret"}).Verifier()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "payload-secret")
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

// newHookServer serves h on loopback and returns its URL.
func newHookServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSendStatusesMapToErrors answers a send with each documented failure.
func TestSendStatusesMapToErrors(t *testing.T) {
	for status, want := range map[int]error{
		400: doubletick.ErrBadRequest,    // "Incorrect payload"
		401: doubletick.ErrUnauthorized,  // "Invalid public api key"
		422: doubletick.ErrUnprocessable, // the guides' "invalid file type for audio"
		429: doubletick.ErrRateLimited,   // none documented for sends; any route may
		500: doubletick.ErrServerError,
	} {
		c := newTestClient(t, respond(status, `{"statusCode":`+fmt.Sprint(status)+`,"message":"m","error":"e"}`))
		_, _, err := c.Messages.SendAudio(context.Background(), &doubletick.MediaMessage{Target: doubletick.Target{GroupID: "g"}, MediaURL: "https://x/a.mp3"})
		assert.ErrorIs(t, err, want, status)
		var apiErr *doubletick.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "m", apiErr.Message())
	}
}

// TestAnUploadMeeting429PausesTheRoute: an upload cannot be sent again
// from a plain reader, but its 429 must still pause the route for every
// other caller.
func TestAnUploadMeeting429PausesTheRoute(t *testing.T) {
	var calls atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		respond(429, `{"statusCode":429,"message":"Too Many Requests"}`, "Retry-After", "30")(w, r)
	}, doubletick.WithMaxAttempts(3))
	_, _, err := c.Messages.UploadMedia(context.Background(), &doubletick.MediaFile{Name: "a.png", Body: &slowZeros{10}})
	assert.ErrorIs(t, err, doubletick.ErrRateLimited)
	assert.Equal(t, int32(1), calls.Load(), "a plain reader is not sent twice")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _, err = c.Messages.UploadMedia(ctx, &doubletick.MediaFile{Name: "b.png", Body: &slowZeros{10}})
	assert.ErrorIs(t, err, doubletick.ErrRateLimited)
	assert.Equal(t, int32(1), calls.Load(), "the route is paused: the next upload is refused before sending")
}

// DoubleTick answering a registration without accepting anything is an
// error that says what was refused; partial acceptance is the result; a
// refusal of group events says where those are subscribed.
func TestARegistrationThatAcceptedNothingIsAnError(t *testing.T) {
	reg := &doubletick.WebhookRegistration{URL: "https://crm.example.com/hooks", Name: "crm",
		Events: []webhooks.Type{webhooks.TypeMessageReceived, webhooks.TypeGroupCreated}, WABANumbers: []string{"+919999999999"}}
	c := newTestClient(t, respond(201, `{"validWebhooks":[],"invalidWebhooks":[{"wabaNumber":"+919999999999","webhookEventType":"GROUP_CREATED"}],"invalidWabaNumbers":["+918888888888"]}`))
	res, _, err := c.Webhooks.Register(context.Background(), reg)
	require.ErrorIs(t, err, doubletick.ErrNothingRegistered)
	var rerr *doubletick.RegistrationError
	require.ErrorAs(t, err, &rerr)
	assert.Same(t, res, rerr.Result, "the answer comes with the error")
	assert.Equal(t, "doubletick: no webhook was registered: numbers without an integration: +918888888888; refused: GROUP_CREATED on +919999999999; "+
		"not in the subscription API's documented events: GROUP_CREATED; subscribe to them in DoubleTick's dashboard, "+
		"Settings → Webhooks (WhatsApp Group Webhooks for the group events, Conversation Cost Webhooks for CONVERSATION_COST_DEDUCTED)", err.Error())

	partial := newTestClient(t, respond(201, `{"validWebhooks":[{"wabaNumber":"+919999999999","webhookEventType":"MESSAGE_RECEIVED"}],"invalidWebhooks":[{"wabaNumber":"+919999999999","webhookEventType":"GROUP_CREATED"}],"invalidWabaNumbers":[]}`))
	res, _, err = partial.Webhooks.Update(context.Background(), "wh_1", reg)
	require.NoError(t, err, "partial acceptance is a result")
	assert.Len(t, res.InvalidWebhooks, 1)

	refused := newTestClient(t, respond(400, `{"statusCode":400,"message":["each value in webhookEvents must be one of the following values: MESSAGE_RECEIVED"],"error":"Bad Request"}`))
	_, _, err = refused.Webhooks.Register(context.Background(), reg)
	var apiErr *doubletick.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, err.Error(), "Settings → Webhooks (WhatsApp Group Webhooks")
}
