package doubletick_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
)

const (
	testKey  = "key_S3cr3tTestValue_9f8e7d"
	basePath = "/api-prefix" // a non-empty base path catches URL-joining bugs
)

func validCreate() *doubletick.CreateGroupRequest {
	return &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "New Support – Jan 2026"}
}

// newTestClient starts an httptest server that hands every request under
// basePath to h, and returns a Client pointed at it. The client makes one
// attempt per call with no client-side limit, unless opts say otherwise:
// the tests of limits and retries set their own.
func newTestClient(t *testing.T, h http.HandlerFunc, opts ...doubletick.Option) *doubletick.Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(basePath+"/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := []doubletick.Option{doubletick.WithBaseURL(srv.URL + basePath + "/"), doubletick.WithoutRateLimit(), doubletick.WithMaxAttempts(1)}
	c, err := doubletick.NewClient(testKey, append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// respond returns a handler that answers with status and body.
func respond(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestNewClientRejectsBadKeys(t *testing.T) {
	for name, key := range map[string]string{
		"empty":          "",
		"leading space":  " " + testKey,
		"trailing LF":    testKey + "\n",
		"header control": "key_abc\r\nX-Evil: 1",
		"non-ASCII":      "key_é",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := doubletick.NewClient(key)
			require.Error(t, err)
			assert.Nil(t, c)
			if key != "" {
				assert.NotContains(t, err.Error(), key)
			}
		})
	}
}

func TestNewClientBaseURLRules(t *testing.T) {
	ok := []string{
		"https://public.doubletick.io",
		"https://proxy.example.com/doubletick/",
		"http://127.0.0.1:8080",
		"http://127.8.9.10",
		"http://localhost:9000/prefix",
		"http://[::1]:9000",
	}
	for _, u := range ok {
		_, err := doubletick.NewClient(testKey, doubletick.WithBaseURL(u))
		assert.NoError(t, err, u)
	}
	bad := map[string]string{
		"http://public.doubletick.io":        "clear text",
		"http://10.0.0.1":                    "clear text",
		"public.doubletick.io/whatsapp":      "absolute",
		"ftp://public.doubletick.io":         "absolute",
		"https://user:hunter2@example.com":   "user info",
		"https://example.com/?token=hunter2": "query",
		"https://example.com/#hunter2":       "fragment",
		"http://10.0.0.1/?token=hunter2":     "query",
		"https://exa mple.com":               "valid URL",
		"https://example.com:badport/thing":  "valid URL",
	}
	for u, want := range bad {
		_, err := doubletick.NewClient(testKey, doubletick.WithBaseURL(u))
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), want, u)
		assert.NotContains(t, err.Error(), "hunter2", "user info, query or fragment leaked")
	}
	_, err := doubletick.NewClient(testKey, doubletick.WithBaseURL("http://10.0.0.1"), doubletick.WithInsecureHTTP())
	assert.NoError(t, err)
}

func TestNewClientRejectsBadOptions(t *testing.T) {
	for name, opt := range map[string]doubletick.Option{
		"nil http client":      doubletick.WithHTTPClient(nil),
		"negative timeout":     doubletick.WithTimeout(-time.Second),
		"UA with newline":      doubletick.WithUserAgent("crm\r\nX-Evil: 1"),
		"UA too long":          doubletick.WithUserAgent(strings.Repeat("a", 129)),
		"auth header empty":    doubletick.WithAuthHeader(""),
		"auth header space":    doubletick.WithAuthHeader("X Api Key"),
		"request id header":    doubletick.WithRequestIDHeader("X:Id"),
		"nil logger":           doubletick.WithLogger(nil),
		"auth header with key": doubletick.WithAuthHeader("Authorization: " + testKey),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := doubletick.NewClient(testKey, opt)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), testKey)
		})
	}
}

