package doubleticktest

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// The customer API (get-customer-details, customer-assign-tags-custom-fields,
// customer-remove-tags-custom-fields, delete-customer,
// assign-team-member-to-customer, block-unblock-customer,
// unblock-unblock-customer under https://docs.doubletick.io/reference/),
// answered as its pages document it, each with its own error shapes.
//
// The fake's customers are the people who have been in its groups, and
// those its assign-tags call created (it creates or updates). A deletion
// is queued, as DoubleTick answers, and done at once.

// customer is a customer record the fake holds.
type customer struct {
	id, name, phone string // phone: digits
	tags            []string
	fields          map[string]string
	optIn           bool
	blocked         bool
}

// Customer is a customer as the fake holds it.
type Customer struct {
	ID, Name, Phone string
	Tags            []string
	CustomFields    map[string]string
	OptIn, Blocked  bool
}

// Customers returns the fake's customer records, by phone.
func (s *Server) Customers() []Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncCustomers()
	out := []Customer{}
	for _, c := range s.customers {
		out = append(out, Customer{ID: c.id, Name: c.name, Phone: c.phone, Tags: slices.Clone(c.tags), CustomFields: maps.Clone(c.fields),
			OptIn: c.optIn, Blocked: c.blocked})
	}
	slices.SortFunc(out, func(a, b Customer) int { return strings.Compare(a.Phone, b.Phone) })
	return out
}

// syncCustomers gives every group member not deleted a record. The caller
// holds s.mu.
func (s *Server) syncCustomers() {
	for _, g := range s.groups {
		for _, m := range g.members {
			digits := phoneDigits(m.phone)
			if s.customers[digits] == nil && !s.erased[digits] {
				s.customers[digits] = &customer{id: "customer_" + digits, name: m.name, phone: digits, fields: map[string]string{}}
			}
		}
	}
}

// customerByPhone returns a customer's record, or nil. The caller holds
// s.mu.
func (s *Server) customerByPhone(phone string) *customer {
	s.syncCustomers()
	return s.customers[phoneDigits(phone)]
}

// handleGetCustomer answers get-customer-details.
func (s *Server) handleGetCustomer(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	phone, id, waba := q.Get("phoneNumber"), q.Get("customerId"), phoneDigits(q.Get("wabaNumber"))
	if phone == "" && id == "" {
		writeInvalidAs(w, "Not Found", "phoneNumber must be a string")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.customerByPhone(phone)
	if phone == "" {
		for _, x := range s.customers {
			if x.id == id {
				c = x
			}
		}
	}
	if c == nil {
		writeBareError(w, http.StatusNotFound, "NotFound")
		return
	}
	fields := []map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(c.fields)) {
		fields = append(fields, map[string]any{"id": "cf_" + name, "name": name, "value": c.fields[name], "type": "text"})
	}
	out := map[string]any{"id": c.id, "name": c.name, "phone": "+" + c.phone, "customFields": fields,
		"assignedToUser": "", "assignedUserNumber": ""}
	if waba != "" {
		out["tags"] = slices.Clone(c.tags)
		if a := s.assigned[customerChat(waba, c.phone)]; a != "" {
			out["assignedUserNumber"] = a
			if m := s.teamMember(a); m != nil {
				out["assignedToUser"] = m.Name
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"customer": out})
}

// handleAssignCustomerTags answers customer-assign-tags-custom-fields:
// create or update, 201 with what was added and the customer's ID.
func (s *Server) handleAssignCustomerTags(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	c := checks{b: b}
	phone := phoneDigits(c.str("phone", true, 0))
	name, agent := c.str("name", false, 0), phoneDigits(c.str("agentPhone", false, 0))
	waba := phoneDigits(c.str("wabaNumber", false, 0))
	tags, _ := c.strs("tags", 0, 0)
	var fields []struct {
		Name  *string `json:"name"`
		Value *string `json:"value"`
	}
	if raw, ok := b["customFields"]; ok && json.Unmarshal(raw, &fields) != nil {
		c.msgs = append(c.msgs, "customFields must be an array")
	}
	for _, f := range fields {
		if f.Name == nil || f.Value == nil {
			c.msgs = append(c.msgs, "customFields.name and customFields.value must be strings")
		}
	}
	var optIn *bool
	if raw, ok := b["optIn"]; ok && json.Unmarshal(raw, &optIn) != nil {
		c.msgs = append(c.msgs, "optIn must be a boolean value")
	}
	if !c.okIncorrectPayload(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if agent != "" && s.teamMember(agent) == nil {
		writeError(w, http.StatusBadRequest, "agentPhone must be the phone of a team member")
		return
	}
	cust := s.customerByPhone(phone)
	if cust == nil {
		cust = &customer{id: "customer_" + phone, phone: phone, fields: map[string]string{}}
		s.customers[phone] = cust
		delete(s.erased, phone)
	}
	if name != "" {
		cust.name = name
	}
	if optIn != nil {
		cust.optIn = *optIn
	}
	added := []string{}
	for _, t := range tags {
		if !slices.Contains(cust.tags, t) {
			cust.tags = append(cust.tags, t)
		}
		added = append(added, t)
	}
	fieldsAdded := []string{}
	for _, f := range fields {
		cust.fields[*f.Name] = *f.Value
		fieldsAdded = append(fieldsAdded, *f.Name)
	}
	if agent != "" {
		if waba == "" && len(s.channels) > 0 {
			waba = s.channels[0].waba
		}
		s.assigned[customerChat(waba, phone)] = agent
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"tags":         map[string]any{"added": added, "errored": []any{}},
		"customFields": map[string]any{"added": fieldsAdded, "errored": []any{}},
		"customerId":   cust.id,
	})
}

// handleRemoveCustomerTags answers customer-remove-tags-custom-fields with
// the examples' "removed" (the schema says "added"); a tag or field the
// customer does not have is errored.
func (s *Server) handleRemoveCustomerTags(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	c := checks{b: b}
	phone := c.str("phone", true, 0)
	tags, _ := c.strs("tags", 0, 0)
	fields, _ := c.strs("customFields", 0, 0)
	if !c.okIncorrectPayload(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cust := s.customerByPhone(phone)
	if cust == nil {
		writeError(w, http.StatusBadRequest, "Customer with phone number "+phone+" does not exist")
		return
	}
	removed, tagErrs := []string{}, []map[string]string{}
	for _, t := range tags {
		if i := slices.Index(cust.tags, t); i >= 0 {
			cust.tags = slices.Delete(cust.tags, i, i+1)
			removed = append(removed, t)
		} else {
			tagErrs = append(tagErrs, map[string]string{"tag": t, "error": "Tag is not assigned to the customer"})
		}
	}
	cleared, fieldErrs := []string{}, []map[string]string{}
	for _, f := range fields {
		if _, ok := cust.fields[f]; ok {
			delete(cust.fields, f)
			cleared = append(cleared, f)
		} else {
			fieldErrs = append(fieldErrs, map[string]string{"customField": f, "error": "Custom field is not set on the customer"})
		}
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"tags":         map[string]any{"removed": removed, "errored": tagErrs},
		"customFields": map[string]any{"removed": cleared, "errored": fieldErrs},
	})
}

// handleDeleteCustomers answers delete-customer: 201 queued, with the
// phones that matched no one; 404 without statusCode when none matched.
func (s *Server) handleDeleteCustomers(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	c := checks{b: b}
	phones, given := c.strs("phoneNumbers", 10, 0)
	switch {
	case !given || len(phones) == 0:
		c.msgs = append(c.msgs, "phoneNumbers should not be empty")
	case len(phones) > 10:
		// strs reported it
	}
	for _, p := range phones {
		if p = phoneDigits(p); !isDigits(p) || len(p) < 7 || len(p) > 15 {
			c.msgs = append(c.msgs, "each value in phoneNumbers must be a valid phone number")
			break
		}
	}
	if !c.okIncorrectPayload(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	notFound := []string{}
	for _, p := range phones {
		digits := phoneDigits(p)
		if s.customerByPhone(digits) == nil {
			notFound = append(notFound, p)
			continue
		}
		delete(s.customers, digits)
		s.erased[digits] = true
	}
	if len(notFound) == len(phones) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "No matching customers found", "notFoundPhoneNumbers": notFound})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"message": "Your request has been queued for deletion.", "notFoundPhoneNumbers": notFound})
}

