package doubleticktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

// The contract test checks every answer of the fake, per endpoint and per
// status, against the response schemas of DoubleTick's docs, and every
// request the SDK sends against the request schemas. The schemas are
// written here from the field tables and OpenAPI schemas of the endpoint
// pages under https://docs.doubletick.io/reference/, not from the SDK's or
// the fake's types.

// field is one documented field: its type, and whether it must be present.
//
// Types: "string", "integer", "number", "boolean", "date-time" (RFC 3339),
// "date" (YYYY-MM-DD), "enum:a|b", "object" (a nested schema in of), "map:T"
// (an object of any keys whose values are T; "map:any" for any values),
// "array" (of the type or schema in of); "|null" after a type allows null. Arrays are
// never null unless they say so.
type field struct {
	typ      string
	required bool
	of       any // schema, or the type of array items
}

type schema map[string]field

func req(typ string) field { return field{typ: typ, required: true} }
func opt(typ string) field { return field{typ: typ} }
func arrayOf(items any, required bool) field {
	return field{typ: "array", of: items, required: required}
}

// GroupInfoResponse (getwhatsappgroupinfo); GroupListItem (listwhatsappgroups)
// has the same fields.
var groupInfo = schema{
	"groupId": req("string"), "subject": req("string"), "description": req("string"),
	"totalParticipantCount": req("integer"), "inviteLink": req("string|null"), "status": req("string"),
	"groupCreatedAt": req("date-time"),
}

// The NestJS error body of every endpoint page: message is a string or, for
// several validation failures, an array of strings.
var nestError = schema{"statusCode": req("integer"), "message": req("message"), "error": req("string")}

var responses = map[string]map[int]schema{
	// CreateGroupResponse (createwhatsappgroup).
	doubletick.RouteCreateGroup: {200: {"success": req("boolean"), "groupId": req("string"), "wabaNumber": req("string")}},
	doubletick.RouteGetGroup:    {200: groupInfo},
	// UpdateGroupSettingsResponse (updatewhatsappgroupsettings).
	doubletick.RouteUpdateGroup: {200: {"success": req("boolean")}},
	// ListGroupsResponse (listwhatsappgroups).
	doubletick.RouteListGroups: {200: {"groups": arrayOf(groupInfo, true), "hasMore": req("boolean"),
		"lastGroupId": req("string|null"), "olderThanTimestamp": req("date-time|null")}},
	// ListParticipantsResponse (getwhatsappgroupparticipants).
	doubletick.RouteListParticipants: {200: {"participants": arrayOf(schema{"name": req("string|null"), "phoneNumber": req("string"),
		"dateJoined": req("date-time|null"), "dateRemoved": req("date-time|null"), "dateLeft": req("date-time|null")}, true),
		"hasMore": req("boolean"), "lastPhoneNumber": req("string|null"), "olderThanTimestamp": req("date-time|null")}},
	// RemoveParticipantResponse (removewhatsappgroupparticipant).
	doubletick.RouteRemoveParticipant: {200: {"messaging_product": req("string"), "request_id": req("string")}},
	// DeleteGroupResponse (deletewhatsappgroup).
	doubletick.RouteDeleteGroup: {200: {"success": req("boolean")}},
	// getwhatsappgroupaisummary.
	doubletick.RouteGetGroupAISummary: {200: {"startDate": req("date-time"), "endDate": req("date-time"), "chatType": req("string"),
		"groupName": req("string"), "memberCount": req("integer"),
		"members":           arrayOf(schema{"id": req("string"), "name": req("string"), "customerNumber": req("string")}, true),
		"chatMessagesCount": req("integer"), "callsCount": req("integer"),
		"summaries": arrayOf(schema{"title": req("string"), "description": req("string")}, true)}},
	// wa-group-assign-tags-custom-fields and -remove-: 201.
	doubletick.RouteAssignGroupTags: {201: {
		"tags":         {typ: "object", required: true, of: schema{"added": arrayOf("string", true), "errored": arrayOf(schema{"tag": req("string"), "error": req("string")}, true)}},
		"customFields": {typ: "object", required: true, of: schema{"added": arrayOf("string", true), "errored": arrayOf(schema{"customField": req("string"), "error": req("string")}, true)}}}},
	doubletick.RouteRemoveGroupTags: {201: {
		"tags":         {typ: "object", required: true, of: schema{"removed": arrayOf("string", true), "errored": arrayOf(schema{"tag": req("string"), "error": req("string")}, true)}},
		"customFields": {typ: "object", required: true, of: schema{"removed": arrayOf("string", true), "errored": arrayOf(schema{"customField": req("string"), "error": req("string")}, true)}}}},
}

