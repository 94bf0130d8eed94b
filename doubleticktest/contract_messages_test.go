package doubleticktest_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
)

// The messaging and webhook-subscription endpoints' schemas, written from
// their pages under https://docs.doubletick.io/reference/
// (outgoing-messages-whatsapp-text … -template-v2, upload-media,
// get-message-status, register-webhook, edit-webhooks, get-webhooks,
// delete-webhooks).

// addressing is a send DTO: the shared addressing fields around content.
func addressing(content schema, messageID bool) schema {
	s := schema{"from": opt("string"), "to": opt("string"), "groupId": opt("string"),
		"content": {typ: "object", required: true, of: content}}
	if messageID {
		s["messageId"] = opt("string")
	}
	return s
}

var (
	mediaContent  = schema{"mediaUrl": req("string"), "caption": opt("string")}
	templateLangs = "enum:en|en_US|en_GB|pt_BR|es|id"
	buttons       = arrayOf(schema{"type": req("enum:URL"), "parameter": opt("string")}, false)
	// SendTemplateMessageContentDto (v1).
	templateV1 = schema{"templateName": req("string"), "language": req(templateLangs), "templateData": {typ: "object", of: schema{
		"header": {typ: "object", of: schema{"type": opt("enum:TEXT|IMAGE|DOCUMENT|VIDEO|LOCATION"), "placeholder": opt("string"),
			"mediaUrl": opt("string"), "filename": opt("string"), "latitude": opt("number"), "longitude": opt("number")}},
		"body":    {typ: "object", of: schema{"placeholders": arrayOf("string", true)}},
		"buttons": buttons,
		"cards":   arrayOf(schema{"cardIndex": opt("number"), "components": {typ: "object", of: schema{}}}, false),
	}}}
	// The v2 content: no header placeholder, filename or coordinates, and
	// body placeholders as objects of strings.
	templateV2 = schema{"templateName": req("string"), "language": req(templateLangs), "templateData": {typ: "object", of: schema{
		"header":  {typ: "object", of: schema{"type": opt("enum:TEXT|IMAGE|DOCUMENT|VIDEO"), "mediaUrl": opt("string")}},
		"body":    {typ: "object", of: schema{"placeholders": arrayOf("map:string", true)}},
		"buttons": buttons,
		"cards":   arrayOf(schema{"cardIndex": opt("number"), "components": {typ: "object", of: schema{}}}, false),
	}}}
	// RegisterPublicWebhookDtoV2, the body of register and edit.
	registration = schema{"url": req("string"), "method": req("enum:GET|POST|PUT|DELETE|PATCH|HEAD"),
		"headers": opt("map:any"), "body": opt("map:any"), "query": opt("map:any"), "bodyFormat": opt("enum:JSON|FORM_DATA"),
		"authorization": {typ: "object", of: schema{"type": req("enum:BASIC|BEARER"), "payload": req("string")}},
		"webhookEvents": arrayOf("string", true), "retryOnTimeout": opt("boolean"), "name": req("string"),
		"wabaNumbers": arrayOf("string", true)}
	// RegisterPublicWebhookResponseV2.
	publicWebhook = schema{"wabaNumber": req("string"), "webhookEventType": req("string")}
	registered    = schema{"validWebhooks": arrayOf(publicWebhook, true), "invalidWebhooks": arrayOf(publicWebhook, true),
		"invalidWabaNumbers": arrayOf("string", true)}
	// The guides' 201 of a send.
	sent = schema{"status": req("string"), "recipient": req("string"), "messageId": req("string")}
)