func TestCreateSendsDocumentedRequest(t *testing.T) {
	var got *http.Request
	var body []byte
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		respond(200, `{"success":true,"groupId":"new_support_2026","wabaNumber":"911111111111"}`,
			"X-Request-Id", "req-123", "X-RateLimit-Limit", "60", "X-RateLimit-Remaining", "59", "X-RateLimit-Reset", "42")(w, r)
	}, doubletick.WithUserAgent("my-crm/2.3"))

	req := &doubletick.CreateGroupRequest{
		WABANumber:       "911111111111",
		Subject:          "New Support – Jan 2026",
		Description:      "Private support group for new customers.",
		JoinApprovalMode: doubletick.JoinApprovalRequired,
		GroupID:          "new_support_2026",
	}
	before := time.Now()
	res, resp, err := c.Groups.Create(context.Background(), req)
	require.NoError(t, err)

	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, basePath+"/whatsapp/wa-group/create", got.URL.Path)
	assert.Empty(t, got.URL.RawQuery)
	assert.Equal(t, testKey, got.Header.Get("Authorization"), "raw key, no scheme word")
	assert.Equal(t, testKey, got.Header.Get("X-Public-Api-Key"))
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", got.Header.Get("Accept"))
	// The SDK's version is its module's in the build: "(devel)" in its own
	// tests, written without the parentheses of a User-Agent comment.
	assert.Equal(t, "doubletick-go/devel ("+runtime.Version()+") my-crm/2.3", got.Header.Get("User-Agent"))
	assert.JSONEq(t, `{"wabaNumber":"911111111111","subject":"New Support – Jan 2026",
		"description":"Private support group for new customers.","joinApprovalMode":"approval_required",
		"groupId":"new_support_2026"}`, string(body))

	assert.Equal(t, &doubletick.CreateGroupResult{Success: true, GroupID: "new_support_2026", WABANumber: "911111111111"}, res)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "req-123", resp.RequestID)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, 60, resp.Rate.Limit)
	assert.Equal(t, 59, resp.Rate.Remaining)
	assert.WithinDuration(t, before.Add(42*time.Second), resp.Rate.Reset, 2*time.Second)
}

func TestCreateOmitsUnsetOptionalFields(t *testing.T) {
	var body []byte
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		respond(200, `{"success":true,"groupId":"wagrp_abc123"}`)(w, r)
	})
	res, resp, err := c.Groups.Create(context.Background(), validCreate())
	require.NoError(t, err)
	assert.JSONEq(t, `{"wabaNumber":"911111111111","subject":"New Support – Jan 2026"}`, string(body))
	assert.Equal(t, "wagrp_abc123", res.GroupID, "the generated ID is returned")
	assert.Equal(t, -1, resp.Rate.Remaining, "no rate headers: remaining is unknown")
	assert.Zero(t, resp.Rate.Limit)
}

func TestWithAuthHeaderSendsExactlyOneHeader(t *testing.T) {
	for _, name := range []string{doubletick.HeaderAuthorization, "x-public-api-key"} {
		t.Run(name, func(t *testing.T) {
			var h http.Header
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				h = r.Header.Clone()
				respond(200, `{"success":true,"groupId":"g"}`)(w, r)
			}, doubletick.WithAuthHeader(name))
			_, _, err := c.Groups.Create(context.Background(), validCreate())
			require.NoError(t, err)
			assert.Equal(t, testKey, h.Get(name))
			sent := 0
			for _, v := range h {
				for _, s := range v {
					if strings.Contains(s, testKey) {
						sent++
					}
				}
			}
			assert.Equal(t, 1, sent, "the key must travel in exactly one header")
		})
	}
}

