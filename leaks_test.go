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
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/webhooks"
)

// TestAbsentOptionalFieldsStayOffTheWire sends every request that has a
// body with only its required fields set: an optional field left empty is
// left out, never sent as null (which DoubleTick's schemas do not allow for
// any of them), {} or [].
func TestAbsentOptionalFieldsStayOffTheWire(t *testing.T) {
	var mu sync.Mutex
	bodies := map[string]string{}
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies[r.Method+" "+strings.TrimPrefix(r.URL.Path, basePath)] = string(b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{}`)
	})
	ctx := context.Background()
	group := doubletick.Target{GroupID: "grp_1"}
	calls := map[string]func() error{
		"Groups.Create": func() error {
			_, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "S"})
			return err
		},
		"Groups.Update": func() error {
			_, err := c.Groups.Update(ctx, "grp_1", &doubletick.UpdateGroupRequest{WABANumber: "911111111111"})
			return err
		},
		"Groups.AssignTags": func() error {
			_, _, err := c.Groups.AssignTags(ctx, &doubletick.AssignTagsRequest{GroupID: "grp_1", Tags: []string{"vip"}})
			return err
		},
		"Groups.RemoveTags": func() error {
			_, _, err := c.Groups.RemoveTags(ctx, &doubletick.RemoveTagsRequest{GroupID: "grp_1", Tags: []string{"vip"}})
			return err
		},
		"Messages.SendText": func() error {
			_, _, err := c.Messages.SendText(ctx, &doubletick.TextMessage{Target: group, Text: "hi"})
			return err
		},
		"Messages.SendImage": func() error {
			_, _, err := c.Messages.SendImage(ctx, &doubletick.MediaMessage{Target: group, MediaURL: "https://x/i.png"})
			return err
		},
		"Messages.SendDocument": func() error {
			_, _, err := c.Messages.SendDocument(ctx, &doubletick.DocumentMessage{MediaMessage: doubletick.MediaMessage{Target: group, MediaURL: "https://x/d.pdf"}})
			return err
		},
		"Messages.SendLocation": func() error {
			_, _, err := c.Messages.SendLocation(ctx, &doubletick.LocationMessage{Target: group, Latitude: 19.08, Longitude: 72.71})
			return err
		},
		"Messages.SendTemplate": func() error {
			_, _, err := c.Messages.SendTemplate(ctx, &doubletick.SendTemplateRequest{Messages: []doubletick.TemplateMessage{{
				Target: group, Content: doubletick.TemplateContent{TemplateName: "t", Language: "en"}}}})
			return err
		},
		"Messages.SendTemplateV2": func() error {
			_, _, err := c.Messages.SendTemplateV2(ctx, &doubletick.SendTemplateV2Request{Messages: []doubletick.TemplateMessageV2{{
				Target: group, Content: doubletick.TemplateContentV2{TemplateName: "t", Language: "en"}}}})
			return err
		},
		"Webhooks.Register": func() error {
			_, _, err := c.Webhooks.Register(ctx, &doubletick.WebhookRegistration{URL: "https://crm.example.com/h", Name: "n",
				Events: []webhooks.Type{webhooks.TypeMessageReceived}, WABANumbers: []string{"+911111111111"}})
			return ignoreNothingRegistered(err) // the answer {} accepted nothing
		},
		"Webhooks.Update": func() error {
			_, _, err := c.Webhooks.Update(ctx, "wh_1", &doubletick.WebhookRegistration{URL: "https://crm.example.com/h", Name: "n",
				Events: []webhooks.Type{webhooks.TypeMessageReceived}, WABANumbers: []string{"+911111111111"}})
			return ignoreNothingRegistered(err)
		},
		"Webhooks.Deregister": func() error {
			_, err := c.Webhooks.Deregister(ctx, "wh_1")
			return err
		},
	}
	for name, call := range calls {
		require.NoError(t, call(), name)
	}
	require.Len(t, bodies, len(calls), "one body per call")
	for route, body := range bodies {
		assert.NotContains(t, body, "null", route)
		assert.NotContains(t, body, "{}", route)
		assert.NotContains(t, body, "[]", route)
		assert.NotContains(t, body, `""`, route)
	}
}

// A transport error names the route, not the query: group IDs and phone
// numbers stay out of errors and logs.
func TestTransportErrorsLeaveTheQueryOut(t *testing.T) {
	c, err := doubletick.NewClient(testKey, doubletick.WithBaseURL("http://127.0.0.1:1"), doubletick.WithMaxAttempts(1),
		doubletick.WithoutRateLimit())
	require.NoError(t, err)
	_, _, err = c.Participants.Remove(context.Background(), "grp_secret_group", "+919876543210")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DELETE /whatsapp/wa-group/participants")
	assert.NotContains(t, err.Error(), "grp_secret_group")
	assert.NotContains(t, err.Error(), "919876543210")
	var ue *url.Error
	assert.ErrorAs(t, err, &ue, "still a *url.Error")
}

// A redirect to another origin carries neither the API key nor a Referer
// naming the API's URL.
func TestARedirectElsewhereCarriesNoRefererOrKey(t *testing.T) {
	var seen http.Header
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		io.WriteString(w, `{"groupId":"g"}`)
	}))
	defer elsewhere.Close()
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1)+"/moved", http.StatusFound)
	})
	_, _, err := c.Groups.Get(context.Background(), "grp_secret_group")
	require.NoError(t, err)
	require.NotNil(t, seen)
	assert.Empty(t, seen.Get("Referer"))
	assert.Empty(t, seen.Get("Authorization"))
	assert.Empty(t, seen.Get("X-Public-Api-Key"))
}

// TestARegistrationPrintsWithoutItsCredentials: header, query and body
// values, the URL's query and password, and the authorization payload may
// be credentials; no fmt verb and no slog handler shows them, and what
// else a registration holds stays readable.
func TestARegistrationPrintsWithoutItsCredentials(t *testing.T) {
	reg := doubletick.WebhookRegistration{URL: "https://crm:url-password-1@crm.example.com/hooks?key=url-query-secret#frag-secret",
		Name: "crm", Events: []webhooks.Type{webhooks.TypeMessageReceived}, WABANumbers: []string{"911111111111"},
		Authorization: &webhooks.Authorization{Type: webhooks.AuthorizationBearer, Payload: "auth-payload-secret"},
		Headers:       map[string]string{"X-Token": "header-secret-value"},
		Query:         map[string]string{"token": "query-secret-value"},
		Body:          map[string]any{"tenant": "body-secret-value"},
	}
	var logs strings.Builder
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("registering", "registration", reg, "pointer", &reg)
	shown := []string{logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		shown = append(shown, fmt.Sprintf(verb, reg), fmt.Sprintf(verb, &reg), fmt.Sprintf(verb, []doubletick.WebhookRegistration{reg}))
	}
	for _, s := range shown {
		for _, secret := range []string{"url-password-1", "url-query-secret", "frag-secret", "auth-payload-secret",
			"header-secret-value", "query-secret-value", "body-secret-value"} {
			assert.NotContains(t, s, secret)
		}
	}
	assert.Equal(t, `doubletick.WebhookRegistration{URL: https://[REDACTED]@crm.example.com/hooks?[REDACTED], Method: , `+
		`Events: [MESSAGE_RECEIVED], Name: "crm", WABANumbers: [911111111111], Headers: {"X-Token": [REDACTED]}, `+
		`Query: {"token": [REDACTED]}, Body: {"tenant": [REDACTED]}, BodyFormat: , `+
		`Authorization: webhooks.Authorization{Type: BEARER, Payload: [REDACTED]}, RetryOnTimeout: false}`, fmt.Sprint(reg))
}

func ignoreNothingRegistered(err error) error {
	if errors.Is(err, doubletick.ErrNothingRegistered) {
		return nil
	}
	return err
}

// A token given as a URL's user name (https://TOKEN@host/) is a credential
// too: neither a registration's description nor WithBaseURL's error shows
// it.
func TestAURLUserNameIsNeverShown(t *testing.T) {
	reg := doubletick.WebhookRegistration{URL: "https://tok-as-user-123456@crm.example.com/hooks", Name: "crm"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		shown := fmt.Sprintf(verb, reg)
		assert.NotContains(t, shown, "tok-as-user-123456")
		assert.Contains(t, shown, "https://[REDACTED]@crm.example.com/hooks")
	}
	_, err := doubletick.NewClient("key_leaks_test", doubletick.WithBaseURL("http://tok-as-user-123456@api.example.com/"))
	require.Error(t, err, "plain http to a host that is not loopback")
	assert.NotContains(t, err.Error(), "tok-as-user-123456")
	assert.Contains(t, err.Error(), "[REDACTED]@api.example.com")
}

// A server that echoes a registration back in its error (a validation
// message quoting the URL) shows none of the URL's credentials: its user
// name, password and query values are scrubbed from the error and the
// debug log, as written and decoded.
func TestAnEchoedRegistrationURLIsScrubbed(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		msg, _ := json.Marshal(map[string]any{"message": []string{"url is invalid: " + string(body)}, "error": "Bad Request"})
		_, _ = w.Write(msg)
	}
	var logs strings.Builder
	c := newTestClient(t, echo, doubletick.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	_, _, err := c.Webhooks.Register(context.Background(), &doubletick.WebhookRegistration{
		URL:  "https://user-token-42:p%40ss-word-42@crm.example.com/hooks?sig=query-secret-42&x=plus%2Bvalue-42",
		Name: "crm", Events: []webhooks.Type{webhooks.TypeMessageReceived}, WABANumbers: []string{"911111111111"}})
	require.Error(t, err)
	var apiErr *doubletick.APIError
	require.ErrorAs(t, err, &apiErr)
	shown := err.Error() + string(apiErr.Body) + fmt.Sprint(apiErr.Messages) + logs.String()
	assert.Contains(t, shown, "crm.example.com", "the rest of the URL is kept")
	for _, secret := range []string{"user-token-42", "p%40ss-word-42", "p@ss-word-42", "query-secret-42", "plus%2Bvalue-42", "plus+value-42"} {
		assert.NotContains(t, shown, secret)
	}
}