func init() {
	for route, content := range map[string]schema{
		doubletick.RouteSendText:     {"text": req("string")},
		doubletick.RouteSendImage:    mediaContent,
		doubletick.RouteSendVideo:    mediaContent,
		doubletick.RouteSendAudio:    mediaContent,
		doubletick.RouteSendDocument: {"mediaUrl": req("string"), "caption": opt("string"), "filename": opt("string")},
		doubletick.RouteSendLocation: {"latitude": req("number"), "longitude": req("number"), "name": opt("string"), "address": opt("string")},
	} {
		requests[route] = struct {
			query, body   schema
			multipartFile string
		}{body: addressing(content, true)}
		responses[route] = map[int]schema{201: sent}
		documentedErrors[route] = map[int]string{400: "", 422: ""}
	}
	v1 := addressing(templateV1, true)
	v1["customData"] = opt("map:string")
	v2 := addressing(templateV2, false)
	v2["customData"] = opt("map:string")
	for route, r := range map[string]struct {
		query, body   schema
		multipartFile string
	}{
		doubletick.RouteSendTemplate:      {body: schema{"messages": arrayOf(v1, true)}},
		doubletick.RouteSendTemplateV2:    {body: schema{"messages": arrayOf(v2, true), "byPassMediaUrlValidation": opt("boolean")}},
		doubletick.RouteUploadMedia:       {multipartFile: "file"},
		doubletick.RouteGetMessageStatus:  {query: schema{"messageId": req("string")}},
		doubletick.RouteRegisterWebhook:   {body: registration},
		doubletick.RouteUpdateWebhook:     {body: registration},
		doubletick.RouteListWebhooks:      {query: schema{"sortBy": opt("enum:name|url|createdBy|integrationCount"), "sortDirection": opt("enum:ASC|DESC")}},
		doubletick.RouteDeregisterWebhook: {body: schema{"webhookId": req("string")}},
	} {
		requests[route] = r
	}
	nullableTime := opt("date-time|null")
	for route, answers := range map[string]map[int]schema{
		doubletick.RouteSendTemplate: {201: sent},
		doubletick.RouteSendTemplateV2: {201: {"messages": arrayOf(schema{"status": req("enum:SENT|FAILED|ENQUEUED"),
			"recipient": req("string"), "messageId": req("string"), "errorMessage": opt("string")}, true)}},
		doubletick.RouteUploadMedia: {201: {"mediaUrl": req("string"), "expiresIn": req("integer")}},
		doubletick.RouteGetMessageStatus: {200: {"messageId": req("string"), "sentAt": nullableTime, "deliveredAt": nullableTime,
			"readAt": nullableTime, "repliedAt": nullableTime, "failedAt": nullableTime, "failedReason": opt("string"), "errorCode": opt("string")}},
		doubletick.RouteRegisterWebhook: {201: registered},
		doubletick.RouteUpdateWebhook:   {201: registered},
		// FetchWebhooksQueryResponseV2, all fields required; an array of
		// them in the guide.
		doubletick.RouteListWebhooks: {201: {"webhookId": req("string"), "url": req("string"), "eventTypes": arrayOf("string", true),
			"wabaNumbers": arrayOf("string", true), "integrationCount": req("integer"), "createdBy": req("string"), "name": req("string")}},
		doubletick.RouteDeregisterWebhook: {201: {}},
	} {
		responses[route] = answers
	}
	for route, errs := range map[string]map[int]string{
		doubletick.RouteSendTemplate:      {400: "", 422: ""},
		doubletick.RouteSendTemplateV2:    {400: "", 422: ""},
		doubletick.RouteUploadMedia:       {400: "", 422: ""},
		doubletick.RouteGetMessageStatus:  {400: "", 404: "No message found with this messageId"},
		doubletick.RouteRegisterWebhook:   {400: ""},
		doubletick.RouteUpdateWebhook:     {400: "Invalid request format"},
		doubletick.RouteListWebhooks:      {400: "Invalid request format"},
		doubletick.RouteDeregisterWebhook: {400: ""},
	} {
		documentedErrors[route] = errs
	}
}

// listAnswers are the routes whose documented answer is one object in the
// OpenAPI document and an array of them in the guide: both are read.
var listAnswers = map[string]bool{doubletick.RouteListWebhooks: true, doubletick.RouteSendTemplate: true}

