package doubletick_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/webhooks"
)

// TestAuthorizationScheme sends the "key <apiKey>" form of DoubleTick's Node
// and PHP samples in Authorization, and the raw key in x-public-api-key.
func TestAuthorizationScheme(t *testing.T) {
	var auth, public string
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		auth, public = r.Header.Get("Authorization"), r.Header.Get("X-Public-Api-Key")
		respond(200, `{"success":true,"groupId":"g"}`)(w, r)
	}, doubletick.WithAuthorizationScheme("key"))
	_, _, err := c.Groups.Create(context.Background(), validCreate())
	require.NoError(t, err)
	assert.Equal(t, "key "+testKey, auth)
	assert.Equal(t, testKey, public)

	_, err = doubletick.NewClient(testKey, doubletick.WithAuthorizationScheme("two words"))
	assert.Error(t, err)
	_, err = doubletick.NewClient(testKey, doubletick.WithAuthorizationScheme(""))
	assert.Error(t, err)
}

// TestRetryAfterBeyondInt64 gets a Retry-After too large for an int64: it is
// longer than any cap, so the call fails at once instead of retrying.
func TestRetryAfterBeyondInt64(t *testing.T) {
	var calls atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		respond(429, `{"statusCode":429,"message":"Rate limit exceeded"}`, "Retry-After", "99999999999999999999")(w, r)
	}, doubletick.WithMaxAttempts(3))
	start := time.Now()
	_, _, err := c.Groups.Get(context.Background(), "g1")
	var rl *doubletick.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, int32(1), calls.Load(), "not retried")
	assert.Less(t, time.Since(start), 5*time.Second)
}

// TestEscapedKeyEchoIsScrubbed: a server that echoes the request headers as
// JSON escapes some characters of the key; the error must not show it in
// any form.
func TestEscapedKeyEchoIsScrubbed(t *testing.T) {
	const key = `key_a/b<c>&d"e\f`
	for name, encode := range map[string]func(string) string{
		"Go, HTML-safe": func(s string) string { b, _ := json.Marshal(s); return string(b) },
		"Node": func(s string) string {
			var sb strings.Builder
			enc := json.NewEncoder(&sb)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s)
			return strings.TrimSpace(sb.String())
		},
		"PHP": func(s string) string {
			b, _ := json.Marshal(s)
			return strings.ReplaceAll(string(b), "/", `\/`)
		},
		"all escaped": func(s string) string {
			var sb strings.Builder
			sb.WriteByte('"')
			for i := 0; i < len(s); i++ {
				if c := s[i]; c >= 'a' && c <= 'z' {
					sb.WriteByte(c)
				} else {
					sb.WriteString(`\u00` + strings.ToUpper(hex2(c)))
				}
			}
			sb.WriteByte('"')
			return sb.String()
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				respond(400, `{"statusCode":400,"message":`+encode("bad key "+r.Header.Get("Authorization"))+`,"error":"Bad Request"}`)(w, r)
			}))
			defer srv.Close()
			c, err := doubletick.NewClient(key, doubletick.WithBaseURL(srv.URL), doubletick.WithMaxAttempts(1))
			require.NoError(t, err)
			_, _, err = c.Groups.Get(context.Background(), "g1")
			var apiErr *doubletick.APIError
			require.True(t, errors.As(err, &apiErr))
			assert.Contains(t, err.Error(), "bad key [REDACTED]")
			assert.NotContains(t, err.Error(), "a/b")
			assert.NotContains(t, string(apiErr.Body), `d\"e`)
			assert.NotContains(t, string(apiErr.Body), `\u003cc`)
			assert.NotContains(t, string(apiErr.Body), `\u003Cc`)
			assert.Contains(t, string(apiErr.Body), "[REDACTED]")
		})
	}
}

// TestRegistrationSecretsEchoIsScrubbed: a server that echoes a webhook
// registration back in its error (as a string, JSON-escaped, in the error
// text) must not make its authorization payload or its header and query
// values appear in the error, its body or the debug log. Short values are
// left alone: scrubbing a word of a few letters would garble the message.
func TestRegistrationSecretsEchoIsScrubbed(t *testing.T) {
	reg := &doubletick.WebhookRegistration{URL: "https://crm.example.com/hooks", Name: "crm",
		Events: []webhooks.Type{webhooks.TypeMessageReceived}, WABANumbers: []string{"911111111111"},
		Authorization: &webhooks.Authorization{Type: webhooks.AuthorizationBearer, Payload: "tok/en<1>&\"2"},
		Headers:       map[string]string{"X-Signature": "hdr-secret-value"},
		Query:         map[string]string{"token": "query-secret-value", "v": "two"},
	}
	secrets := []string{"tok/en", `en\u003c1`, `en<1`, "hdr-secret", "query-secret"}
	for _, update := range []bool{false, true} {
		var logs strings.Builder
		c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			echo, _ := json.Marshal("cannot register " + string(b))
			respond(400, `{"statusCode":400,"message":[`+string(echo)+`],"error":`+string(echo)+`,"echo":`+string(b)+`}`)(w, r)
		}, doubletick.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
		var err error
		if update {
			_, _, err = c.Webhooks.Update(context.Background(), "wh1", reg)
		} else {
			_, _, err = c.Webhooks.Register(context.Background(), reg)
		}
		var apiErr *doubletick.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Contains(t, err.Error(), "[REDACTED]")
		assert.Contains(t, err.Error(), `"v":"two"`, "a value too short to be a credential stays")
		for _, s := range secrets {
			assert.NotContains(t, err.Error(), s)
			assert.NotContains(t, string(apiErr.Body), s)
			assert.NotContains(t, apiErr.ErrorText, s)
			assert.NotContains(t, logs.String(), s)
		}
	}
}