func TestCreateValidatesBeforeSending(t *testing.T) {
	var hits atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })

	type fe struct {
		field string
		rule  doubletick.Rule
	}
	cases := []struct {
		name string
		mod  func(r *doubletick.CreateGroupRequest)
		want []fe
	}{
		{"waba missing", func(r *doubletick.CreateGroupRequest) { r.WABANumber = "" }, []fe{{"wabaNumber", doubletick.RuleRequired}}},
		{"waba plus only", func(r *doubletick.CreateGroupRequest) { r.WABANumber = "+" }, []fe{{"wabaNumber", doubletick.RuleRequired}}},
		{"waba two plus", func(r *doubletick.CreateGroupRequest) { r.WABANumber = "++911111111111" }, []fe{{"wabaNumber", doubletick.RuleDigits}}},
		{"waba spaces", func(r *doubletick.CreateGroupRequest) { r.WABANumber = "91 1111 1111" }, []fe{{"wabaNumber", doubletick.RuleDigits}}},
		{"waba arabic digits", func(r *doubletick.CreateGroupRequest) { r.WABANumber = "٩١١١١١١١١١" }, []fe{{"wabaNumber", doubletick.RuleDigits}}},
		{"subject missing", func(r *doubletick.CreateGroupRequest) { r.Subject = "" }, []fe{{"subject", doubletick.RuleRequired}}},
		{"subject blank", func(r *doubletick.CreateGroupRequest) { r.Subject = " \t " }, []fe{{"subject", doubletick.RuleRequired}}},
		{"subject 129 chars", func(r *doubletick.CreateGroupRequest) { r.Subject = strings.Repeat("é", 129) }, []fe{{"subject", doubletick.RuleMaxLength}}},
		{"subject bad utf8", func(r *doubletick.CreateGroupRequest) { r.Subject = "ok\xffok" }, []fe{{"subject", doubletick.RuleUTF8}}},
		{"description 2049", func(r *doubletick.CreateGroupRequest) { r.Description = strings.Repeat("d", 2049) }, []fe{{"description", doubletick.RuleMaxLength}}},
		{"mode unknown", func(r *doubletick.CreateGroupRequest) { r.JoinApprovalMode = "AUTO_APPROVE" }, []fe{{"joinApprovalMode", doubletick.RuleOneOf}}},
		{"group id 51", func(r *doubletick.CreateGroupRequest) { r.GroupID = strings.Repeat("g", 51) }, []fe{{"groupId", doubletick.RuleMaxLength}}},
		{"group id blank", func(r *doubletick.CreateGroupRequest) { r.GroupID = "  " }, []fe{{"groupId", doubletick.RuleRequired}}},
		{"all at once", func(r *doubletick.CreateGroupRequest) {
			*r = doubletick.CreateGroupRequest{WABANumber: "+91-1", Description: strings.Repeat("d", 3000), JoinApprovalMode: "x", GroupID: strings.Repeat("g", 60)}
		}, []fe{{"wabaNumber", doubletick.RuleDigits}, {"subject", doubletick.RuleRequired}, {"description", doubletick.RuleMaxLength}, {"joinApprovalMode", doubletick.RuleOneOf}, {"groupId", doubletick.RuleMaxLength}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := validCreate()
			tc.mod(req)
			res, resp, err := c.Groups.Create(context.Background(), req)
			assert.Nil(t, res)
			assert.Nil(t, resp)
			var verr *doubletick.ValidationError
			require.ErrorAs(t, err, &verr)
			var got []fe
			for _, f := range verr.Fields {
				got = append(got, fe{f.Field, f.Rule})
				assert.Contains(t, err.Error(), f.Field+": "+f.Detail)
			}
			assert.Equal(t, tc.want, got)
		})
	}
	_, _, err := c.Groups.Create(context.Background(), nil)
	var verr *doubletick.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, int32(0), hits.Load(), "invalid requests must never reach the server")
}

func TestCreateCountsCharactersNotBytes(t *testing.T) {
	c := newTestClient(t, respond(200, `{"success":true,"groupId":"g"}`))
	req := validCreate()
	req.Subject = strings.Repeat("😀", doubletick.MaxSubjectLength) // 512 bytes, 128 characters
	req.Description = strings.Repeat("é", doubletick.MaxDescriptionLength)
	req.GroupID = strings.Repeat("ü", doubletick.MaxGroupIDLength)
	req.WABANumber = "123456789012345"
	_, _, err := c.Groups.Create(context.Background(), req)
	assert.NoError(t, err)
}