// The statuses each endpoint documents besides 200/201 (and 401 and 429,
// which every endpoint may answer), with the documented message when there
// is one.
var documentedErrors = map[string]map[int]string{
	doubletick.RouteCreateGroup:       {400: "", 403: "", 422: ""},
	doubletick.RouteGetGroup:          {404: "Group not found for the given groupId"},
	doubletick.RouteUpdateGroup:       {400: "", 404: "Group not found or group creation is still pending"},
	doubletick.RouteListGroups:        {400: "Missing wabaNumber or no integration found for the given WABA number"},
	doubletick.RouteListParticipants:  {404: "Group not found for the given groupId"},
	doubletick.RouteRemoveParticipant: {404: ""},
	doubletick.RouteDeleteGroup:       {404: "Group not found or group creation is still pending"},
	doubletick.RouteGetGroupAISummary: {400: "", 403: "", 404: "Group not found for the given groupId", 422: "Insufficient AI credits"},
	doubletick.RouteAssignGroupTags:   {400: "", 404: ""},
	doubletick.RouteRemoveGroupTags:   {400: "", 404: ""},
}

// emptyAnswers are the answers a page documents with no content, by
// route and status.
var emptyAnswers = map[string]map[int]bool{}

// errorShapes are the error bodies a page documents in another shape than
// NestJS's, by route and status.
var errorShapes = map[string]map[int]schema{}

// Request schemas: the body or query of each endpoint.
var requests = map[string]struct {
	query, body schema
	// multipartFile names the file part of a form-data body.
	multipartFile string
}{
	// createwhatsappgroup's required list; the field limits are checked by the
	// fake.
	doubletick.RouteCreateGroup: {body: schema{"wabaNumber": req("string"), "subject": req("string"), "description": opt("string"),
		"joinApprovalMode": opt("enum:auto_approve|approval_required"), "groupId": opt("string")}},
	doubletick.RouteGetGroup:    {query: schema{"groupId": req("string")}},
	doubletick.RouteUpdateGroup: {query: schema{"groupId": req("string")}, body: schema{"wabaNumber": req("string"), "subject": opt("string"), "description": opt("string"), "groupId": opt("string")}},
	doubletick.RouteListGroups:  {query: schema{"wabaNumber": req("string"), "lastGroupId": opt("string"), "olderThanTimestamp": opt("date-time")}},
	doubletick.RouteListParticipants: {query: schema{"groupId": req("string"), "lastPhoneNumber": opt("string"),
		"olderThanTimestamp": opt("date-time")}},
	doubletick.RouteRemoveParticipant: {query: schema{"groupId": req("string"), "participantPhone": req("string")}},
	doubletick.RouteDeleteGroup:       {query: schema{"groupId": req("string")}},
	doubletick.RouteGetGroupAISummary: {query: schema{"groupId": req("string"), "startDate": req("date"), "endDate": req("date")}},
	doubletick.RouteAssignGroupTags: {body: schema{"groupId": req("string"), "tags": arrayOf("string", false),
		"customFields": arrayOf(schema{"name": req("string"), "value": opt("string"), "values": arrayOf("string", false)}, false)}},
	doubletick.RouteRemoveGroupTags: {body: schema{"groupId": req("string"), "tags": arrayOf("string", false),
		"customFields": arrayOf("string", false), "shouldCreateChatLog": opt("boolean")}},
}

