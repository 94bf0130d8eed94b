// Command quickstart creates a WhatsApp group through the doubletick SDK.
//
// By default it runs offline, against the SDK's in-process fake of the API
// (package doubleticktest), so it needs no account:
//
//	go run ./examples/quickstart
//
// With DOUBLETICK_API_KEY set and -waba naming your WhatsApp Business number,
// it calls the real API instead, and says so:
//
//	DOUBLETICK_API_KEY=key_... go run ./examples/quickstart -waba 911111111111
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

func main() {
	waba := flag.String("waba", "911111111111", "WhatsApp Business number, digits with country code")
	subject := flag.String("subject", "New Support – Jan 2026", "group subject")
	groupID := flag.String("group-id", "", "your own group ID (empty: DoubleTick generates one)")
	flag.Parse()

	if err := run(*waba, *subject, *groupID); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(waba, subject, groupID string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var client *doubletick.Client
	if key := os.Getenv("DOUBLETICK_API_KEY"); key != "" {
		fmt.Println("DOUBLETICK_API_KEY is set: calling the real API at", doubletick.DefaultBaseURL)
		c, err := doubletick.NewClient(key, doubletick.WithUserAgent("doubletick-quickstart"))
		if err != nil {
			return err
		}
		client = c
	} else {
		srv := doubleticktest.NewServer()
		defer srv.Close()
		fmt.Println("offline: using the in-process fake DoubleTick API at", srv.URL)
		client = srv.Client()
	}

	// Bad input is refused before anything is sent, with every rule at once.
	_, _, err := client.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "+91 1111", JoinApprovalMode: "sometimes"})
	var invalid *doubletick.ValidationError
	if errors.As(err, &invalid) {
		fmt.Println("refused before sending:")
		for _, f := range invalid.Fields {
			fmt.Printf("  %-16s %-10s %s\n", f.Field, f.Rule, f.Detail)
		}
	}

	res, resp, err := client.Groups.Create(ctx, &doubletick.CreateGroupRequest{
		WABANumber:       waba,
		Subject:          subject,
		Description:      "Private support group for new customers.",
		JoinApprovalMode: doubletick.JoinApprovalRequired,
		GroupID:          groupID,
	})
	if err != nil {
		return err
	}
	fmt.Printf("group creation initiated: groupId=%s wabaNumber=%s (HTTP %d)\n", res.GroupID, res.WABANumber, resp.StatusCode)
	fmt.Println("the group exists once DoubleTick sends the GROUP_CREATED webhook")
	return nil
}