func TestErrorStatusesMapToSentinels(t *testing.T) {
	sentinels := []error{
		doubletick.ErrBadRequest, doubletick.ErrUnauthorized, doubletick.ErrForbidden, doubletick.ErrNotFound,
		doubletick.ErrUnprocessable, doubletick.ErrRateLimited, doubletick.ErrServerError, doubletick.ErrUnsuccessful,
	}
	cases := []struct {
		status   int
		body     string
		want     error
		messages []string
		errText  string
	}{
		{400, `{"statusCode":400,"message":["subject should not be empty","joinApprovalMode must be one of the following values: auto_approve, approval_required"],"error":"Bad Request"}`,
			doubletick.ErrBadRequest, []string{"subject should not be empty", "joinApprovalMode must be one of the following values: auto_approve, approval_required"}, "Bad Request"},
		{401, `{"message":"Invalid public api key","error":"Unauthorized","statusCode":401}`, doubletick.ErrUnauthorized, []string{"Invalid public api key"}, "Unauthorized"},
		{403, `{"statusCode":403,"message":"Public API key does not have permission for the given wabaNumber","error":"Forbidden"}`, doubletick.ErrForbidden, []string{"Public API key does not have permission for the given wabaNumber"}, "Forbidden"},
		{404, `{"statusCode":404,"message":"Group not found or group creation is still pending","error":"Not Found"}`, doubletick.ErrNotFound, []string{"Group not found or group creation is still pending"}, "Not Found"},
		{422, `{"statusCode":422,"message":"Integration is disabled","error":"Unprocessable Entity"}`, doubletick.ErrUnprocessable, []string{"Integration is disabled"}, "Unprocessable Entity"},
		{429, `{"statusCode":429,"message":"Too many requests, please try again later.","error":"Too Many Requests"}`, doubletick.ErrRateLimited, []string{"Too many requests, please try again later."}, "Too Many Requests"},
		{500, `{"statusCode":500,"message":"Internal server error"}`, doubletick.ErrServerError, []string{"Internal server error"}, ""},
		{502, `<html>Bad Gateway</html>`, doubletick.ErrServerError, nil, ""},
		{503, ``, doubletick.ErrServerError, nil, ""},
		{200, `{"success":false,"message":"Group could not be created"}`, doubletick.ErrUnsuccessful, []string{"Group could not be created"}, ""},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			c := newTestClient(t, respond(tc.status, tc.body, "X-Request-Id", "req-9"))
			res, resp, err := c.Groups.Create(context.Background(), validCreate())
			require.Error(t, err)
			assert.Nil(t, res)
			require.NotNil(t, resp, "the response metadata comes back with the error")
			assert.Equal(t, tc.status, resp.StatusCode)
			for _, s := range sentinels {
				assert.Equal(t, s == tc.want, errors.Is(err, s), "errors.Is(err, %v)", s)
			}
			var apiErr *doubletick.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, tc.messages, apiErr.Messages)
			assert.Equal(t, tc.errText, apiErr.ErrorText)
			assert.Equal(t, "req-9", apiErr.RequestID)
			assert.Equal(t, tc.body, string(apiErr.Body))
			assert.Equal(t, "POST", apiErr.Method)
			assert.Equal(t, "/whatsapp/wa-group/create", apiErr.Route)
			assert.Contains(t, err.Error(), "req-9")
			for _, m := range tc.messages {
				assert.Contains(t, err.Error(), m)
			}
		})
	}
}