var dateOnly = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// checkValue reports how v breaks typ, or "" when it does not.
func checkValue(path string, typ string, of any, v any) []string {
	base, nullable := strings.CutSuffix(typ, "|null")
	if v == nil {
		if nullable {
			return nil
		}
		return []string{path + ": null, documented as " + typ}
	}
	bad := func() []string { return []string{fmt.Sprintf("%s: %T %v, documented as %s", path, v, v, typ)} }
	switch {
	case base == "string":
		if _, ok := v.(string); !ok {
			return bad()
		}
	case base == "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			return bad()
		}
	case base == "boolean":
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case base == "date-time":
		s, ok := v.(string)
		if _, err := time.Parse(time.RFC3339Nano, s); !ok || err != nil {
			return bad()
		}
	case base == "date":
		if s, ok := v.(string); !ok || !dateOnly.MatchString(s) {
			return bad()
		}
	case strings.HasPrefix(base, "enum:"):
		if s, ok := v.(string); !ok || !slices.Contains(strings.Split(base[5:], "|"), s) {
			return bad()
		}
	case base == "message":
		switch m := v.(type) {
		case string:
		case []any:
			for i, x := range m {
				if _, ok := x.(string); !ok {
					return []string{fmt.Sprintf("%s[%d]: not a string", path, i)}
				}
			}
		default:
			return bad()
		}
	case base == "number":
		if _, ok := v.(float64); !ok {
			return bad()
		}
	case base == "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		return checkObject(path, of.(schema), obj)
	case strings.HasPrefix(base, "map:"): // an object of any keys
		obj, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		var out []string
		for k, x := range obj {
			if base != "map:any" {
				out = append(out, checkValue(path+"."+k, base[4:], nil, x)...)
			}
		}
		return out
	case base == "array":
		list, ok := v.([]any)
		if !ok {
			return bad()
		}
		var out []string
		for i, x := range list {
			p := fmt.Sprintf("%s[%d]", path, i)
			if s, isSchema := of.(schema); isSchema {
				out = append(out, checkValue(p, "object", s, x)...)
			} else {
				out = append(out, checkValue(p, of.(string), nil, x)...)
			}
		}
		return out
	default:
		panic("contract: unknown type " + typ)
	}
	return nil
}

// checkObject reports every missing, mistyped or undocumented field.
func checkObject(path string, s schema, obj map[string]any) []string {
	var out []string
	for name, f := range s {
		v, ok := obj[name]
		if !ok {
			if f.required {
				out = append(out, path+"."+name+": missing")
			}
			continue
		}
		out = append(out, checkValue(path+"."+name, f.typ, f.of, v)...)
	}
	for name := range obj {
		if _, ok := s[name]; !ok {
			out = append(out, path+"."+name+": not documented")
		}
	}
	slices.Sort(out)
	return out
}

// exchange is one request the SDK sent and the fake's answer.
type exchange struct {
	route       string
	contentType string
	query       url.Values
	body        []byte
	status      int
	answer      []byte
}

// recorder is a proxy in front of the fake that keeps every exchange.
type recorder struct {
	mu        sync.Mutex
	exchanges []exchange
}

