package doubleticktest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

// The customer API, as get-customer-details,
// customer-assign-tags-custom-fields, customer-remove-tags-custom-fields,
// delete-customer, assign-team-member-to-customer, block-unblock-customer
// and unblock-unblock-customer document it.
var customerRoutes = []string{doubletick.RouteGetCustomer, doubletick.RouteAssignCustomerTags, doubletick.RouteRemoveCustomerTags,
	doubletick.RouteDeleteCustomers, doubletick.RouteAssignCustomer, doubletick.RouteCreateCustomerBlock,
	doubletick.RouteDeleteCustomerBlock}

func init() {
	tagErrors := arrayOf(schema{"tag": req("string"), "error": req("string")}, true)
	fieldErrors := arrayOf(schema{"customField": req("string"), "error": req("string")}, true)
	for route, r := range map[string]struct {
		query, body   schema
		multipartFile string
	}{
		doubletick.RouteGetCustomer: {query: schema{"phoneNumber": opt("string"), "wabaNumber": opt("string"), "customerId": opt("string")}},
		doubletick.RouteAssignCustomerTags: {body: schema{"phone": req("string"), "tags": arrayOf("string", false),
			"customFields": arrayOf(schema{"name": req("string"), "value": req("string")}, false), "name": opt("string"),
			"optIn": opt("boolean"), "agentPhone": opt("string"), "wabaNumber": opt("string")}},
		doubletick.RouteRemoveCustomerTags: {body: schema{"phone": req("string"), "tags": arrayOf("string", true),
			"customFields": arrayOf("string", true), "wabaNumber": opt("string")}},
		doubletick.RouteDeleteCustomers: {body: schema{"phoneNumbers": arrayOf("string", true)}},
		doubletick.RouteAssignCustomer: {body: schema{"customerPhoneNumber": req("string"), "assignedUserPhoneNumber": req("string"),
			"wabaNumber": req("string")}},
		doubletick.RouteCreateCustomerBlock: {body: schema{"phone": req("string")}},
		doubletick.RouteDeleteCustomerBlock: {body: schema{"phone": req("string")}},
	} {
		requests[route] = r
	}
	for route, answers := range map[string]map[int]schema{
		doubletick.RouteGetCustomer: {200: {"customer": {typ: "object", required: true, of: schema{"id": opt("string"), "name": opt("string"),
			"phone": opt("string"), "tags": arrayOf("string", false), "customFields": arrayOf(schema{"id": opt("string"), "name": opt("string"),
				"value": opt("string"), "type": opt("string"), "type ": opt("string")}, false),
			"assignedToUser": opt("string"), "assignedUserNumber": opt("string")}}}},
		doubletick.RouteAssignCustomerTags: {201: {
			"tags":         {typ: "object", required: true, of: schema{"added": arrayOf("string", true), "errored": tagErrors}},
			"customFields": {typ: "object", required: true, of: schema{"added": arrayOf("string", true), "errored": fieldErrors}},
			"customerId":   opt("string")}},
		// The schema requires added; its examples and guide write removed.
		doubletick.RouteRemoveCustomerTags: {201: {
			"tags":         {typ: "object", required: true, of: schema{"added": arrayOf("string", false), "removed": arrayOf("string", false), "errored": tagErrors}},
			"customFields": {typ: "object", required: true, of: schema{"added": arrayOf("string", false), "removed": arrayOf("string", false), "errored": fieldErrors}}}},
		doubletick.RouteDeleteCustomers:     {201: {"message": req("string"), "notFoundPhoneNumbers": arrayOf("string", false)}},
		doubletick.RouteAssignCustomer:      {201: {"name": opt("string"), "email": opt("string"), "phone": opt("string")}},
		doubletick.RouteCreateCustomerBlock: {201: {}},
		doubletick.RouteDeleteCustomerBlock: {201: {}},
	} {
		responses[route] = answers
	}
	emptyAnswers[doubletick.RouteAssignCustomer] = map[int]bool{201: true}
	bare := schema{"statusCode": req("integer"), "message": req("string")}
	documentedErrors[doubletick.RouteGetCustomer] = map[int]string{400: "", 404: "NotFound"}
	errorShapes[doubletick.RouteGetCustomer] = map[int]schema{404: bare}
	documentedErrors[doubletick.RouteAssignCustomerTags] = map[int]string{400: "", 422: ""}
	documentedErrors[doubletick.RouteRemoveCustomerTags] = map[int]string{400: "", 422: "", 500: ""}
	documentedErrors[doubletick.RouteDeleteCustomers] = map[int]string{400: "", 403: "", 404: "No matching customers found"}
	errorShapes[doubletick.RouteDeleteCustomers] = map[int]schema{404: {"message": req("string"), "notFoundPhoneNumbers": arrayOf("string", true)}}
	documentedErrors[doubletick.RouteAssignCustomer] = map[int]string{400: "", 403: "", 404: "", 422: "User is not a member of the team"}
	for _, route := range []string{doubletick.RouteCreateCustomerBlock, doubletick.RouteDeleteCustomerBlock} {
		documentedErrors[route] = map[int]string{400: "", 404: "Invalid Customer"}
		errorShapes[route] = map[int]schema{404: bare}
	}
}