// TestErrorShapesArePinned guards the error types' shape: pointers that
// errors.As finds even through wrapping, with errors.Is on the sentinels.
// A value-receiver slip here breaks every caller's error handling.
func TestErrorShapesArePinned(t *testing.T) {
	c := newTestClient(t, respond(429, `{"statusCode":429,"message":"Too Many Requests: Rate Limit Exceeded","error":"Too Many Requests"}`, "Retry-After", "7"))
	_, _, err := c.Groups.Create(context.Background(), validCreate())
	wrapped := fmt.Errorf("syncing CRM: %w", err)

	var rl *doubletick.RateLimitError
	require.True(t, errors.As(wrapped, &rl))
	assert.Equal(t, 7*time.Second, rl.RetryAfter)
	assert.Equal(t, 7*time.Second, rl.Rate.RetryAfter)
	var apiErr *doubletick.APIError
	require.True(t, errors.As(wrapped, &apiErr), "a RateLimitError unwraps to the server's APIError")
	assert.Equal(t, 429, apiErr.StatusCode)
	assert.True(t, errors.Is(wrapped, doubletick.ErrRateLimited))
	assert.False(t, errors.Is(wrapped, doubletick.ErrServerError))
	assert.Contains(t, err.Error(), "retry after 7s")

	errType := reflect.TypeFor[error]()
	for _, typ := range []reflect.Type{reflect.TypeFor[doubletick.APIError](), reflect.TypeFor[doubletick.RateLimitError](),
		reflect.TypeFor[doubletick.DecodeError](), reflect.TypeFor[doubletick.ValidationError]()} {
		assert.False(t, typ.Implements(errType), "%s must be an error only as a pointer", typ)
		assert.True(t, reflect.PointerTo(typ).Implements(errType), "*%s must be an error", typ)
	}
	// A client-side RateLimitError with no server answer must not unwrap to a typed nil.
	assert.Nil(t, errors.Unwrap(&doubletick.RateLimitError{}))
	assert.True(t, errors.Is(&doubletick.RateLimitError{}, doubletick.ErrRateLimited))
}

func TestRateLimitErrorWithoutUsableRetryAfter(t *testing.T) {
	for name, v := range map[string]string{"absent": "", "garbage": "soon", "negative": "-5", "past date": "Wed, 21 Oct 2015 07:28:00 GMT"} {
		t.Run(name, func(t *testing.T) {
			var hdr []string
			if v != "" {
				hdr = []string{"Retry-After", v}
			}
			c := newTestClient(t, respond(429, `{}`, hdr...))
			_, _, err := c.Groups.Create(context.Background(), validCreate())
			var rl *doubletick.RateLimitError
			require.ErrorAs(t, err, &rl, "a 429 is a RateLimitError whatever its Retry-After")
			assert.Zero(t, rl.RetryAfter)
		})
	}
}

func TestMalformedSuccessBodies(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"not JSON":   respond(200, `<html>gateway</html>`),
		"wrong type": respond(200, `{"success":"yes","groupId":7}`),
		"empty":      respond(200, ``),
		"truncated": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			io.WriteString(w, `{"success":true,"gro`)
		},
		"too large": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			io.WriteString(w, `{"success":true,"groupId":"`)
			chunk := bytes.Repeat([]byte("a"), 1<<20)
			for range 11 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, h)
			res, resp, err := c.Groups.Create(context.Background(), validCreate())
			assert.Nil(t, res)
			var decErr *doubletick.DecodeError
			require.ErrorAs(t, err, &decErr)
			assert.Equal(t, 200, decErr.StatusCode)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Contains(t, err.Error(), "decoding 200 response")
			if name == "truncated" {
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
			}
		})
	}
}

func TestSuccessFlagAbsentIsNotAnError(t *testing.T) {
	// Only an explicit "success": false is a failure; a body without the flag
	// that names the group is taken as the group it names.
	c := newTestClient(t, respond(200, `{"groupId":"g1"}`))
	res, _, err := c.Groups.Create(context.Background(), validCreate())
	require.NoError(t, err)
	assert.Equal(t, "g1", res.GroupID)
}

func TestHostileErrorBodyIsReadOnlyToTheBound(t *testing.T) {
	var written atomic.Int64
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range 4096 { // 256 MiB if the client read it all
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := c.Groups.Create(ctx, validCreate())
	var apiErr *doubletick.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 1<<20, len(apiErr.Body), "error bodies are kept up to 1 MiB")
	assert.NoError(t, ctx.Err(), "the client must not wait for the whole body")
	assert.Less(t, written.Load(), int64(64<<20), "the client stopped reading long before the end")
}