func (rec *recorder) start(t *testing.T, target string) string {
	u, err := url.Parse(target)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(res *http.Response) error {
		answer, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		res.Body = io.NopCloser(bytes.NewReader(answer))
		req := res.Request
		var body []byte
		if b, ok := req.Context().Value(bodyKey{}).([]byte); ok {
			body = b
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.exchanges = append(rec.exchanges, exchange{route: req.Method + " " + req.URL.Path, contentType: req.Header.Get("Content-Type"), query: req.URL.Query(), body: body, status: res.StatusCode, answer: answer})
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, body)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

type bodyKey struct{}

// contractClient returns a Client that calls fake through a recorder, with
// no client-side limit and no retry, so that each call is one exchange.
func contractClient(t *testing.T, fake *doubleticktest.Server) (*doubletick.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	c, err := doubletick.NewClient(doubleticktest.APIKey, doubletick.WithBaseURL(rec.start(t, fake.URL)),
		doubletick.WithoutRateLimit(), doubletick.WithMaxAttempts(1))
	require.NoError(t, err)
	return c, rec
}

// assertStatuses checks that each route of want was answered with exactly
// its statuses, and returns the routes.
func assertStatuses(t *testing.T, seen map[string]map[int]bool, want map[string][]int) []string {
	t.Helper()
	for route, statuses := range want {
		got := map[int]bool{}
		for _, s := range statuses {
			got[s] = true
		}
		assert.Equal(t, got, seen[route], route)
	}
	return keys(want)
}

// TestContract drives every endpoint through the SDK, to each status the
// fake can answer it with, and checks both sides against the docs.
func TestContract(t *testing.T) {
	fake := doubleticktest.NewServer(doubleticktest.WithCreationDelay(time.Hour), doubleticktest.WithWABANumbers(waba),
		doubleticktest.WithClock(tick()))
	defer fake.Close()
	var rec recorder
	c, err := doubletick.NewClient(doubleticktest.APIKey, doubletick.WithBaseURL(rec.start(t, fake.URL)),
		doubletick.WithoutRateLimit(), doubletick.WithMaxAttempts(1))
	require.NoError(t, err)
	ctx := context.Background()
	day := time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)
	calls := func(id string) {
		_, _, _ = c.Groups.Get(ctx, id)
		_, _, _ = c.Participants.List(ctx, id, nil)
		_, _, _ = c.Participants.List(ctx, id, &doubletick.ListParticipantsOptions{OlderThan: day})
		_, _, _ = c.Groups.GetAISummary(ctx, id, &doubletick.GetAISummaryRequest{Start: day, End: day.AddDate(0, 0, 6)})
		_, _, _ = c.Groups.AssignTags(ctx, &doubletick.AssignTagsRequest{GroupID: id, Tags: []string{"vip"}, CustomFields: []doubletick.CustomField{{Name: "tier", Value: "gold"}, {Name: "langs", Values: []string{"en", "hi"}}}})
		_, _, _ = c.Groups.RemoveTags(ctx, &doubletick.RemoveTagsRequest{GroupID: id, Tags: []string{"vip", "ghost"}, CustomFields: []string{"tier"}})
		_, _, _ = c.Participants.Remove(ctx, id, "+15551230000")
		_, _, _ = c.Groups.List(ctx, waba, nil)
		_, _ = c.Groups.Update(ctx, id, &doubletick.UpdateGroupRequest{WABANumber: waba, Description: "d"})
	}
	// A group still being created, then created with members and messages.
	_, _, err = c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "Pending", GroupID: "pending"})
	require.NoError(t, err)
	calls("pending")
	_, _ = c.Groups.Delete(ctx, "pending")

	ready := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0), doubleticktest.WithWABANumbers(waba), doubleticktest.WithClock(tick()))
	defer ready.Close()
	var rec2 recorder
	c2, err := doubletick.NewClient(doubleticktest.APIKey, doubletick.WithBaseURL(rec2.start(t, ready.URL)),
		doubletick.WithoutRateLimit(), doubletick.WithMaxAttempts(1))
	require.NoError(t, err)
	_, _, err = c2.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "Ready", Description: "d",
		JoinApprovalMode: doubletick.JoinApprovalRequired, GroupID: "ready"})
	require.NoError(t, err)
	_, _, _ = c2.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "Again", GroupID: "ready"})
	_, _, _ = c2.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "919999999999", Subject: "No integration"})
	_, _, _ = c2.Groups.List(ctx, "919999999999", nil)
	require.NoError(t, ready.Join("ready", "+15551230000", "Bo"))
	require.NoError(t, ready.Join("ready", "+919876543210", ""))
	require.NoError(t, ready.SendMessage("ready", "+15551230000", "hi"))
	c = c2
	calls("ready")
	_, _ = c2.Groups.Update(ctx, "ready", &doubletick.UpdateGroupRequest{WABANumber: "919999999999"})
	_, _, _ = c2.Groups.List(ctx, waba, &doubletick.ListGroupsOptions{LastGroupID: "ready", OlderThan: day})
	_, _ = c2.Groups.Delete(ctx, "ready")
	calls("gone")

	seen := checkExchanges(t, append(rec.exchanges, rec2.exchanges...))
	// Every endpoint was reached, each with its success and a failure.
	for _, route := range groupRoutes {
		assert.Len(t, seen[route], 2+boolInt(route == doubletick.RouteCreateGroup)+boolInt(route == doubletick.RouteUpdateGroup),
			"%s: statuses %v", route, seen[route])
	}
}

// groupRoutes are the group endpoints TestContract drives.
var groupRoutes = []string{doubletick.RouteCreateGroup, doubletick.RouteGetGroup, doubletick.RouteUpdateGroup,
	doubletick.RouteListGroups, doubletick.RouteDeleteGroup, doubletick.RouteListParticipants,
	doubletick.RouteRemoveParticipant, doubletick.RouteGetGroupAISummary, doubletick.RouteAssignGroupTags,
	doubletick.RouteRemoveGroupTags}

