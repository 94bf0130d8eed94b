// Command quickstart shows the whole doubletick flow: create a WhatsApp group
// through the SDK, then learn from verified webhooks that it exists and who
// joins and leaves it.
//
// By default it runs offline, against the SDK's in-process fake of the API
// (package doubleticktest), which delivers webhooks to a receiver this
// program runs on loopback:
//
//	go run ./examples/quickstart
//
// With DOUBLETICK_API_KEY set and -waba naming your WhatsApp Business number,
// it creates the group through the real API instead, and says so; the
// webhooks then go to the URL registered in your DoubleTick dashboard:
//
//	DOUBLETICK_API_KEY=key_... go run ./examples/quickstart -waba 911111111111
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
)

func main() {
	waba := flag.String("waba", "911111111111", "WhatsApp Business number, digits with country code")
	subject := flag.String("subject", "New Support – Jan 2026", "group subject")
	groupID := flag.String("group-id", "", "your own group ID (empty: DoubleTick generates one)")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := &doubletick.CreateGroupRequest{
		WABANumber:       *waba,
		Subject:          *subject,
		Description:      "Private support group for new customers.",
		JoinApprovalMode: doubletick.JoinApprovalRequired,
		GroupID:          *groupID,
	}
	var err error
	if key := os.Getenv("DOUBLETICK_API_KEY"); key != "" {
		err = runReal(ctx, key, req)
	} else {
		err = runOffline(ctx, req)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func runReal(ctx context.Context, key string, req *doubletick.CreateGroupRequest) error {
	fmt.Println("DOUBLETICK_API_KEY is set: calling the real API at", doubletick.DefaultBaseURL)
	c, err := doubletick.NewClient(key, doubletick.WithUserAgent("doubletick-quickstart"))
	if err != nil {
		return err
	}
	res, resp, err := c.Groups.Create(ctx, req)
	if err != nil {
		return err
	}
	fmt.Printf("group creation initiated: groupId=%s (HTTP %d, request %q)\n", res.GroupID, resp.StatusCode, resp.RequestID)
	fmt.Println("GROUP_CREATED will arrive at the webhook URL registered in your DoubleTick dashboard")
	return nil
}

// webhookToken is what the receiver checks: with DoubleTick you would
// register the webhook with authorization {"type": "BEARER", "payload": token}.
const webhookToken = "quickstart-webhook-token"

func runOffline(ctx context.Context, req *doubletick.CreateGroupRequest) error {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	fmt.Println("offline: the in-process fake DoubleTick API is at", srv.URL)

	events := make(chan string, 16)
	receiverURL, stop, err := startReceiver(events)
	if err != nil {
		return err
	}
	defer stop()
	if err := srv.AddReceiver(doubleticktest.Receiver{
		URL:           receiverURL,
		Authorization: &doubleticktest.Authorization{Type: "BEARER", Payload: webhookToken},
	}); err != nil {
		return err
	}
	fmt.Println("webhook receiver (Bearer-verified) listening at", receiverURL)
	client := srv.Client()

	// Bad input is refused before anything is sent, with every rule at once.
	_, _, err = client.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "+91 1111", JoinApprovalMode: "sometimes"})
	var invalid *doubletick.ValidationError
	if errors.As(err, &invalid) {
		fmt.Println("\nrefused before sending:")
		for _, f := range invalid.Fields {
			fmt.Printf("  %-16s %-10s %s\n", f.Field, f.Rule, f.Detail)
		}
	}

	res, resp, err := client.Groups.Create(ctx, req)
	if err != nil {
		return err
	}
	fmt.Printf("\n→ Groups.Create: creation initiated, groupId=%s (HTTP %d)\n", res.GroupID, resp.StatusCode)
	if err := await(ctx, events); err != nil {
		return err
	}

	fmt.Println("\nsimulating a member who joins through the invite link, then leaves:")
	if err := srv.Join(res.GroupID, "+919876543210", "Asha"); err != nil {
		return err
	}
	if err := await(ctx, events); err != nil {
		return err
	}
	if err := srv.Leave(res.GroupID, "+919876543210"); err != nil {
		return err
	}
	if err := await(ctx, events); err != nil {
		return err
	}

	g, _, err := client.Groups.Get(ctx, res.GroupID)
	if err != nil {
		return err
	}
	fmt.Printf("\n→ Groups.Get: %q, %s, %d participants\n", g.Subject, g.Status, g.TotalParticipantCount)
	return nil
}

// await prints the next verified event.
func await(ctx context.Context, events <-chan string) error {
	select {
	case e := <-events:
		fmt.Println(e)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for a webhook: %w", ctx.Err())
	}
}

// startReceiver serves a webhooks.Handler on a loopback port and sends a
// line describing each verified event to events.
func startReceiver(events chan<- string) (string, func(), error) {
	verifier, err := webhooks.NewBearerVerifier(webhookToken)
	if err != nil {
		return "", nil, err
	}
	handler, err := webhooks.NewHandler(verifier,
		webhooks.OnGroupCreated(func(_ context.Context, e *webhooks.GroupCreated) error {
			events <- fmt.Sprintf("← GROUP_CREATED             group %s %q exists since %s (invite link received, not printed: it is a credential)",
				e.GroupID, e.GroupName, e.CreatedAt.Format(time.RFC3339))
			return nil
		}),
		webhooks.OnParticipantJoined(func(_ context.Context, e *webhooks.ParticipantJoined) error {
			events <- fmt.Sprintf("← GROUP_PARTICIPANT_JOINED  %s joined %s", e.Phone.E164, e.GroupID)
			return nil
		}),
		webhooks.OnParticipantLeft(func(_ context.Context, e *webhooks.ParticipantLeft) error {
			events <- fmt.Sprintf("← GROUP_PARTICIPANT_LEFT    %s left %s of their own accord", e.Phone.E164, e.GroupID)
			return nil
		}),
	)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String() + "/doubletick/webhooks", stop, nil
}