// TestContractMessagesAndSubscriptions drives every messaging and
// webhook-subscription endpoint through the SDK, each to its success and,
// where the SDK's own checks do not stop it first, to a documented failure;
// checks both sides against the docs; and checks that the SDK decodes every
// success.
func TestContractMessagesAndSubscriptions(t *testing.T) {
	fake := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0), doubleticktest.WithWABANumbers(waba), doubleticktest.WithClock(tick()))
	defer fake.Close()
	c, rec := contractClient(t, fake)
	ctx := context.Background()
	_, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "S", GroupID: "g1"})
	require.NoError(t, err)
	rec.exchanges = nil // the group endpoints are TestContract's

	lat, lng := 19.08, 72.71
	for _, group := range []string{"g1", "missing"} { // the second is a 400
		ok := func(err error) {
			if group == "g1" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		}
		at := doubletick.Target{GroupID: group, From: "+" + waba}
		res, _, err := c.Messages.SendText(ctx, &doubletick.TextMessage{Target: at, Text: "hi"})
		ok(err)
		if err == nil {
			_, _, err = c.Messages.GetStatus(ctx, res.MessageID)
			require.NoError(t, err)
		}
		media := &doubletick.MediaMessage{Target: at, MediaURL: "https://example.com/a.jpg", Caption: "c"}
		_, _, err = c.Messages.SendImage(ctx, media)
		ok(err)
		_, _, err = c.Messages.SendVideo(ctx, media)
		ok(err)
		_, _, err = c.Messages.SendAudio(ctx, &doubletick.MediaMessage{Target: at, MediaURL: "https://example.com/a.mp3"})
		ok(err)
		_, _, err = c.Messages.SendDocument(ctx, &doubletick.DocumentMessage{MediaMessage: *media, Filename: "a.pdf"})
		ok(err)
		_, _, err = c.Messages.SendLocation(ctx, &doubletick.LocationMessage{Target: at, Latitude: lat, Longitude: lng, Name: "n", Address: "a"})
		ok(err)
		_, _, err = c.Messages.SendTemplate(ctx, &doubletick.SendTemplateRequest{Messages: []doubletick.TemplateMessage{{
			Target: doubletick.Target{GroupID: group, MessageID: doubletick.NewMessageID()},
			Content: doubletick.TemplateContent{TemplateName: "welcome", Language: "en", TemplateData: &doubletick.TemplateData{
				Header:  &doubletick.TemplateHeader{Type: "LOCATION", Latitude: &lat, Longitude: &lng},
				Body:    &doubletick.TemplateBody{Placeholders: []string{"Asha"}},
				Buttons: []doubletick.TemplateButton{{Type: "URL", Parameter: "x"}}}},
			CustomData: map[string]string{"orderId": "1"}}}})
		ok(err)
		_, _, err = c.Messages.SendTemplateV2(ctx, &doubletick.SendTemplateV2Request{Messages: []doubletick.TemplateMessageV2{{
			Target: doubletick.Target{GroupID: group},
			Content: doubletick.TemplateContentV2{TemplateName: "welcome", Language: "en_US", TemplateData: &doubletick.TemplateDataV2{
				Header: &doubletick.TemplateHeaderV2{Type: "IMAGE", MediaURL: "https://example.com/a.jpg"},
				Body:   &doubletick.TemplateBodyV2{Placeholders: []map[string]string{{"name": "Asha"}}}}}}},
			ByPassMediaURLValidation: true})
		ok(err)
	}
	_, _, err = c.Messages.GetStatus(ctx, doubletick.NewMessageID())
	require.Error(t, err, "404: no such message")
	_, _, err = c.Messages.UploadMedia(ctx, &doubletick.MediaFile{Name: "a.jpg", ContentType: "image/jpeg", Size: 3, Body: strings.NewReader("jpg")})
	require.NoError(t, err)

	reg := &doubletick.WebhookRegistration{URL: "https://crm.example.com/hooks", Name: "crm", Method: "PUT",
		Events: []webhooks.Type{webhooks.TypeMessageReceived}, WABANumbers: []string{"+" + waba, "+919999999999"},
		Headers: map[string]string{"X-Tenant": "t1"}, Query: map[string]string{"src": "dt"}, Body: map[string]any{"n": 1},
		BodyFormat: webhooks.BodyFormData, RetryOnTimeout: true,
		Authorization: &webhooks.Authorization{Type: webhooks.AuthorizationBearer, Payload: "bearer-token"}}
	_, _, err = c.Webhooks.Register(ctx, reg)
	require.NoError(t, err)
	_, _, err = c.Webhooks.Register(ctx, &doubletick.WebhookRegistration{URL: "https://b.example.com/hooks", Name: "b",
		Events: []webhooks.Type{webhooks.TypeMessageStatusUpdate}, WABANumbers: []string{"+" + waba}})
	require.NoError(t, err)
	list, _, err := c.Webhooks.List(ctx, &doubletick.ListWebhooksOptions{SortBy: "url", SortDirection: "DESC"})
	require.NoError(t, err)
	require.Len(t, list, 2)
	_, _, err = c.Webhooks.Update(ctx, list[0].WebhookID, reg)
	require.NoError(t, err)
	_, _, err = c.Webhooks.Update(ctx, "wh_unknown", reg)
	require.Error(t, err, "400 Invalid request format")
	_, err = c.Webhooks.Deregister(ctx, list[0].WebhookID)
	require.NoError(t, err)

	seen := checkExchanges(t, rec.exchanges)
	want := map[string][]int{
		doubletick.RouteSendText: {201, 400}, doubletick.RouteSendImage: {201, 400}, doubletick.RouteSendVideo: {201, 400},
		doubletick.RouteSendAudio: {201, 400}, doubletick.RouteSendDocument: {201, 400}, doubletick.RouteSendLocation: {201, 400},
		doubletick.RouteSendTemplate: {201, 400}, doubletick.RouteSendTemplateV2: {201, 400},
		doubletick.RouteGetMessageStatus: {200, 404},
		// The SDK refuses every request these endpoints would fail first.
		doubletick.RouteUploadMedia: {201}, doubletick.RouteRegisterWebhook: {201}, doubletick.RouteListWebhooks: {201},
		doubletick.RouteDeregisterWebhook: {201},
		doubletick.RouteUpdateWebhook:     {201, 400},
	}
	assertStatuses(t, seen, want)
	// With TestContractOrganization's, TestContractTemplates',
	// TestContractChats', TestContractCustomers' and TestContract's group
	// endpoints,
	// every route the SDK has.
	assert.Len(t, slices.Concat(groupRoutes, orgRoutes, templateRoutes, chatRoutes, customerRoutes, keys(want)), len(requests))
	assert.Len(t, requests, 49)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