func TestContextCancellationAndDeadline(t *testing.T) {
	release := make(chan struct{})
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.Groups.Create(ctx, validCreate())
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)

	done, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	_, _, err = c.Groups.Create(done, validCreate())
	assert.ErrorIs(t, err, context.Canceled)

	//lint:ignore SA1012 a nil context must be an error, not a panic
	_, _, err = c.Groups.Create(nil, validCreate()) //nolint:staticcheck
	assert.Error(t, err)
}

func TestTimeoutOption(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, doubletick.WithTimeout(50*time.Millisecond))
	start := time.Now()
	_, _, err := c.Groups.Create(context.Background(), validCreate())
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestCallerHTTPClientIsNotMutated(t *testing.T) {
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	mine := &http.Client{Transport: transport}
	srv := httptest.NewServer(respond(200, `{"success":true,"groupId":"g"}`))
	defer srv.Close()
	c, err := doubletick.NewClient(testKey, doubletick.WithBaseURL(srv.URL), doubletick.WithHTTPClient(mine), doubletick.WithTimeout(time.Minute))
	require.NoError(t, err)
	_, _, err = c.Groups.Create(context.Background(), validCreate())
	require.NoError(t, err)
	assert.Nil(t, mine.CheckRedirect)
	assert.Zero(t, mine.Timeout)
	assert.Same(t, transport, mine.Transport)
}

func TestRedirectToAnotherHostDropsTheKey(t *testing.T) {
	var other http.Header
	otherSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other = r.Header.Clone()
		respond(200, `{"success":true,"groupId":"g"}`)(w, r)
	}))
	defer otherSrv.Close()

	var sameHost http.Header
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case basePath + "/whatsapp/wa-group/create":
			http.Redirect(w, r, otherSrv.URL+"/elsewhere", http.StatusTemporaryRedirect)
		case basePath + "/same":
			sameHost = r.Header.Clone()
			respond(200, `{"success":true,"groupId":"g"}`)(w, r)
		}
	})
	_, _, err := c.Groups.Create(context.Background(), validCreate())
	require.NoError(t, err)
	require.NotNil(t, other, "the redirect was followed")
	assert.Empty(t, other.Get("Authorization"))
	assert.Empty(t, other.Get("X-Public-Api-Key"))
	for k, vs := range other {
		for _, v := range vs {
			assert.NotContains(t, v, testKey, "header %s", k)
		}
	}

	// A redirect within the same origin keeps the key.
	c2 := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == basePath+"/whatsapp/wa-group/create" {
			http.Redirect(w, r, basePath+"/same", http.StatusTemporaryRedirect)
			return
		}
		sameHost = r.Header.Clone()
		respond(200, `{"success":true,"groupId":"g"}`)(w, r)
	})
	_, _, err = c2.Groups.Create(context.Background(), validCreate())
	require.NoError(t, err)
	assert.Equal(t, testKey, sameHost.Get("X-Public-Api-Key"))
}

func TestUserRedirectPolicyStillApplies(t *testing.T) {
	stop := errors.New("no redirects, thanks")
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}, doubletick.WithHTTPClient(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return stop }}))
	_, _, err := c.Groups.Create(context.Background(), validCreate())
	assert.ErrorIs(t, err, stop)
}

func TestClientIsSafeForConcurrentUse(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		var req doubletick.CreateGroupRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		seen[req.GroupID] = true
		mu.Unlock()
		respond(200, fmt.Sprintf(`{"success":true,"groupId":%q}`, req.GroupID))(w, r)
	})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			req := validCreate()
			req.GroupID = fmt.Sprintf("g-%d", i)
			res, _, err := c.Groups.Create(context.Background(), req)
			if err == nil && res.GroupID != req.GroupID {
				err = fmt.Errorf("got %s for %s", res.GroupID, req.GroupID)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Len(t, seen, 64)
}

