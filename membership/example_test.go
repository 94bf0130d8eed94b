package membership_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/webhooks"
)

// A Tracker behind a webhook handler: one line. Deliveries may come twice
// and out of order; the store ends up as if they had not.
func ExampleTracker_Handle() {
	store := membership.NewMemoryStore()
	tracker, _ := membership.NewTracker(store)
	verifier, _ := webhooks.NewBearerVerifier("token-registered-with-the-webhook")
	handler, _ := webhooks.NewHandler(verifier, webhooks.OnEvent(tracker.Handle))

	joined := `{"event":"GROUP_PARTICIPANT_JOINED","orgId":"org_1","integrationId":"int_1","groupName":"Support","groupId":"grp_01","customerPhone":"+919876543210","participantJoinedAt":"2026-01-15T10:30:00Z"}`
	left := `{"event":"GROUP_PARTICIPANT_LEFT","orgId":"org_1","integrationId":"int_1","groupName":"Support","groupId":"grp_01","customerPhone":"919876543210","participantLeftAt":"2026-01-15T11:15:00Z"}`
	for _, body := range []string{left, joined, joined} { // LEFT first, JOINED twice
		req := httptest.NewRequest(http.MethodPost, "/doubletick/webhooks", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer token-registered-with-the-webhook")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}

	m, _, _ := store.Member(context.Background(), "grp_01", "+919876543210")
	fmt.Println(m.State, m.JoinedAt.Format(time.Kitchen), m.LeftAt.Format(time.Kitchen))
	audit, _ := store.Audit(context.Background(), "grp_01")
	fmt.Println(len(audit), "changes audited")
	// Output:
	// 200
	// 200
	// 200
	// left 10:30AM 11:15AM
	// 2 changes audited
}

// Reconcile applies what lost webhooks would have said, from the
// participants endpoint. Here no webhook arrives at all.
func ExampleTracker_Reconcile() {
	ctx := context.Background()
	at := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	api := doubleticktest.NewServer(doubleticktest.WithClock(func() time.Time { at = at.Add(time.Minute); return at }))
	defer api.Close()
	client := api.Client()
	client.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "VIP", GroupID: "vip"})
	api.Join("vip", "+919876543210", "Asha")
	api.Join("vip", "+15551230000", "Bo")
	api.Leave("vip", "+919876543210")

	tracker, _ := membership.NewTracker(membership.NewMemoryStore(), membership.WithParticipants(client.Participants))
	report, err := tracker.Reconcile(ctx, "vip")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range report.Applied {
		fmt.Println(e.Phone, e.State, e.At.Format(time.Kitchen), "from", e.Source)
	}
	again, _ := tracker.Reconcile(ctx, "vip")
	fmt.Println("second run applied", len(again.Applied))
	// Output:
	// +15551230000 joined 10:03AM from reconcile
	// +919876543210 joined 10:02AM from reconcile
	// +919876543210 left 10:04AM from reconcile
	// second run applied 0
}