// handleAssignCustomer answers assign-team-member-to-customer: 201 with the
// agent, as its guide shows it.
func (s *Server) handleAssignCustomer(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	c := checks{b: b}
	values := map[string]string{}
	for _, name := range []string{"customerPhoneNumber", "assignedUserPhoneNumber", "wabaNumber"} {
		v := c.str(name, true, 0)
		if n := len([]rune(v)); v != "" && (n < 7 || n > 15) {
			c.msgs = append(c.msgs, name+" must be longer than or equal to 7 and shorter than or equal to 15 characters")
		}
		values[name] = phoneDigits(v)
	}
	if !c.ok(w) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	waba, agent := values["wabaNumber"], values["assignedUserPhoneNumber"]
	m := s.teamMember(agent)
	switch {
	case s.channelOf(waba) == nil:
		writeError(w, http.StatusNotFound, "wabaNumber not found")
		return
	case m == nil:
		writeError(w, http.StatusUnprocessableEntity, "User is not a member of the team")
		return
	case s.customerByPhone(values["customerPhoneNumber"]) == nil:
		writeError(w, http.StatusNotFound, "customerPhoneNumber not found")
		return
	}
	s.assigned[customerChat(waba, values["customerPhoneNumber"])] = agent
	writeJSON(w, http.StatusCreated, map[string]any{"name": m.Name, "email": m.Email, "phone": m.Phone})
}

// handleBlock answers block-unblock-customer (blocked true) and
// unblock-unblock-customer: 201 with an empty object.
func (s *Server) handleBlock(blocked bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, ok := decodeRequest(w, r)
		if !ok {
			return
		}
		c := checks{b: b}
		phone := c.str("phone", true, 0)
		if n := len([]rune(phone)); phone != "" && (n < 10 || n > 15) {
			c.msgs = append(c.msgs, "phone must be longer than or equal to 10 and shorter than or equal to 15 characters")
		}
		if len(c.msgs) > 0 {
			writeInvalidAs(w, "Not Found", c.msgs...)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		cust := s.customerByPhone(phone)
		if cust == nil {
			writeBareError(w, http.StatusNotFound, "Invalid Customer")
			return
		}
		cust.blocked = blocked
		writeJSON(w, http.StatusCreated, map[string]any{})
	}
}