// TestSecretsEchoedAsASCIIOnlyAreScrubbed: a server whose JSON encoder
// escapes everything beyond ASCII (Python's ensure_ascii) writes a secret's
// "ö" as \u00f6 and its emoji as a surrogate pair; neither reaches the
// error.
func TestSecretsEchoedAsASCIIOnlyAreScrubbed(t *testing.T) {
	asciiOnly := func(s string) string {
		var sb strings.Builder
		for _, r := range s {
			if r < 0x80 {
				sb.WriteRune(r)
				continue
			}
			for _, u := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(&sb, `\u%04x`, u)
			}
		}
		return sb.String()
	}
	const payload = "pässwörd-😀-secret"
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		respond(400, `{"statusCode":400,"message":["cannot register `+asciiOnly(strings.ReplaceAll(string(b), `"`, `'`))+`"],"error":"Bad Request"}`)(w, r)
	})
	reg := &doubletick.WebhookRegistration{URL: "https://crm.example.com/hooks", Name: "crm",
		Events: []webhooks.Type{webhooks.TypeMessageReceived}, WABANumbers: []string{"911111111111"},
		Authorization: &webhooks.Authorization{Type: webhooks.AuthorizationBearer, Payload: payload}}
	_, _, err := c.Webhooks.Register(context.Background(), reg)
	var apiErr *doubletick.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, err.Error(), "[REDACTED]")
	for _, shown := range []string{err.Error(), string(apiErr.Body)} {
		assert.NotContains(t, shown, `\ud83d\ude00-secret`)
		assert.NotContains(t, shown, `\u00f6rd`)
		assert.NotContains(t, shown, "secret")
	}
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// TestWABANumberForms accepts the WABA number as the group API's samples
// write it and as the webhook API's do, and sends it without the "+".
func TestWABANumberForms(t *testing.T) {
	var sent []string
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			WABANumber string `json:"wabaNumber"`
		}
		if r.Body != nil && r.Method == http.MethodPost {
			_ = json.NewDecoder(r.Body).Decode(&body)
			sent = append(sent, body.WABANumber)
		} else {
			sent = append(sent, r.URL.Query().Get("wabaNumber"))
		}
		respond(200, `{"success":true,"groupId":"g","groups":[],"hasMore":false}`)(w, r)
	})
	ctx := context.Background()
	for _, n := range []string{"911111111111", "+911111111111", "9111111", "9111111111111111"} {
		req := validCreate()
		req.WABANumber = n
		_, _, err := c.Groups.Create(ctx, req)
		require.NoError(t, err, n)
		assert.Equal(t, n, req.WABANumber, "the caller's request is not changed")
	}
	_, err := c.Groups.Update(ctx, "g", &doubletick.UpdateGroupRequest{WABANumber: "+911111111111", Subject: "S"})
	require.NoError(t, err)
	_, _, err = c.Groups.List(ctx, "+911111111111", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"911111111111", "911111111111", "9111111", "9111111111111111", "911111111111", "911111111111"}, sent)
}

// TestRouteKeysAreChecked: a route key without its method was accepted and
// limited nothing.
func TestRouteKeysAreChecked(t *testing.T) {
	limit := doubletick.RateLimit{Rate: 1, Burst: 1}
	for _, bad := range []string{"/whatsapp/wa-group/create", "post /whatsapp/wa-group/create", "POST whatsapp", "POST /a?b=c", "POST  /a", ""} {
		_, err := doubletick.NewClient(testKey, doubletick.WithPathRateLimit(bad, limit))
		assert.Error(t, err, bad)
		_, err = doubletick.NewPathLimiter(doubletick.PathLimiterConfig{Default: limit, Routes: map[string]doubletick.RateLimit{bad: limit}})
		assert.Error(t, err, bad)
	}
	_, err := doubletick.NewClient(testKey, doubletick.WithPathRateLimit(doubletick.RouteCreateGroup, limit))
	assert.NoError(t, err)
	_, err = doubletick.NewClient(testKey, doubletick.WithPathRateLimit(doubletick.RouteUpdateWebhook, limit))
	assert.NoError(t, err, "a templated path is a path")
}

// roundTripFunc is a transport of a type == cannot compare.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestFuncTransportsAndLaterSwaps: a caller's transport of a func type
// works, and one swapped in after NewClient is the one used.
func TestFuncTransportsAndLaterSwaps(t *testing.T) {
	answer := func(subject string) roundTripFunc {
		return func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r,
				Body: io.NopCloser(strings.NewReader(`{"groupId":"g1","subject":"` + subject + `"}`))}, nil
		}
	}
	hc := &http.Client{Transport: answer("first")}
	c, err := doubletick.NewClient(testKey, doubletick.WithHTTPClient(hc), doubletick.WithMaxAttempts(1))
	require.NoError(t, err)
	g, _, err := c.Groups.Get(context.Background(), "g1")
	require.NoError(t, err)
	assert.Equal(t, "first", g.Subject)
	hc.Transport = answer("second")
	g, _, err = c.Groups.Get(context.Background(), "g1")
	require.NoError(t, err)
	assert.Equal(t, "second", g.Subject)
}
