package doubletick_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/internal/readmetest"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// readmeSend is the README's snippet on sending, run against the fake.
func readmeSend(ctx context.Context, c *doubletick.Client) (*doubletick.MessageStatus, error) {
	// README:send:begin
	res, _, err := c.Messages.SendText(ctx, &doubletick.TextMessage{
		Target: doubletick.Target{GroupID: "vip"}, // or To: "+919999999999": exactly one
		Text:   "Welcome to the VIP group!",
	})
	if err != nil {
		return nil, err
	}
	// res.MessageID is the UUID v4 the SDK generated and sent (or yours, in Target.MessageID)
	st, _, err := c.Messages.GetStatus(ctx, res.MessageID) // sentAt, deliveredAt, readAt, …
	// README:send:end
	return st, err
}

func TestREADMESendRuns(t *testing.T) {
	readmetest.Check(t, "README.md", "readme_snippets_test.go", "send")
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := srv.Client()
	_, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "VIP", GroupID: "vip"})
	require.NoError(t, err)
	require.NoError(t, srv.WaitCreated(ctx, "vip"))
	st, err := readmeSend(ctx, c)
	require.NoError(t, err)
	require.NotEmpty(t, st.MessageID)
	require.Len(t, srv.Sent(), 1)
}

// memberRecords is what the README's webhook snippet keeps members in.
type memberRecords interface {
	Add(ctx context.Context, groupID, phone string, at time.Time) error
}

// readmeWebhooks is the README's snippet on receiving webhooks. It is
// compiled, not run: it registers on http.DefaultServeMux.
func readmeWebhooks(members memberRecords) error {
	// README:webhooks:begin
	verifier, err := webhooks.NewBearerVerifier(os.Getenv("DOUBLETICK_WEBHOOK_SECRET"))
	if err != nil {
		return err
	}
	dedup, _ := webhooks.NewMemoryDeduplicator(24*time.Hour, 100_000)
	handler, err := webhooks.NewHandler(verifier,
		webhooks.WithDeduplicator(dedup),
		webhooks.OnParticipantJoined(func(ctx context.Context, e *webhooks.ParticipantJoined) error {
			return members.Add(ctx, e.GroupID, e.Phone.E164, e.At) // an error answers 500
		}),
	)
	if err != nil {
		return err
	}
	http.Handle("/doubletick/webhooks", handler)
	// README:webhooks:end
	return nil
}

var _ = readmeWebhooks

func TestREADMEWebhooksIsCompiledCode(t *testing.T) {
	readmetest.Check(t, "README.md", "readme_snippets_test.go", "webhooks")
}

// deliveryRecords is what the README's status snippet updates.
type deliveryRecords interface {
	MarkDelivery(ctx context.Context, messageID, status, reason string) error
}

// readmePathType is the README's snippet on events that name no type.
func readmePathType(verifier webhooks.Verifier, crm deliveryRecords) (*webhooks.Handler, error) {
	// README:pathtype:begin
	h, err := webhooks.NewHandler(verifier,
		webhooks.WithPathType("/doubletick/status", webhooks.TypeMessageStatusUpdate),
		webhooks.OnMessageStatusUpdate(func(ctx context.Context, e *webhooks.MessageStatusUpdate) error {
			return crm.MarkDelivery(ctx, e.MessageID, e.Status, e.FailMessage)
		}),
	)
	// README:pathtype:end
	return h, err
}

type markedDeliveries []string

func (m *markedDeliveries) MarkDelivery(_ context.Context, id, status, reason string) error {
	*m = append(*m, id+" "+status+" "+reason)
	return nil
}

func TestREADMEPathTypeRuns(t *testing.T) {
	readmetest.Check(t, "README.md", "readme_snippets_test.go", "pathtype")
	verifier, err := webhooks.NewBearerVerifier("readme-token")
	require.NoError(t, err)
	var crm markedDeliveries
	h, err := readmePathType(verifier, &crm)
	require.NoError(t, err)
	body := `{"messageId":"dt_1","to":"919999999999","status":"FAILED","statusTimestamp":"2026-06-04T11:48:14.000Z","failMessage":"Message delivery failed"}`
	r, err := webhookstest.NewRequest("/doubletick/status", []byte(body), webhookstest.Bearer("readme-token"))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, markedDeliveries{"dt_1 FAILED Message delivery failed"}, crm)
}

// readmeLimits is the README's snippet on limits and retries.
func readmeLimits(key string) (*doubletick.Client, error) {
	// README:limits:begin
	c, err := doubletick.NewClient(key,
		doubletick.WithPathRateLimit(doubletick.RouteCreateGroup,
			doubletick.RateLimit{Rate: rate.Every(time.Second), Burst: 10}),
		doubletick.WithMaxAttempts(5),
	)
	// README:limits:end
	return c, err
}

func TestREADMELimitsRuns(t *testing.T) {
	readmetest.Check(t, "README.md", "readme_snippets_test.go", "limits")
	c, err := readmeLimits("key_readme")
	require.NoError(t, err)
	require.NotNil(t, c)
}

// readmeHTTPMock is the README's snippet on httpmock, ending in a call the
// mock answers.
func readmeHTTPMock(ctx context.Context, key string) error {
	// README:httpmock:begin
	hc := &http.Client{}
	c, _ := doubletick.NewClient(key, doubletick.WithHTTPClient(hc))
	httpmock.ActivateNonDefault(hc)
	defer httpmock.DeactivateNonDefault(hc)
	httpmock.RegisterResponder("POST", "https://public.doubletick.io/whatsapp/wa-group/create",
		httpmock.NewStringResponder(422, `{"statusCode":422,"message":"Insufficient AI credits"}`))
	// README:httpmock:end
	_, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "VIP"})
	return err
}

func TestREADMEHTTPMockRuns(t *testing.T) {
	readmetest.Check(t, "README.md", "readme_snippets_test.go", "httpmock")
	t.Cleanup(httpmock.Reset) // the responder is registered on httpmock's default transport
	err := readmeHTTPMock(context.Background(), "key_readme")
	var apiErr *doubletick.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 422, apiErr.StatusCode)
}