// TestAPIKeyNeverLeaks formats everything a user could print or log and
// checks that the API key appears in none of it.
func TestAPIKeyNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// This server echoes the request headers back, as a debugging proxy might.
	echo := func(w http.ResponseWriter, r *http.Request) {
		h, _ := json.Marshal(r.Header)
		respond(400, `{"statusCode":400,"message":`+fmt.Sprintf("%q", string(h))+`,"error":"Bad Request"}`)(w, r)
	}
	opts := []doubletick.Option{doubletick.WithLogger(logger), doubletick.WithUserAgent("leak-test")}
	c := newTestClient(t, echo, opts...)

	var printed []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%t", "%d", "%T"} {
		printed = append(printed, fmt.Sprintf(verb, c), fmt.Sprintf(verb, *c), fmt.Sprintf(verb, *c.Groups), fmt.Sprintf(verb, opts), fmt.Sprintf(verb, validCreate()))
	}
	printed = append(printed, fmt.Sprint(c), c.String())
	logger.Info("client", "client", c, "client value", *c)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("client", "client", c, "client value", *c)
	var diff diffRecorder // what testify prints when an assertion on a Client fails
	assert.Equal(&diff, *c, doubletick.Client{})
	assert.Equal(&diff, c, &doubletick.Client{})
	require.NotEmpty(t, diff.String())
	printed = append(printed, diff.String())

	_, resp, err := c.Groups.Create(context.Background(), validCreate())
	require.Error(t, err)
	require.NotNil(t, resp)
	var apiErr *doubletick.APIError
	require.ErrorAs(t, err, &apiErr)
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		printed = append(printed, fmt.Sprintf(verb, err), fmt.Sprintf(verb, apiErr), string(apiErr.Body), fmt.Sprintf(verb, *resp))
	}
	assert.Contains(t, string(apiErr.Body), "[REDACTED]", "the echoed key was scrubbed")

	// Transport failures and option errors.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c2, err := doubletick.NewClient(testKey, doubletick.WithBaseURL(dead.URL), doubletick.WithLogger(logger))
	require.NoError(t, err)
	_, _, err = c2.Groups.Create(context.Background(), validCreate())
	require.Error(t, err)
	printed = append(printed, fmt.Sprintf("%+v", err))
	_, err = doubletick.NewClient(testKey, doubletick.WithAuthHeader(testKey+" "))
	require.Error(t, err)
	printed = append(printed, err.Error())

	printed = append(printed, logs.String())
	require.NotEmpty(t, logs.String(), "debug logging was on")
	for _, s := range printed {
		assert.NotContains(t, s, testKey)
	}
}

// diffRecorder is a testify TestingT that keeps what failed assertions print.
type diffRecorder struct{ strings.Builder }

func (r *diffRecorder) Errorf(format string, args ...any) { fmt.Fprintf(&r.Builder, format, args...) }

func TestLoggerRecordsEachRequest(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newTestClient(t, respond(200, `{"success":true,"groupId":"g"}`, "X-Request-Id", "req-7"), doubletick.WithLogger(logger))
	_, _, err := c.Groups.Create(context.Background(), validCreate())
	require.NoError(t, err)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(logs.Bytes(), &rec))
	assert.Equal(t, "doubletick request", rec["msg"])
	assert.Equal(t, "POST", rec["method"])
	assert.Equal(t, "/whatsapp/wa-group/create", rec["route"])
	assert.Equal(t, float64(200), rec["status"])
	assert.Equal(t, "req-7", rec["request_id"])
}

