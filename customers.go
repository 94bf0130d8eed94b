package doubletick

import (
	"context"
	"encoding/json"
	"strconv"
)

// Route keys of the customer API. A group's participant is a DoubleTick
// customer too: these act on their 1:1 record, never on a group.
const (
	RouteGetCustomer         = "GET /customer/details"
	RouteAssignCustomerTags  = "POST /customer/assign-tags-custom-fields"
	RouteRemoveCustomerTags  = "POST /customer/remove-tags-custom-fields"
	RouteDeleteCustomers     = "DELETE /customer"
	RouteAssignCustomer      = "POST /customer/assign"
	RouteCreateCustomerBlock = "POST /customer/block"
	RouteDeleteCustomerBlock = "POST /customer/unblock"
)

var (
	epGetCustomer         = newEndpoint(RouteGetCustomer)
	epAssignCustomerTags  = newEndpoint(RouteAssignCustomerTags)
	epRemoveCustomerTags  = newEndpoint(RouteRemoveCustomerTags)
	epDeleteCustomers     = newEndpoint(RouteDeleteCustomers)
	epAssignCustomer      = newEndpoint(RouteAssignCustomer)
	epCreateCustomerBlock = newEndpoint(RouteCreateCustomerBlock)
	epDeleteCustomerBlock = newEndpoint(RouteDeleteCustomerBlock)
)

// MaxDeleteCustomers is how many phones one [CustomersService.Delete]
// takes.
const MaxDeleteCustomers = 10

// CustomersService reads and writes DoubleTick's customer records: a group
// participant's CRM fields, tags, owner and erasure. Use it through
// [Client.Customers].
type CustomersService struct {
	client *Client
}

// Customer is a customer's record.
type Customer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
	// Tags come only when the request named a WABA number.
	Tags         []string              `json:"tags"`
	CustomFields []CustomerCustomField `json:"customFields"`
	// AssignedToUser and AssignedUserNumber are the agent who has the
	// customer's chat.
	AssignedToUser     string `json:"assignedToUser"`
	AssignedUserNumber string `json:"assignedUserNumber"`
}

// CustomerCustomField is a custom field of a customer.
type CustomerCustomField struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Value string `json:"value"`
	// Type is e.g. "date". The reference page spells the key "type " (with
	// a space), its guide "type": both are read.
	Type string `json:"type"`
}

