package doubletick_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

// Find the WABA number to create groups on: the key's connected channels.
func ExampleChannelsService_List() {
	srv := doubleticktest.NewServer(doubleticktest.WithWABANumbers("911111111111", "912222222222"))
	defer srv.Close()
	c := srv.Client()

	list, _, err := c.Channels.List(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, ch := range list.Channels {
		fmt.Println(ch.WABANumber, ch.Status, ch.ChannelID)
	}
	// Output:
	// 911111111111 CONNECTED intg_0000000001
	// 912222222222 CONNECTED intg_0000000002
}

func ExampleChannelsService_Update() {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	req := &doubletick.UpdateChannelRequest{IntegrationID: "intg_0000000001", About: "Support, 9 to 6", Vertical: "Other"}
	res, _, err := c.Channels.Update(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, res.Profile.About)

	// One successful update per channel per hour: the next is refused, and
	// not retried.
	_, _, err = c.Channels.Update(ctx, req)
	fmt.Println(errors.Is(err, doubletick.ErrRateLimited))
	// Output:
	// SUCCESS Support, 9 to 6
	// true
}

func ExampleWalletService_Get() {
	srv := doubleticktest.NewServer(doubleticktest.WithWalletBalance("INR", 1250.5))
	defer srv.Close()
	c := srv.Client()

	b, _, err := c.Wallet.Get(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.2f %s\n", b.Balance, b.CurrencyCode)
	// Output: 1250.50 INR
}

// Map a CRM owner to the agent phone number DoubleTick's assign calls take.
func ExampleTeamService_List() {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c := srv.Client()

	team, _, err := c.Team.List(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range team {
		fmt.Println(m.Email, m.Phone, m.OrgRoleName)
	}
	// Output:
	// owner@example.com 919000000001 OWNER
	// ravi@example.com 919000000002 AGENT
}

func ExampleTeamService_Get() {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c := srv.Client()

	m, _, err := c.Team.Get(context.Background(), "+919000000002")
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range m.WABARoles {
		fmt.Println(m.Name, r.WABANumber, r.RoleName)
	}
	_, _, err = c.Team.Get(context.Background(), "919999999999")
	fmt.Println(errors.Is(err, doubletick.ErrNotFound))
	// Output:
	// Ravi Agent 911111111111 AGENT
	// true
}

func ExampleTeamService_ListRoles() {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	c := srv.Client()

	roles, _, err := c.Team.ListRoles(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range roles {
		fmt.Println(r.Name, r.Type)
	}
	// Output:
	// OWNER ORG
	// TEAM_LEAD ORG
	// AGENT WHATSAPP
}
