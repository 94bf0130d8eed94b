package doubletick_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

// exampleServer starts the fake API with two groups on one WABA number.
func exampleServer() (*doubleticktest.Server, *doubletick.Client) {
	srv := doubleticktest.NewServer(doubleticktest.WithPageSize(1))
	c := srv.Client()
	for _, id := range []string{"onboarding", "vip"} {
		_, _, err := c.Groups.Create(context.Background(), &doubletick.CreateGroupRequest{
			WABANumber: "911111111111", Subject: "Group " + id, GroupID: id,
		})
		if err != nil {
			log.Fatal(err)
		}
		// Creation is asynchronous: in production, wait for GROUP_CREATED.
		if err := srv.WaitCreated(context.Background(), id); err != nil {
			log.Fatal(err)
		}
	}
	return srv, c
}

func ExampleGroupsService_Get() {
	srv, c := exampleServer()
	defer srv.Close()

	g, _, err := c.Groups.Get(context.Background(), "vip")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(g.GroupID, g.Subject, g.Status)

	_, _, err = c.Groups.Get(context.Background(), "not-created-yet")
	fmt.Println(errors.Is(err, doubletick.ErrNotFound))
	// Output:
	// vip Group vip ACTIVE
	// true
}

func ExampleGroupsService_Update() {
	srv, c := exampleServer()
	defer srv.Close()

	_, err := c.Groups.Update(context.Background(), "vip", &doubletick.UpdateGroupRequest{
		WABANumber: "911111111111",
		Subject:    "VIP customers",
	})
	if err != nil {
		log.Fatal(err)
	}
	g, _, _ := c.Groups.Get(context.Background(), "vip")
	fmt.Println(g.Subject)
	// Output: VIP customers
}

func ExampleGroupsService_List() {
	srv, c := exampleServer()
	defer srv.Close()

	// One page at a time, following the cursors by hand.
	opts := &doubletick.ListGroupsOptions{}
	for {
		page, _, err := c.Groups.List(context.Background(), "911111111111", opts)
		if err != nil {
			log.Fatal(err)
		}
		for _, g := range page.Groups {
			fmt.Println(g.GroupID)
		}
		if !page.HasMore {
			break
		}
		opts = &doubletick.ListGroupsOptions{LastGroupID: page.LastGroupID, OlderThan: page.OlderThan}
	}
	// Output:
	// vip
	// onboarding
}

func ExampleGroupsService_All() {
	srv, c := exampleServer()
	defer srv.Close()

	for g, err := range c.Groups.All(context.Background(), "911111111111", nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(g.GroupID)
	}
	// Output:
	// vip
	// onboarding
}

func ExampleGroupsService_Delete() {
	srv, c := exampleServer()
	defer srv.Close()

	if _, err := c.Groups.Delete(context.Background(), "onboarding"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(srv.Groups()))
	// Output: 1
}

func ExampleGroupsService_GetAISummary() {
	srv, c := exampleServer()
	defer srv.Close()

	// A member joins and says something today.
	if err := srv.Join("vip", "+919876543210", "Asha"); err != nil {
		log.Fatal(err)
	}
	if err := srv.SendMessage("vip", "+919876543210", "Hello!"); err != nil {
		log.Fatal(err)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	sum, _, err := c.Groups.GetAISummary(context.Background(), "vip", &doubletick.GetAISummaryRequest{Start: today.AddDate(0, 0, -6), End: today})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sum.GroupName, sum.ChatType, sum.MemberCount, sum.ChatMessagesCount, len(sum.Summaries))

	// An eighth day is refused before anything is sent.
	_, _, err = c.Groups.GetAISummary(context.Background(), "vip", &doubletick.GetAISummaryRequest{Start: today.AddDate(0, 0, -7), End: today})
	var invalid *doubletick.ValidationError
	fmt.Println(errors.As(err, &invalid))
	// Output:
	// Group vip WA_GROUP 1 1 1
	// true
}

func ExampleGroupsService_AssignTags() {
	srv, c := exampleServer()
	defer srv.Close()

	res, _, err := c.Groups.AssignTags(context.Background(), &doubletick.AssignTagsRequest{
		GroupID:      "vip",
		Tags:         []string{"priority"},
		CustomFields: []doubletick.CustomField{{Name: "tier", Value: "gold"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Tags.Added, res.CustomFields.Added)
	// Output: [priority] [tier]
}

func ExampleGroupsService_RemoveTags() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	_, _, _ = c.Groups.AssignTags(ctx, &doubletick.AssignTagsRequest{GroupID: "vip", Tags: []string{"priority"}})
	res, _, err := c.Groups.RemoveTags(ctx, &doubletick.RemoveTagsRequest{GroupID: "vip", Tags: []string{"priority", "never-set"}})
	if err != nil {
		log.Fatal(err)
	}
	// Items that could not be removed are reported, not returned as an error.
	fmt.Println(res.Tags.Removed, res.Tags.Errored[0].Tag)
	// Output: [priority] never-set
}

func ExampleParticipantsService_List() {
	srv, c := exampleServer()
	defer srv.Close()
	_ = srv.Join("vip", "+919876543210", "Asha") // as if Asha had followed the invite link

	page, _, err := c.Participants.List(context.Background(), "vip", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range page.Participants {
		fmt.Println(p.Name, p.PhoneNumber, p.IsCurrent())
	}
	// Output: Asha +919876543210 true
}

func ExampleParticipantsService_All() {
	srv, c := exampleServer()
	defer srv.Close()
	_ = srv.Join("vip", "+919876543210", "Asha")
	_ = srv.Join("vip", "+15551230000", "Bo")
	_ = srv.Leave("vip", "+919876543210")

	for p, err := range c.Participants.All(context.Background(), "vip", nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(p.Name, p.IsCurrent())
	}
	// Output:
	// Bo true
	// Asha false
}

func ExampleParticipantsService_Remove() {
	srv, c := exampleServer()
	defer srv.Close()
	_ = srv.Join("vip", "+15551230000", "Bo")

	// Any common spelling of the number is sent in the documented "+" form.
	res, _, err := c.Participants.Remove(context.Background(), "vip", "1 (555) 123-0000")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.MessagingProduct)
	// Output: whatsapp
}
