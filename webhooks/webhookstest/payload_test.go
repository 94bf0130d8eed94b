package webhookstest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// Every payload made is its type's typed event, in JSON and in form data,
// read by a receiver registered for it; payloads of two times are two
// events.
func TestPayloadsAreTheirTypedEvents(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	require.Len(t, webhookstest.PayloadTypes(), 16)
	for _, typ := range webhookstest.PayloadTypes() {
		for _, f := range []webhooks.BodyFormat{webhooks.BodyJSON, webhooks.BodyFormData} {
			p, err := webhookstest.Payload(typ, at)
			require.NoError(t, err)
			body, ct, err := webhookstest.Encode(f, p)
			require.NoError(t, err)
			ev, err := webhooks.ParseContentAs(typ, ct, body)
			require.NoError(t, err, "%s as %s: %s", typ, f, body)
			assert.Equal(t, typ, ev.Type())
			assert.NotEqual(t, webhooks.TypeUnknownToObserver, webhooks.ObservedType(ev), typ)

			later, err := webhookstest.Payload(typ, at.Add(time.Second))
			require.NoError(t, err)
			b2, _, err := webhookstest.Encode(webhooks.BodyJSON, later)
			require.NoError(t, err)
			ev2, err := webhooks.ParseAs(typ, b2)
			require.NoError(t, err)
			if ev.DedupKey() != "" {
				assert.NotEqual(t, ev.DedupKey(), ev2.DedupKey(), "%s made at two times", typ)
			}
		}
	}
	_, err := webhookstest.Payload(webhooks.TypeMessageReceived, at)
	assert.ErrorContains(t, err, "no payload for \"MESSAGE_RECEIVED\"; want one of CHAT_ASSIGNED_TO_AGENT")
}