func TestWithHTTPMockTransport(t *testing.T) {
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, "https://public.doubletick.io/whatsapp/wa-group/create",
		func(r *http.Request) (*http.Response, error) {
			if r.Header.Get("X-Public-Api-Key") != testKey {
				return httpmock.NewStringResponse(401, `{"statusCode":401,"message":"Invalid public api key","error":"Unauthorized"}`), nil
			}
			return httpmock.NewJsonResponse(200, map[string]any{"success": true, "groupId": "wagrp_abc123", "wabaNumber": "911111111111"})
		})
	c, err := doubletick.NewClient(testKey, doubletick.WithHTTPClient(&http.Client{Transport: mock}))
	require.NoError(t, err)
	res, _, err := c.Groups.Create(context.Background(), validCreate())
	require.NoError(t, err)
	assert.Equal(t, "wagrp_abc123", res.GroupID)
	assert.Equal(t, 1, mock.GetTotalCallCount())

	boom := errors.New("connection reset by peer")
	mock.RegisterResponder(http.MethodPost, "https://public.doubletick.io/whatsapp/wa-group/create", httpmock.NewErrorResponder(boom))
	res, resp, err := c.Groups.Create(context.Background(), validCreate())
	assert.Nil(t, res)
	assert.Nil(t, resp, "no response arrived")
	assert.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "POST /whatsapp/wa-group/create")
	assert.NotContains(t, err.Error(), testKey)
}

// TestHTTPMockActivatedAfterNewClient: mocking the caller's client after
// the SDK copied it must still mock, never call the real host.
func TestHTTPMockActivatedAfterNewClient(t *testing.T) {
	hc := &http.Client{}
	c, err := doubletick.NewClient(testKey, doubletick.WithHTTPClient(hc))
	require.NoError(t, err)
	httpmock.ActivateNonDefault(hc)
	defer httpmock.DeactivateNonDefault(hc)
	httpmock.Reset() // its call counts are global: start from zero under -count
	httpmock.RegisterResponder(http.MethodGet, "https://public.doubletick.io/whatsapp/wa-group/info?groupId=g1",
		httpmock.NewStringResponder(200, `{"groupId":"g1","subject":"Mocked","status":"ACTIVE"}`))
	g, _, err := c.Groups.Get(context.Background(), "g1")
	require.NoError(t, err)
	assert.Equal(t, "Mocked", g.Subject)
	assert.Equal(t, 1, httpmock.GetTotalCallCount())
	assert.Nil(t, hc.CheckRedirect, "the caller's client is not modified")
}

func TestDoReachesAnyPath(t *testing.T) {
	var got *http.Request
	var body []byte
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		respond(201, `{"validWebhooks":[{"wabaNumber":"+919999999999","webhookEventType":"MESSAGE_RECEIVED"}]}`)(w, r)
	})
	var out struct {
		ValidWebhooks []struct {
			WABANumber string `json:"wabaNumber"`
		} `json:"validWebhooks"`
	}
	resp, err := c.Do(context.Background(), http.MethodPost, "/v2/webhook/register", url.Values{"dryRun": {"true"}}, map[string]any{"name": "crm"}, &out)
	require.NoError(t, err)
	assert.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, basePath+"/v2/webhook/register", got.URL.Path)
	assert.Equal(t, "dryRun=true", got.URL.RawQuery)
	assert.Equal(t, testKey, got.Header.Get("Authorization"))
	assert.JSONEq(t, `{"name":"crm"}`, string(body))
	assert.Equal(t, "+919999999999", out.ValidWebhooks[0].WABANumber)

	for _, bad := range [][2]string{{"GET", "v2/webhooks"}, {"GET", "/v2/webhooks?x=1"}, {"GE T", "/v2/webhooks"}, {"", "/"}} {
		_, err := c.Do(context.Background(), bad[0], bad[1], nil, nil, nil)
		var verr *doubletick.ValidationError
		assert.ErrorAs(t, err, &verr, "%q %q", bad[0], bad[1])
	}
}

// Do's caller can take a 2xx body as it came, empty or not.
func TestDoGivesTheRawBody(t *testing.T) {
	var body string
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if body == "" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	})
	var raw json.RawMessage
	_, err := c.Do(context.Background(), http.MethodDelete, "/v1/thing", nil, nil, &raw)
	require.NoError(t, err)
	assert.Nil(t, raw, "an empty answer")
	body = `{"items":[1,2],"hasMore":false}`
	_, err = c.Do(context.Background(), http.MethodGet, "/v1/thing", nil, nil, &raw)
	require.NoError(t, err)
	assert.JSONEq(t, body, string(raw))
}
