package doubletick_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
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
				Events: []string{doubletick.EventMessageReceived}, WABANumbers: []string{"+911111111111"}})
			return err
		},
		"Webhooks.Update": func() error {
			_, _, err := c.Webhooks.Update(ctx, "wh_1", &doubletick.WebhookRegistration{URL: "https://crm.example.com/h", Name: "n",
				Events: []string{doubletick.EventMessageReceived}, WABANumbers: []string{"+911111111111"}})
			return err
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
