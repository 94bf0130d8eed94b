// Command quickstart shows the whole doubletick flow: register a webhook
// receiver through the SDK, create a WhatsApp group, learn from verified
// webhooks that it exists and who joins, send the group a message, and read
// a member's reply.
//
// It runs offline, against the SDK's in-process fake of the API (package
// doubleticktest), which delivers webhooks to a receiver this program runs
// on loopback:
//
//	go run ./examples/quickstart
//
// It calls the real API only when told to with -live, with the key in
// DOUBLETICK_API_KEY; it then only creates the group (the webhooks go to
// the URL registered in your DoubleTick dashboard). Without -waba it lists
// the key's WhatsApp numbers and uses the one connected, or names them and
// stops when there are several. A key in the environment alone never makes
// it go live:
//
//	DOUBLETICK_API_KEY=key_... go run ./examples/quickstart -live [-waba 911111111111]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
)

func main() {
	live := flag.Bool("live", false, "call the real DoubleTick API (needs DOUBLETICK_API_KEY) instead of the offline fake")
	waba := flag.String("waba", "", "WhatsApp Business number, digits with country code (-live: the key's one connected number; offline: 911111111111)")
	subject := flag.String("subject", "New Support – Jan 2026", "group subject")
	groupID := flag.String("group-id", "", "your own group ID (empty: DoubleTick generates one)")
	flag.Parse()
	key := os.Getenv("DOUBLETICK_API_KEY")
	switch {
	case *live && key == "":
		fmt.Fprintln(os.Stderr, "quickstart: -live needs your API key in DOUBLETICK_API_KEY")
		os.Exit(2)
	case !*live && *waba == "":
		*waba = "911111111111"
	}

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
	if *live {
		err = runReal(ctx, key, req)
	} else {
		if key != "" {
			fmt.Println("DOUBLETICK_API_KEY is set but -live is not: running offline")
		}
		err = runOffline(ctx, req)
	}
	var usage usageError
	switch {
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// usageError is a mistake the user fixes with a flag: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// pickWABANumber returns the WhatsApp number to create the group on when
// -waba is not given: the key's one connected channel. With none, or
// several, it says which there are and which flag to give.
func pickWABANumber(ctx context.Context, c *doubletick.Client) (string, error) {
	list, _, err := c.Channels.List(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("listing the key's WhatsApp numbers: %w", err)
	}
	var numbers []string
	for _, ch := range list.Channels {
		if ch.Status == "CONNECTED" && ch.WABANumber != "" {
			numbers = append(numbers, ch.WABANumber)
		}
	}
	switch len(numbers) {
	case 0:
		return "", usageError{"no WhatsApp number is connected to this API key: connect one in DoubleTick's dashboard"}
	case 1:
		return numbers[0], nil
	}
	return "", usageError{fmt.Sprintf("this API key has %d WhatsApp numbers (%s): choose one with -waba", len(numbers), strings.Join(numbers, ", "))}
}

func runReal(ctx context.Context, key string, req *doubletick.CreateGroupRequest) error {
	fmt.Println("-live: calling the real API at", doubletick.DefaultBaseURL)
	c, err := doubletick.NewClient(key, doubletick.WithUserAgent("doubletick-quickstart"))
	if err != nil {
		return err
	}
	if req.WABANumber == "" {
		if req.WABANumber, err = pickWABANumber(ctx, c); err != nil {
			return err
		}
		fmt.Println("using the key's WhatsApp number", req.WABANumber)
	}
	res, resp, err := c.Groups.Create(ctx, req)
	if err != nil {
		return err
	}
	fmt.Printf("group creation initiated: groupId=%s (HTTP %d, request %q)\n", res.GroupID, resp.StatusCode, resp.RequestID)
	fmt.Println("GROUP_CREATED will arrive at the webhook URL registered in your DoubleTick dashboard")
	return nil
}

// webhookAuth is registered with the webhook and checked by the receiver:
// one secret configures both ends.
var webhookAuth = &webhooks.Authorization{Type: webhooks.AuthorizationBearer, Payload: "quickstart-webhook-token"}

func runOffline(ctx context.Context, req *doubletick.CreateGroupRequest) error {
	// WithWebhookSenders(1): events in order. WithGroupEventSubscriptions:
	// DoubleTick sets up group webhooks in its dashboard (its subscription
	// API's enum lacks them); the fake lets this program register its
	// receiver through Webhooks.Register instead.
	srv := doubleticktest.NewServer(doubleticktest.WithWebhookSenders(1), doubleticktest.WithGroupEventSubscriptions())
	defer srv.Close()
	fmt.Println("offline: the in-process fake DoubleTick API is at", srv.URL)
	client := srv.Client()

	events := make(chan string, 16)
	receiverURL, stop, err := startReceiver(events)
	if err != nil {
		return err
	}
	defer stop()
	reg, _, err := client.Webhooks.Register(ctx, &doubletick.WebhookRegistration{
		URL:  receiverURL,
		Name: "quickstart",
		Events: []webhooks.Type{webhooks.TypeGroupCreated, webhooks.TypeParticipantJoined,
			webhooks.TypeParticipantLeft, webhooks.TypeGroupMessageReceived},
		WABANumbers:   []string{req.WABANumber},
		Authorization: webhookAuth,
	})
	if err != nil {
		return err
	}
	fmt.Printf("→ Webhooks.Register: %d event subscriptions for the receiver (Bearer-verified) at %s\n", len(reg.ValidWebhooks), receiverURL)

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

	fmt.Println("\nsimulating a member who joins through the invite link:")
	if err := srv.Join(res.GroupID, "+919876543210", "Asha"); err != nil {
		return err
	}
	if err := await(ctx, events); err != nil {
		return err
	}

	sent, _, err := client.Messages.SendText(ctx, &doubletick.TextMessage{
		Target: doubletick.Target{GroupID: res.GroupID},
		Text:   "Welcome! Ask us anything here.",
	})
	if err != nil {
		return err
	}
	fmt.Printf("\n→ Messages.SendText to the group: %s, messageId=%s\n", sent.Status, sent.MessageID)

	fmt.Println("\nsimulating the member's reply, then their leaving:")
	if err := srv.SendMessage(res.GroupID, "+919876543210", "Thanks! When do you open?"); err != nil {
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
	verifier, err := webhookAuth.Verifier()
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
		webhooks.OnGroupMessageReceived(func(_ context.Context, e *webhooks.GroupMessageReceived) error {
			events <- fmt.Sprintf("← WA_GROUP_MESSAGE_RECEIVED %s (%s) wrote %q in Meta group %s", e.From.E164, e.Contact.Name, e.Message.Text, e.To)
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