// TestContractCustomers drives the customer endpoints through the SDK to
// each answer the fake gives, checks both sides against the docs, and that
// the records change as the calls say.
func TestContractCustomers(t *testing.T) {
	fake := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0), doubleticktest.WithWABANumbers(waba), doubleticktest.WithClock(tick()))
	defer fake.Close()
	c, rec := contractClient(t, fake)
	ctx := context.Background()
	_, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: waba, Subject: "VIP", GroupID: "vip"})
	require.NoError(t, err)
	require.NoError(t, fake.Join("vip", "+919876543210", "Asha"))
	rec.exchanges = nil
	asha := "919876543210"

	optIn := true
	res, _, err := c.Customers.AssignTags(ctx, &doubletick.AssignCustomerTagsRequest{Phone: "+" + asha, Tags: []string{"vip"}, Name: "Asha K",
		OptIn: &optIn, AgentPhone: "919000000002", WABANumber: waba, CustomFields: []doubletick.CustomerField{{Name: "plan", Value: "gold"}}})
	require.NoError(t, err)
	assert.Equal(t, "customer_"+asha, res.CustomerID)
	created, _, err := c.Customers.AssignTags(ctx, &doubletick.AssignCustomerTagsRequest{Phone: "919800000001"})
	require.NoError(t, err, "create or update")
	assert.NotEmpty(t, created.CustomerID)
	_, _, err = c.Customers.AssignTags(ctx, &doubletick.AssignCustomerTagsRequest{Phone: asha, AgentPhone: "15550009999"})
	require.Error(t, err, "400: not a team member")

	cust, _, err := c.Customers.Get(ctx, &doubletick.GetCustomerRequest{PhoneNumber: asha, WABANumber: "+" + waba})
	require.NoError(t, err)
	assert.Equal(t, "Asha K", cust.Name)
	assert.Equal(t, []string{"vip"}, cust.Tags)
	assert.Equal(t, "Ravi Agent", cust.AssignedToUser)
	require.Len(t, cust.CustomFields, 1)
	assert.Equal(t, "text", cust.CustomFields[0].Type)
	_, _, err = c.Customers.Get(ctx, &doubletick.GetCustomerRequest{CustomerID: cust.ID})
	require.NoError(t, err)
	_, _, err = c.Customers.Get(ctx, &doubletick.GetCustomerRequest{PhoneNumber: "15550000000"})
	require.ErrorIs(t, err, doubletick.ErrNotFound)

	removed, _, err := c.Customers.RemoveTags(ctx, &doubletick.RemoveCustomerTagsRequest{Phone: asha, Tags: []string{"vip", "ghost"}, CustomFields: []string{"plan"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"vip"}, removed.Tags.Removed)
	assert.Equal(t, []string{"plan"}, removed.CustomFields.Removed)
	require.Len(t, removed.Tags.Errored, 1)
	_, _, err = c.Customers.RemoveTags(ctx, &doubletick.RemoveCustomerTagsRequest{Phone: "15550000000", Tags: []string{"x"}})
	require.Error(t, err)

	agent, _, err := c.Customers.Assign(ctx, &doubletick.AssignCustomerRequest{CustomerPhoneNumber: asha, AssignedUserPhoneNumber: "919000000001", WABANumber: waba})
	require.NoError(t, err)
	assert.Equal(t, "Asha Owner", agent.Name)
	_, _, err = c.Customers.Assign(ctx, &doubletick.AssignCustomerRequest{CustomerPhoneNumber: asha, AssignedUserPhoneNumber: "15550009999", WABANumber: waba})
	require.Error(t, err, "422")
	_, _, err = c.Customers.Assign(ctx, &doubletick.AssignCustomerRequest{CustomerPhoneNumber: asha, AssignedUserPhoneNumber: "919000000001", WABANumber: "919999999999"})
	require.ErrorIs(t, err, doubletick.ErrNotFound)

	_, err = c.Customers.CreateBlock(ctx, asha)
	require.NoError(t, err)
	_, err = c.Customers.DeleteBlock(ctx, asha)
	require.NoError(t, err)
	_, err = c.Customers.CreateBlock(ctx, "15550000000")
	require.ErrorIs(t, err, doubletick.ErrNotFound)
	_, err = c.Customers.DeleteBlock(ctx, "15550000000")
	require.ErrorIs(t, err, doubletick.ErrNotFound)

	del, _, err := c.Customers.Delete(ctx, &doubletick.DeleteCustomersRequest{PhoneNumbers: []string{"919800000001", "15550000000"}})
	require.NoError(t, err, "some deleted: the misses are a result, not an error")
	assert.Equal(t, []string{"15550000000"}, del.NotFoundPhoneNumbers)
	_, _, err = c.Customers.Delete(ctx, &doubletick.DeleteCustomersRequest{PhoneNumbers: []string{"919800000001"}})
	require.ErrorIs(t, err, doubletick.ErrNotFound, "none matched: 404")

	seen := checkExchanges(t, rec.exchanges)
	want := map[string][]int{
		doubletick.RouteGetCustomer: {200, 404}, doubletick.RouteAssignCustomerTags: {201, 400}, doubletick.RouteRemoveCustomerTags: {201, 400},
		doubletick.RouteDeleteCustomers: {201, 404}, doubletick.RouteAssignCustomer: {201, 404, 422},
		doubletick.RouteCreateCustomerBlock: {201, 404}, doubletick.RouteDeleteCustomerBlock: {201, 404},
	}
	assert.ElementsMatch(t, customerRoutes, assertStatuses(t, seen, want))
}

