package doubletick_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"golang.org/x/time/rate"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

func ExampleNewClient() {
	// In production: doubletick.NewClient(os.Getenv("DOUBLETICK_API_KEY")).
	// Here the client talks to the SDK's in-process fake of the API.
	srv := doubleticktest.NewServer()
	defer srv.Close()

	c, err := doubletick.NewClient(doubleticktest.APIKey,
		doubletick.WithBaseURL(srv.URL),
		doubletick.WithTimeout(10*time.Second),
		doubletick.WithUserAgent("my-crm/2.3"),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Groups != nil)

	_, err = doubletick.NewClient("")
	fmt.Println(err)
	// Output:
	// true
	// doubletick: NewClient: API key is empty
}

func ExampleGroupsService_Create() {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	res, resp, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{
		WABANumber:       "911111111111",
		Subject:          "New Support – Jan 2026",
		Description:      "Private support group for new customers.",
		JoinApprovalMode: doubletick.JoinApprovalRequired,
		GroupID:          "new_support_2026",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Creation has been initiated; GROUP_CREATED arrives by webhook once the
	// group exists.
	fmt.Println(resp.StatusCode, res.GroupID)

	// The same groupId again: the fake refuses it as a business rule.
	_, _, err = c.Groups.Create(ctx, &doubletick.CreateGroupRequest{
		WABANumber: "911111111111", Subject: "Again", GroupID: "new_support_2026",
	})
	var apiErr *doubletick.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, errors.Is(err, doubletick.ErrUnprocessable), apiErr.Message())
	}

	// Invalid input never leaves the process.
	_, _, err = c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "91-1111-111111"})
	fmt.Println(err)
	// Output:
	// 200 new_support_2026
	// 422 true A group with this groupId already exists
	// doubletick: invalid GroupsService.Create: wabaNumber: must be digits with the country code (a leading + is allowed), found '-' at byte offset 2; subject: is required
}

func ExampleWithPathRateLimit() {
	srv := doubleticktest.NewServer()
	defer srv.Close()

	// Two creates per minute on the create route, at most one at once;
	// every other route keeps DefaultRateLimit. A 429 is retried after its
	// Retry-After (up to a minute), and pauses the route for every caller.
	c, err := srv.NewClient(
		doubletick.WithPathRateLimit(doubletick.RouteCreateGroup, doubletick.RateLimit{Rate: rate.Every(30 * time.Second), Burst: 1}),
		doubletick.WithMaxAttempts(3),
		doubletick.WithMaxRetryAfter(time.Minute),
	)
	if err != nil {
		log.Fatal(err)
	}
	req := &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "Onboarding"}
	_, _, err = c.Groups.Create(context.Background(), req)
	fmt.Println("first:", err)

	// The next token comes in 30 s; a call that must finish within one second
	// is refused at once, and nothing is sent.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _, err = c.Groups.Create(ctx, req)
	fmt.Println("second:", errors.Is(err, doubletick.ErrRateLimited), srv.Requests())
	// Output:
	// first: <nil>
	// second: true 1
}