// UnmarshalJSON reads the field's type under "type" or "type ".
func (f *CustomerCustomField) UnmarshalJSON(b []byte) error {
	type plain CustomerCustomField
	var v struct {
		plain
		Spaced string `json:"type "`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = CustomerCustomField(v.plain)
	if f.Type == "" {
		f.Type = v.Spaced
	}
	return nil
}

// GetCustomerRequest names the customer to read: by PhoneNumber or
// CustomerID.
type GetCustomerRequest struct {
	// PhoneNumber is digits with the country code, a leading "+" allowed.
	PhoneNumber string `url:"phoneNumber,omitempty"`
	CustomerID  string `url:"customerId,omitempty"`
	// WABANumber, when set, makes the answer carry the customer's tags on
	// that number.
	WABANumber string `url:"wabaNumber,omitempty"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *GetCustomerRequest) Validate() error { return validate("GetCustomerRequest", r.check) }

func (r *GetCustomerRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	switch {
	case r.PhoneNumber == "" && r.CustomerID == "":
		v.add("phoneNumber", RuleRequired, "give phoneNumber or customerId")
	case r.PhoneNumber != "":
		v.wabaNumber("phoneNumber", r.PhoneNumber)
	default:
		v.id("customerId", r.CustomerID)
	}
	if r.WABANumber != "" {
		v.wabaNumber("wabaNumber", r.WABANumber)
	}
}

// customerEnvelope is the answer of GET /customer/details.
type customerEnvelope struct {
	Customer Customer `json:"customer"`
}

// Get reads a customer. An unknown one is a 404: the error matches
// [ErrNotFound].
//
// DoubleTick API docs: https://docs.doubletick.io/reference/get-customer-details
func (s *CustomersService) Get(ctx context.Context, req *GetCustomerRequest) (*Customer, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("CustomersService.Get"); err != nil {
		return nil, nil, err
	}
	q := *req
	q.PhoneNumber, q.WABANumber = wabaDigits(q.PhoneNumber), wabaDigits(q.WABANumber)
	res, resp, err := call[customerEnvelope](ctx, s.client, epGetCustomer, &q, nil)
	if err != nil {
		return nil, resp, err
	}
	return &res.Customer, resp, nil
}

// CustomerField is a custom field to set on a customer.
type CustomerField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// AssignCustomerTagsRequest is the body of [CustomersService.AssignTags]:
// what to set on the customer whose phone it names. DoubleTick answers with
// a customer ID whether the customer existed or not: it is the CRM's
// create-or-update.
type AssignCustomerTagsRequest struct {
	// Phone is digits with the country code ("919876543210"). Required.
	Phone        string          `json:"phone"`
	Tags         []string        `json:"tags,omitempty"`
	CustomFields []CustomerField `json:"customFields,omitempty"`
	Name         string          `json:"name,omitempty"`
	// OptIn records the customer's consent to be messaged; nil leaves it.
	OptIn *bool `json:"optIn,omitempty"`
	// AgentPhone is the owning agent's phone.
	AgentPhone string `json:"agentPhone,omitempty"`
	// WABANumber is the number whose tags change.
	WABANumber string `json:"wabaNumber,omitempty"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *AssignCustomerTagsRequest) Validate() error {
	return validate("AssignCustomerTagsRequest", r.check)
}

func (r *AssignCustomerTagsRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	v.wabaNumber("phone", r.Phone)
	for i, t := range r.Tags {
		v.text("tags["+strconv.Itoa(i)+"]", t, true, 0)
	}
	for i, f := range r.CustomFields {
		v.text("customFields["+strconv.Itoa(i)+"].name", f.Name, true, 0)
	}
	if r.AgentPhone != "" {
		v.wabaNumber("agentPhone", r.AgentPhone)
	}
	if r.WABANumber != "" {
		v.wabaNumber("wabaNumber", r.WABANumber)
	}
}

// CustomerTagsResult is DoubleTick's answer to the customer tag calls: what
// was changed and what was not, with why. A change that failed for one tag
// or field is in Errored, not an error of the call.
type CustomerTagsResult struct {
	TagsResult
	// CustomerID is the customer's, created or not (AssignTags only).
	CustomerID string `json:"customerId,omitempty"`
}

// AssignTags sets tags, custom fields, the name, the opt-in and the owner
// of a customer.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/customer-assign-tags-custom-fields
func (s *CustomersService) AssignTags(ctx context.Context, req *AssignCustomerTagsRequest) (*CustomerTagsResult, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("CustomersService.AssignTags"); err != nil {
		return nil, nil, err
	}
	body := *req
	body.Phone, body.AgentPhone, body.WABANumber = wabaDigits(req.Phone), wabaDigits(req.AgentPhone), wabaDigits(req.WABANumber)
	return call[CustomerTagsResult](ctx, s.client, epAssignCustomerTags, nil, &body)
}

// RemoveCustomerTagsRequest is the body of [CustomersService.RemoveTags].
type RemoveCustomerTagsRequest struct {
	// Phone is digits with the country code. Required.
	Phone string   `json:"phone"`
	Tags  []string `json:"tags"`
	// CustomFields are the names of the fields to clear.
	CustomFields []string `json:"customFields"`
	WABANumber   string   `json:"wabaNumber,omitempty"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *RemoveCustomerTagsRequest) Validate() error {
	return validate("RemoveCustomerTagsRequest", r.check)
}

func (r *RemoveCustomerTagsRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	v.wabaNumber("phone", r.Phone)
	if len(r.Tags) == 0 && len(r.CustomFields) == 0 {
		v.add("tags", RuleRequired, "give a tag or a custom field to remove")
	}
	if r.WABANumber != "" {
		v.wabaNumber("wabaNumber", r.WABANumber)
	}
}

// RemoveTags removes tags from a customer and clears custom fields. The
// page's schema lists the removed items under "added" and its examples
// under "removed": both are read, into Removed.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/customer-remove-tags-custom-fields
func (s *CustomersService) RemoveTags(ctx context.Context, req *RemoveCustomerTagsRequest) (*CustomerTagsResult, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("CustomersService.RemoveTags"); err != nil {
		return nil, nil, err
	}
	// The schema requires both lists: an empty one is sent as [].
	body := *req
	body.Phone, body.WABANumber = wabaDigits(req.Phone), wabaDigits(req.WABANumber)
	if body.Tags == nil {
		body.Tags = []string{}
	}
	if body.CustomFields == nil {
		body.CustomFields = []string{}
	}
	res, resp, err := call[CustomerTagsResult](ctx, s.client, epRemoveCustomerTags, nil, &body)
	if err == nil {
		res.Tags.Removed = append(res.Tags.Removed, res.Tags.Added...)
		res.CustomFields.Removed = append(res.CustomFields.Removed, res.CustomFields.Added...)
		res.Tags.Added, res.CustomFields.Added = nil, nil
	}
	return res, resp, err
}

// DeleteCustomersRequest is the body of [CustomersService.Delete].
type DeleteCustomersRequest struct {
	// PhoneNumbers are 1 to 10 phones, digits with the country code.
	PhoneNumbers []string `json:"phoneNumbers"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *DeleteCustomersRequest) Validate() error { return validate("DeleteCustomersRequest", r.check) }

func (r *DeleteCustomersRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	switch n := len(r.PhoneNumbers); {
	case n == 0:
		v.add("phoneNumbers", RuleRequired, "give 1 to %d phone numbers", MaxDeleteCustomers)
	case n > MaxDeleteCustomers:
		v.add("phoneNumbers", RuleLength, "at most %d phone numbers a call, got %d", MaxDeleteCustomers, n)
	}
	for i, p := range r.PhoneNumbers {
		v.wabaNumber("phoneNumbers["+strconv.Itoa(i)+"]", p)
	}
}

// DeleteCustomersResult is DoubleTick's answer to a deletion it queued.
type DeleteCustomersResult struct {
	// Message says the deletion was queued: it is asynchronous, and no
	// completion is reported.
	Message string `json:"message"`
	// NotFoundPhoneNumbers are the phones that matched no customer; the
	// others were queued.
	NotFoundPhoneNumbers []string `json:"notFoundPhoneNumbers"`
}

// Delete queues the deletion of up to 10 customers, for an erasure
// request. It is asynchronous: a nil error means queued, not done. Phones
// that matched no customer are in the result when some did; when none did,
// DoubleTick answers 404 and the error matches [ErrNotFound].
//
// DoubleTick API docs: https://docs.doubletick.io/reference/delete-customer
func (s *CustomersService) Delete(ctx context.Context, req *DeleteCustomersRequest) (*DeleteCustomersResult, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("CustomersService.Delete"); err != nil {
		return nil, nil, err
	}
	body := DeleteCustomersRequest{PhoneNumbers: wabaDigitsAll(req.PhoneNumbers)}
	return call[DeleteCustomersResult](ctx, s.client, epDeleteCustomers, nil, &body)
}

// AssignCustomerRequest is the body of [CustomersService.Assign].
type AssignCustomerRequest struct {
	// CustomerPhoneNumber, AssignedUserPhoneNumber (the agent's) and
	// WABANumber are each 7 to 15 characters with the country code.
	// Required.
	CustomerPhoneNumber     string `json:"customerPhoneNumber"`
	AssignedUserPhoneNumber string `json:"assignedUserPhoneNumber"`
	WABANumber              string `json:"wabaNumber"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *AssignCustomerRequest) Validate() error { return validate("AssignCustomerRequest", r.check) }

func (r *AssignCustomerRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	v.agentPhone("customerPhoneNumber", r.CustomerPhoneNumber)
	v.agentPhone("assignedUserPhoneNumber", r.AssignedUserPhoneNumber)
	v.agentPhone("wabaNumber", r.WABANumber)
}

// Assign gives a customer (their 1:1 chat on a number) to an agent. An
// agent without access to the number is a 403; one not on the team, 422.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/assign-team-member-to-customer
func (s *CustomersService) Assign(ctx context.Context, req *AssignCustomerRequest) (*AssignedAgent, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("CustomersService.Assign"); err != nil {
		return nil, nil, err
	}
	body := AssignCustomerRequest{CustomerPhoneNumber: wabaDigits(req.CustomerPhoneNumber),
		AssignedUserPhoneNumber: wabaDigits(req.AssignedUserPhoneNumber), WABANumber: wabaDigits(req.WABANumber)}
	return call[AssignedAgent](ctx, s.client, epAssignCustomer, nil, &body)
}

// blockBody is the body of block and unblock: the phone, 10 to 15
// characters, "+" included as their examples write it.
type blockBody struct {
	Phone string `json:"phone"`
}

// CreateBlock blocks a customer (DoubleTick's block): their messages no
// longer reach the inbox. Whether it also affects their group messages is
// not documented. An unknown customer is a 404.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/block-unblock-customer
func (s *CustomersService) CreateBlock(ctx context.Context, phone string) (*Response, error) {
	return s.block(ctx, "CustomersService.CreateBlock", epCreateCustomerBlock, phone)
}

// DeleteBlock unblocks a customer (DoubleTick's unblock).
//
// DoubleTick API docs: https://docs.doubletick.io/reference/unblock-unblock-customer
func (s *CustomersService) DeleteBlock(ctx context.Context, phone string) (*Response, error) {
	return s.block(ctx, "CustomersService.DeleteBlock", epDeleteCustomerBlock, phone)
}

func (s *CustomersService) block(ctx context.Context, method string, ep endpoint, phone string) (*Response, error) {
	var v validator
	v.wabaNumber("phone", phone)
	if len(v.fields) == 0 {
		v.phone("phone", "+"+wabaDigits(phone))
	}
	if err := v.err(method); err != nil {
		return nil, err
	}
	_, resp, err := call[emptyObject](ctx, s.client, ep, nil, &blockBody{"+" + wabaDigits(phone)})
	return resp, err
}
