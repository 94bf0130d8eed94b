package doubletick_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/doubletick-go/doubletick"
)

// A group's participant is a customer: resolve them to the CRM contact.
func ExampleCustomersService_Get() {
	srv, c := chatServer() // Asha, +919876543210, is in a group
	defer srv.Close()

	cust, _, err := c.Customers.Get(context.Background(), &doubletick.GetCustomerRequest{PhoneNumber: "+919876543210"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cust.Name, cust.Phone, cust.ID)
	// Output: Asha +919876543210 customer_919876543210
}

// Sync CRM fields into DoubleTick: it creates the customer when missing.
func ExampleCustomersService_AssignTags() {
	srv, c := chatServer()
	defer srv.Close()

	optIn := true
	res, _, err := c.Customers.AssignTags(context.Background(), &doubletick.AssignCustomerTagsRequest{
		Phone: "919812345678", Name: "Ravi", OptIn: &optIn, Tags: []string{"vip"},
		CustomFields: []doubletick.CustomerField{{Name: "plan", Value: "gold"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.CustomerID, res.Tags.Added, res.CustomFields.Added)
	// Output: customer_919812345678 [vip] [plan]
}

func ExampleCustomersService_RemoveTags() {
	srv, c := chatServer()
	defer srv.Close()
	ctx := context.Background()

	if _, _, err := c.Customers.AssignTags(ctx, &doubletick.AssignCustomerTagsRequest{Phone: "919876543210", Tags: []string{"vip", "trial"}}); err != nil {
		log.Fatal(err)
	}
	res, _, err := c.Customers.RemoveTags(ctx, &doubletick.RemoveCustomerTagsRequest{Phone: "919876543210", Tags: []string{"trial", "ghost"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Tags.Removed, res.Tags.Errored[0].Tag)
	// Output: [trial] ghost
}

// An erasure request: queued, with the phones that matched no one.
func ExampleCustomersService_Delete() {
	srv, c := chatServer()
	defer srv.Close()

	res, _, err := c.Customers.Delete(context.Background(), &doubletick.DeleteCustomersRequest{
		PhoneNumbers: []string{"919876543210", "919800000000"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Message, res.NotFoundPhoneNumbers)
	// Output: Your request has been queued for deletion. [919800000000]
}

// Give a participant's 1:1 chat the group's owner.
func ExampleCustomersService_Assign() {
	srv, c := chatServer()
	defer srv.Close()

	agent, _, err := c.Customers.Assign(context.Background(), &doubletick.AssignCustomerRequest{
		CustomerPhoneNumber: "919876543210", AssignedUserPhoneNumber: "919000000002", WABANumber: "911111111111"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(agent.Name)
	// Output: Ravi Agent
}

func ExampleCustomersService_CreateBlock() {
	srv, c := chatServer()
	defer srv.Close()

	if _, err := c.Customers.CreateBlock(context.Background(), "+919876543210"); err != nil {
		log.Fatal(err)
	}
	_, err := c.Customers.CreateBlock(context.Background(), "+919800000000")
	fmt.Println(srv.Customers()[0].Blocked, errors.Is(err, doubletick.ErrNotFound))
	// Output: true true
}

func ExampleCustomersService_DeleteBlock() {
	srv, c := chatServer()
	defer srv.Close()
	ctx := context.Background()

	if _, err := c.Customers.CreateBlock(ctx, "+919876543210"); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Customers.DeleteBlock(ctx, "+919876543210"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Customers()[0].Blocked)
	// Output: false
}
