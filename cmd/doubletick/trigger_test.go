package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/doubleticktest"
)

// A group send's status updates reach listen typed, from a registration
// of MESSAGE_STATUS_UPDATE at a path listen is told of; trigger sends
// events of other families through the fake and straight to a URL; a
// registration DoubleTick would refuse delivers nothing.
func TestStatusUpdatesAndTriggeredEventsArriveTyped(t *testing.T) {
	c := newCLI(t, doubleticktest.WithCreationDelay(0), doubleticktest.WithControlAPI())
	addr, stop := c.listening(t, "--auth", "bearer", "--path-type", "/status=MESSAGE_STATUS_UPDATE",
		"--path-type", "/assigned=CHAT_ASSIGNED_TO_AGENT")
	register := func(path, event string) result {
		r := c.run(t, "webhooks", "register", "--name", event, "--url", "http://"+addr+path, "--waba", "911111111111",
			"--event", event, "--auth-type", "bearer")
		require.Equal(t, exitOK, r.code, r.stderr)
		return r
	}
	r := register("/status", "MESSAGE_STATUS_UPDATE")
	assert.Contains(t, r.stderr, "note: MESSAGE_STATUS_UPDATE payloads name no type: tell the receiver their path (listen --path-type /status=MESSAGE_STATUS_UPDATE")
	register("/assigned", "CHAT_ASSIGNED_TO_AGENT")
	assert.Empty(t, register("/templates", "TEMPLATE_UPDATE").stderr, "its payload names its type")
	refused := c.run(t, "webhooks", "register", "--name", "groups", "--url", "http://"+addr+"/groups", "--waba", "911111111111",
		"--event", "GROUP_CREATED", "--auth-type", "bearer")
	assert.Equal(t, exitAPI, refused.code, "a registration of nothing is not a success")

	c.createGroup(t, "vip")
	sent := c.ok(t, "messages", "text", "--group", "vip", "--text", "hello all", "--json")
	c.ok(t, "trigger", "CHAT_ASSIGNED_TO_AGENT")
	c.ok(t, "trigger", "TEMPLATE_UPDATE")
	none := c.ok(t, "trigger", "ON_SLA_ESCALATED_PUBLIC")
	assert.Contains(t, none, "no receiver gets ON_SLA_ESCALATED_PUBLIC")
	direct := c.ok(t, "trigger", "CONVERSATION_COST_DEDUCTED", "--to", "http://"+addr+"/cost", "--format", "json")
	assert.Contains(t, direct, "CONVERSATION_COST_DEDUCTED sent to http://"+addr+"/cost: 200 OK")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.srv.WaitDeliveries(ctx, 5), "three statuses, an assignment, a template review")
	res := stop()

	var id struct{ MessageID string }
	require.NoError(t, json.Unmarshal([]byte(sent), &id))
	for _, status := range []string{"SENT", "DELIVERED", "READ"} {
		assert.Contains(t, res.stdout, "MESSAGE_STATUS_UPDATE message="+id.MessageID+" status="+status)
	}
	assert.Contains(t, res.stdout, `CHAT_ASSIGNED_TO_AGENT chat=chat_abc123 customer=+919111222333 agent="John Doe"`)
	assert.Contains(t, res.stdout, "TEMPLATE_UPDATE template=order_confirmation language=en status=APPROVED (was PENDING)")
	assert.Contains(t, res.stdout, "an event whose payload names no type (unknown to this SDK; raw payload below); if it is of an event that names no type",
		"the cost event at a path listen was not told of is not guessed")
	assert.NotContains(t, res.stdout, "GROUP_CREATED", "the refused registration delivered nothing")
	assert.Equal(t, 6, strings.Count(res.stdout, "\n  {"), "six events printed: five from the fake, one sent straight")
}

func TestTriggerRefusesWhatItCannotSend(t *testing.T) {
	c := newCLI(t)
	r := c.run(t, "trigger", "MESSAGE_RECEIVED")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `"MESSAGE_RECEIVED": not an event this can send; want one of CHAT_ASSIGNED_TO_AGENT`)
	r = c.run(t, "trigger", "GROUP_CREATED")
	assert.Equal(t, exitAPI, r.code, "the fake without its control API")
	assert.Contains(t, r.stderr, `is it "doubletick fake"?`)
	c.env[envBaseURL] = ""
	r = c.run(t, "trigger", "GROUP_CREATED")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "DoubleTick itself sends no test events")
	r = c.run(t, "trigger", "GROUP_CREATED", "--to", "http://user:tok-123456@127.0.0.1:9/hooks?key=tok-123456", "--auth", "header")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--auth header needs --name")
	r = c.run(t, "trigger", "GROUP_CREATED", "--to", "http://user:tok-123456@127.0.0.1:9/hooks?key=tok-123456")
	assert.NotEqual(t, exitOK, r.code)
	assert.Contains(t, r.stderr, "http://127.0.0.1:9/hooks")
	assert.NotContains(t, r.stderr, "tok-123456")
}
