package doubleticktest_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/internal/readmetest"
	"github.com/doubletick-go/doubletick/webhooks"
)

// TestREADMEFakeServer runs the README's snippet for doubleticktest as a
// user's test would: against a receiver of the SDK's own, to the end, with
// every wait bounded.
func TestREADMEFakeServer(t *testing.T) {
	readmetest.Check(t, "../README.md", "readme_test.go", "fake")
	const token = "readme-token-123"
	verifier, err := webhooks.NewBearerVerifier(token)
	require.NoError(t, err)
	handler, err := webhooks.NewHandler(verifier)
	require.NoError(t, err)
	receiver := httptest.NewServer(handler)
	defer receiver.Close()

	// README:fake:begin
	srv := doubleticktest.NewServer()
	defer srv.Close()
	require.NoError(t, srv.AddReceiver(doubleticktest.Receiver{ // before the create: every later event goes to it
		URL:           receiver.URL, // your webhook handler in an httptest.Server
		Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: token},
		BodyFormat:    doubleticktest.BodyJSON,      // or BodyFormData
		Format:        doubleticktest.FormatCurrent, // or FormatLegacy (no type field)
	}))
	c := srv.Client() // pointed at the fake, with no client-side limit

	// Every wait ends: a test that copies this cannot hang.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "VIP"})
	require.NoError(t, err)
	require.NoError(t, srv.WaitCreated(ctx, res.GroupID))                   // creation is asynchronous, as at DoubleTick
	require.NoError(t, srv.Join(res.GroupID, "+919876543210", "Asha"))      // GROUP_PARTICIPANT_JOINED
	require.NoError(t, srv.SendMessage(res.GroupID, "+919876543210", "hi")) // WA_GROUP_MESSAGE_RECEIVED
	require.NoError(t, srv.WaitDeliveries(ctx, 3))                          // GROUP_CREATED and those two
	// README:fake:end

	require.Len(t, srv.Deliveries(), 3)
	for _, d := range srv.Deliveries() {
		require.Equal(t, 200, d.Status, "delivery %+v", d)
	}
}