// checkExchanges checks each exchange's request against its route's request
// schema and its answer against the documented answer or error, and
// returns the statuses seen per route.
func checkExchanges(t *testing.T, all []exchange) map[string]map[int]bool {
	seen := map[string]map[int]bool{}
	for _, ex := range all {
		route := routeKey(ex.route)
		t.Run(fmt.Sprintf("%s %d", route, ex.status), func(t *testing.T) {
			if seen[route] == nil {
				seen[route] = map[int]bool{}
			}
			seen[route][ex.status] = true
			// The request, as the SDK sent it.
			r, ok := requests[route]
			require.True(t, ok, "an undocumented route")
			q := map[string]any{}
			for k, vs := range ex.query {
				if r.query[k].typ == "array" { // a repeated parameter (style form, explode)
					q[k] = toAny(vs)
					continue
				}
				require.Len(t, vs, 1, "query %s once", k)
				q[k] = vs[0]
			}
			assert.Empty(t, checkObject("query", orEmpty(r.query), q))
			switch {
			case r.multipartFile != "":
				checkMultipart(t, ex, r.multipartFile)
			case r.body != nil:
				var body map[string]any
				require.NoError(t, json.Unmarshal(ex.body, &body), "a JSON object body")
				assert.Empty(t, checkObject("body", r.body, body))
			default:
				assert.Empty(t, ex.body)
			}
			// The answer, as the fake gave it.
			if len(bytes.TrimSpace(ex.answer)) == 0 {
				assert.True(t, emptyAnswers[route][ex.status], "an empty answer, documented for %s %d only where the page says no content", route, ex.status)
				return
			}
			var answer any
			require.NoError(t, json.Unmarshal(ex.answer, &answer), "JSON: %s", ex.answer)
			if s, ok := responses[route][ex.status]; ok {
				if list, isList := answer.([]any); isList && listAnswers[route] {
					for i, item := range list {
						assert.Empty(t, checkValue(fmt.Sprintf("answer[%d]", i), "object", s, item))
					}
					return
				}
				assert.Empty(t, checkValue("answer", "object", s, answer))
				return
			}
			msg, documented := documentedErrors[route][ex.status]
			require.True(t, documented, "status %d is not documented for %s: %s", ex.status, route, ex.answer)
			obj, _ := answer.(map[string]any)
			shape := nestError
			if s, ok := errorShapes[route][ex.status]; ok {
				shape = s
			}
			assert.Empty(t, checkValue("answer", "object", shape, answer))
			if _, has := shape["statusCode"]; has {
				assert.Equal(t, float64(ex.status), obj["statusCode"])
			}
			if msg != "" {
				assert.Equal(t, msg, obj["message"])
			}
		})
	}
	return seen
}

// routeKey returns the route key of a request line: the webhook edit's path
// carries the webhook's ID.
func routeKey(route string) string {
	if id, ok := strings.CutPrefix(route, "POST /v2/webhook/"); ok && id != "register" {
		return doubletick.RouteUpdateWebhook
	}
	if strings.HasPrefix(route, "PATCH /template/") {
		return doubletick.RouteUpdateTemplate
	}
	return route
}

// checkMultipart checks that a request is form data with a file in the
// part named file.
func checkMultipart(t *testing.T, ex exchange, name string) {
	mediaType, params, err := mime.ParseMediaType(ex.contentType)
	require.NoError(t, err)
	require.Equal(t, "multipart/form-data", mediaType)
	form, err := multipart.NewReader(bytes.NewReader(ex.body), params["boundary"]).ReadForm(1 << 20)
	require.NoError(t, err)
	defer form.RemoveAll()
	assert.Len(t, form.File[name], 1, "one file in the part %q", name)
	assert.Empty(t, form.Value, "no other fields")
}

func orEmpty(s schema) schema {
	if s == nil {
		return schema{}
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestContractCheckerCatches makes sure the checker is not blind: each
// broken answer must be reported.
func TestContractCheckerCatches(t *testing.T) {
	s := responses[doubletick.RouteGetGroupAISummary][200]
	good := `{"startDate":"2026-01-12T00:00:00.000Z","endDate":"2026-01-18T23:59:59.999Z","chatType":"WA_GROUP","groupName":"G",` +
		`"memberCount":0,"members":[],"chatMessagesCount":0,"callsCount":0,"summaries":[]}`
	parse := func(s string) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(s), &m))
		return m
	}
	assert.Empty(t, checkObject("answer", s, parse(good)))
	for name, broken := range map[string]string{
		"null array":        strings.Replace(good, `"members":[]`, `"members":null`, 1),
		"missing field":     strings.Replace(good, `"callsCount":0,`, ``, 1),
		"float count":       strings.Replace(good, `"memberCount":0`, `"memberCount":1.5`, 1),
		"bad date":          strings.Replace(good, `2026-01-12T00:00:00.000Z`, `2026-01-12`, 1),
		"extra field":       strings.Replace(good, `{`, `{"placeholder":true,`, 1),
		"null member name":  strings.Replace(good, `"members":[]`, `"members":[{"id":"a","name":null,"customerNumber":"+1"}]`, 1),
		"string for number": strings.Replace(good, `"callsCount":0`, `"callsCount":"0"`, 1),
	} {
		assert.NotEmpty(t, checkObject("answer", s, parse(broken)), name)
	}
}

func toAny(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