// Each page's 401 has its own shape: the bare one ({statusCode, message
// "Unauthorized"}) on the template, customer, team, role, note and chat-list
// pages; NestJS's full one, with error, on the channel, /customer/assign
// and team-member pages.
func TestContractUnauthorizedShapes(t *testing.T) {
	fake := doubleticktest.NewServer()
	defer fake.Close()
	c, err := doubletick.NewClient("key_not_the_fakes", doubletick.WithBaseURL(fake.URL), doubletick.WithoutRateLimit(), doubletick.WithMaxAttempts(1))
	require.NoError(t, err)
	ctx := context.Background()
	calls := map[string]func() error{
		"templates (bare)": func() error { _, _, err := c.Templates.List(ctx, nil); return err },
		"customer (bare)": func() error {
			_, _, err := c.Customers.Get(ctx, &doubletick.GetCustomerRequest{PhoneNumber: "919876543210"})
			return err
		},
		"team (bare)": func() error { _, _, err := c.Team.List(ctx); return err },
		"notes (bare)": func() error {
			_, _, err := c.Notes.Get(ctx, "n")
			return err
		},
		"chats (bare)":    func() error { _, _, err := c.Chats.List(ctx, nil); return err },
		"channels (full)": func() error { _, _, err := c.Channels.List(ctx, nil); return err },
		"customer assign (full)": func() error {
			_, _, err := c.Customers.Assign(ctx, &doubletick.AssignCustomerRequest{CustomerPhoneNumber: "919876543210",
				AssignedUserPhoneNumber: "919000000001", WABANumber: "911111111111"})
			return err
		},
		"team-member assign (full)": func() error {
			_, _, err := c.Chats.Assign(ctx, &doubletick.AssignChatRequest{ChatRef: doubletick.ChatRef{GroupID: "g"}, AssignedUserPhoneNumber: "919000000001"})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		require.ErrorIs(t, err, doubletick.ErrUnauthorized, name)
		var apiErr *doubletick.APIError
		require.ErrorAs(t, err, &apiErr)
		if strings.HasSuffix(name, "(bare)") {
			assert.JSONEq(t, `{"statusCode":401,"message":"Unauthorized"}`, string(apiErr.Body), name)
		} else {
			assert.JSONEq(t, `{"statusCode":401,"message":"Invalid public api key","error":"Unauthorized"}`, string(apiErr.Body), name)
		}
	}
}
