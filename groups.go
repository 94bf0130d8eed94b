package doubletick

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"time"
)

// Route keys of the group API: the method, a space, and the path relative to
// the base URL. The Client's [Limiter] keeps one bucket per key, and
// [WithPathRateLimit] takes them.
const (
	RouteCreateGroup       = "POST /whatsapp/wa-group/create"
	RouteGetGroup          = "GET /whatsapp/wa-group/info"
	RouteUpdateGroup       = "POST /whatsapp/wa-group/settings"
	RouteListGroups        = "GET /whatsapp/wa-group/list"
	RouteDeleteGroup       = "DELETE /whatsapp/wa-group"
	RouteListParticipants  = "GET /whatsapp/wa-group/participants"
	RouteRemoveParticipant = "DELETE /whatsapp/wa-group/participants"
	RouteGetGroupAISummary = "GET /channel/wa-group/ai-summary"
	RouteAssignGroupTags   = "POST /wa-group/assign-tags-custom-fields"
	RouteRemoveGroupTags   = "POST /wa-group/remove-tags-custom-fields"
)

// The endpoints, split from their route keys once.
var (
	epCreateGroup       = newEndpoint(RouteCreateGroup)
	epGetGroup          = newEndpoint(RouteGetGroup)
	epUpdateGroup       = newEndpoint(RouteUpdateGroup)
	epListGroups        = newEndpoint(RouteListGroups)
	epDeleteGroup       = newEndpoint(RouteDeleteGroup)
	epListParticipants  = newEndpoint(RouteListParticipants)
	epRemoveParticipant = newEndpoint(RouteRemoveParticipant)
	epGetGroupAISummary = newEndpoint(RouteGetGroupAISummary)
	epAssignGroupTags   = newEndpoint(RouteAssignGroupTags)
	epRemoveGroupTags   = newEndpoint(RouteRemoveGroupTags)
)

// Documented limits of the group fields, in characters.
const (
	MaxSubjectLength     = 128
	MaxDescriptionLength = 2048
	MaxGroupIDLength     = 50
)

// GroupsService creates and manages WhatsApp groups. Use it through
// [Client.Groups].
type GroupsService struct {
	client *Client
}

// JoinApprovalMode says who approves requests to join a group.
type JoinApprovalMode string

// The join approval modes DoubleTick accepts. Leaving the mode empty applies
// the integration's default.
const (
	// JoinAutoApprove approves join requests automatically.
	JoinAutoApprove JoinApprovalMode = "auto_approve"
	// JoinApprovalRequired makes group admins approve each join request.
	JoinApprovalRequired JoinApprovalMode = "approval_required"
)

// CreateGroupRequest is the body of [GroupsService.Create].
type CreateGroupRequest struct {
	// WABANumber is the WhatsApp Business number the group is created on:
	// digits with the country code, with or without a leading "+"
	// ("911111111111" as the group API's samples write it, or
	// "+911111111111" as the webhook API's do); it is sent without the "+".
	// Required.
	WABANumber string `json:"wabaNumber"`
	// Subject is the group's name, at most 128 characters. Required.
	Subject string `json:"subject"`
	// Description is at most 2048 characters.
	Description string `json:"description,omitempty"`
	// JoinApprovalMode is JoinAutoApprove, JoinApprovalRequired, or empty
	// for the integration's default.
	JoinApprovalMode JoinApprovalMode `json:"joinApprovalMode,omitempty"`
	// GroupID is your own ID for the group, at most 50 characters. When
	// empty, DoubleTick generates one and returns it. It is the groupId that
	// the group's webhooks carry.
	GroupID string `json:"groupId,omitempty"`
}

// Validate checks r against the documented rules and returns a
// *[ValidationError] listing every violation, or nil. [GroupsService.Create]
// calls it before sending anything.
func (r *CreateGroupRequest) Validate() error { return validate("CreateGroupRequest", r.check) }

func (r *CreateGroupRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	v.wabaNumber("wabaNumber", r.WABANumber)
	v.text("subject", r.Subject, true, MaxSubjectLength)
	v.text("description", r.Description, false, MaxDescriptionLength)
	switch r.JoinApprovalMode {
	case "", JoinAutoApprove, JoinApprovalRequired:
	default:
		v.add("joinApprovalMode", RuleOneOf, "must be %q or %q, got %q", JoinAutoApprove, JoinApprovalRequired, r.JoinApprovalMode)
	}
	v.text("groupId", r.GroupID, false, MaxGroupIDLength)
}

// CreateGroupResult is DoubleTick's answer to [GroupsService.Create].
type CreateGroupResult struct {
	// Success is true when creation was initiated.
	Success bool `json:"success"`
	// GroupID is the ID you sent, or the one DoubleTick generated.
	GroupID string `json:"groupId"`
	// WABANumber is the WhatsApp Business number the group belongs to.
	WABANumber string `json:"wabaNumber,omitempty"`
}

func (r *CreateGroupResult) succeeded() bool { return r.Success }

// Create asks DoubleTick to create a WhatsApp group.
//
// Creation is asynchronous: a nil error means creation was initiated, not
// that the group exists. The group exists once the GROUP_CREATED webhook
// arrives; until then the other group endpoints answer 404 (group creation is
// still pending), and a failed creation sends no webhook at all.
//
// req is validated first; a *[ValidationError] means nothing was sent.
//
// Creating is not idempotent: DoubleTick documents no idempotency key and no
// rule for a repeated groupId, so a Create whose outcome is unknown (a
// timeout after the request was sent) may have created the group. Set
// GroupID yourself, so that you can look the group up before trying again.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/createwhatsappgroup
func (s *GroupsService) Create(ctx context.Context, req *CreateGroupRequest) (*CreateGroupResult, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("GroupsService.Create"); err != nil {
		return nil, nil, err
	}
	body := req
	if digits := wabaDigits(req.WABANumber); digits != req.WABANumber {
		cp := *req // the caller's request is left as it was
		cp.WABANumber = digits
		body = &cp
	}
	return call[CreateGroupResult](ctx, s.client, epCreateGroup, nil, body)
}

// Group is a WhatsApp group as the API describes it.
type Group struct {
	GroupID string `json:"groupId"`
	// Subject is the group's name.
	Subject     string `json:"subject"`
	Description string `json:"description"`
	// TotalParticipantCount is the number of current participants.
	TotalParticipantCount int `json:"totalParticipantCount"`
	// InviteLink lets anyone join: treat it as a credential. "" when the
	// API has none.
	InviteLink string `json:"inviteLink"`
	// Status is e.g. "ACTIVE".
	Status string `json:"status"`
	// CreatedAt is when the group was created.
	CreatedAt time.Time `json:"groupCreatedAt,omitzero"`
}

// groupQuery is the query of the endpoints that name one group.
type groupQuery struct {
	GroupID string `url:"groupId"`
}

// Get returns a group.
//
// A group whose creation is still pending answers 404: the error matches
// [ErrNotFound] and [ErrGroupPending].
//
// DoubleTick API docs: https://docs.doubletick.io/reference/getwhatsappgroupinfo
func (s *GroupsService) Get(ctx context.Context, groupID string) (*Group, *Response, error) {
	var v validator
	v.id("groupId", groupID)
	if err := v.err("GroupsService.Get"); err != nil {
		return nil, nil, err
	}
	return call[Group](ctx, s.client, epGetGroup, groupQuery{groupID}, nil)
}

// UpdateGroupRequest is the body of [GroupsService.Update]. Empty fields are
// left as they are. The join approval mode cannot be changed.
type UpdateGroupRequest struct {
	// WABANumber is the WhatsApp Business number the group belongs to.
	// Required.
	WABANumber string `json:"wabaNumber"`
	// Subject is the new name, at most 128 characters.
	Subject string `json:"subject,omitempty"`
	// Description is the new description, at most 2048 characters.
	Description string `json:"description,omitempty"`
	// NewGroupID renames the group's ID, at most 50 characters.
	NewGroupID string `json:"groupId,omitempty"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *UpdateGroupRequest) Validate() error { return validate("UpdateGroupRequest", r.check) }

func (r *UpdateGroupRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	v.wabaNumber("wabaNumber", r.WABANumber)
	v.text("subject", r.Subject, false, MaxSubjectLength)
	v.text("description", r.Description, false, MaxDescriptionLength)
	v.text("groupId", r.NewGroupID, false, MaxGroupIDLength)
}

// successFlag is the body of the endpoints that answer {"success": true}.
type successFlag struct {
	Success bool `json:"success"`
}

func (r *successFlag) succeeded() bool { return r.Success }

// Update changes a group's subject, description or ID.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/updatewhatsappgroupsettings
func (s *GroupsService) Update(ctx context.Context, groupID string, req *UpdateGroupRequest) (*Response, error) {
	var v validator
	v.id("query.groupId", groupID) // the body's groupId is the new ID
	req.check(&v)
	if err := v.err("GroupsService.Update"); err != nil {
		return nil, err
	}
	body := *req
	body.WABANumber = wabaDigits(req.WABANumber)
	_, resp, err := call[successFlag](ctx, s.client, epUpdateGroup, groupQuery{groupID}, &body)
	return resp, err
}

// Delete deletes a group. No webhook reports a deletion.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/deletewhatsappgroup
func (s *GroupsService) Delete(ctx context.Context, groupID string) (*Response, error) {
	var v validator
	v.id("groupId", groupID)
	if err := v.err("GroupsService.Delete"); err != nil {
		return nil, err
	}
	_, resp, err := call[successFlag](ctx, s.client, epDeleteGroup, groupQuery{groupID}, nil)
	return resp, err
}

// ListGroupsOptions selects a page of [GroupsService.List]. The zero value
// asks for the first page.
type ListGroupsOptions struct {
	// LastGroupID is the cursor of the previous page.
	LastGroupID string `url:"lastGroupId,omitempty"`
	// OlderThan returns only groups created before it. It is sent as RFC 3339
	// with all the precision it has, so that a page boundary taken from
	// GroupPage.OlderThan is not moved by rounding.
	OlderThan time.Time `url:"olderThanTimestamp,omitempty" layout:"2006-01-02T15:04:05.999999999Z07:00"`
}

// GroupPage is one page of groups.
type GroupPage struct {
	Groups []Group `json:"groups"`
	// HasMore reports whether another page follows.
	HasMore bool `json:"hasMore"`
	// LastGroupID and OlderThan are the cursors of the next page.
	LastGroupID string    `json:"lastGroupId"`
	OlderThan   time.Time `json:"olderThanTimestamp,omitzero"`
}

// next returns the options of the page after p.
func (p *GroupPage) next() ListGroupsOptions {
	return ListGroupsOptions{LastGroupID: p.LastGroupID, OlderThan: p.OlderThan}
}

// List returns one page of the groups of a WhatsApp Business number. Use
// [GroupsService.All] to go through every page.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/listwhatsappgroups
func (s *GroupsService) List(ctx context.Context, wabaNumber string, opts *ListGroupsOptions) (*GroupPage, *Response, error) {
	var v validator
	v.wabaNumber("wabaNumber", wabaNumber)
	if err := v.err("GroupsService.List"); err != nil {
		return nil, nil, err
	}
	if opts == nil {
		opts = &ListGroupsOptions{}
	}
	return call[GroupPage](ctx, s.client, epListGroups, struct {
		WABANumber string `url:"wabaNumber"`
		ListGroupsOptions
	}{wabaDigits(wabaNumber), *opts}, nil)
}

// All returns every group of a WhatsApp Business number from opts on,
// fetching pages as the loop asks for them; each page waits for the route's
// limiter like any call. Stop early by breaking out of the loop. An error
// ends the sequence: it is yielded with a nil group.
//
//	for g, err := range c.Groups.All(ctx, "911111111111", nil) {
//		if err != nil { return err }
//		fmt.Println(g.Subject)
//	}
//
// DoubleTick API docs: https://docs.doubletick.io/reference/listwhatsappgroups
func (s *GroupsService) All(ctx context.Context, wabaNumber string, opts *ListGroupsOptions) iter.Seq2[*Group, error] {
	return paginate(ctx, RouteListGroups, opts, func(o *ListGroupsOptions) ([]Group, bool, ListGroupsOptions, error) {
		page, _, err := s.List(ctx, wabaNumber, o)
		if err != nil {
			return nil, false, ListGroupsOptions{}, err
		}
		return page.Groups, page.HasMore, page.next(), nil
	})
}

// GroupAISummary is an AI summary of a group's conversation over a range of
// days.
type GroupAISummary struct {
	StartDate         time.Time          `json:"startDate,omitzero"`
	EndDate           time.Time          `json:"endDate,omitzero"`
	ChatType          string             `json:"chatType"`
	GroupName         string             `json:"groupName"`
	MemberCount       int                `json:"memberCount"`
	ChatMessagesCount int                `json:"chatMessagesCount"`
	CallsCount        int                `json:"callsCount"`
	Members           []AISummaryMember  `json:"members"`
	Summaries         []AISummarySection `json:"summaries"`
}

// AISummaryMember is a member of the group an AI summary covers.
type AISummaryMember struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// CustomerNumber comes with or without "+".
	CustomerNumber string `json:"customerNumber"`
}

// AISummarySection is one titled part of an AI summary.
type AISummarySection struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

// UnmarshalJSON accepts the dates as date-times (as documented) or as plain
// dates (as they are sent in the query).
func (s *GroupAISummary) UnmarshalJSON(b []byte) error {
	type plain GroupAISummary
	var v struct {
		plain
		StartDate flexTime `json:"startDate"`
		EndDate   flexTime `json:"endDate"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = GroupAISummary(v.plain)
	s.StartDate, s.EndDate = time.Time(v.StartDate), time.Time(v.EndDate)
	return nil
}

// flexTime decodes an RFC 3339 date-time or a bare date.
type flexTime time.Time

func (t *flexTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil || s == "" {
		return err
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if v, err := time.Parse(layout, s); err == nil {
			*t = flexTime(v)
			return nil
		}
	}
	return fmt.Errorf("%q is neither a date-time nor a date", s)
}

// MaxAISummaryDays is the longest range [GroupsService.GetAISummary] accepts, in
// days, both ends included: Monday to Sunday.
const MaxAISummaryDays = 7

// GetAISummaryRequest is the range of days of [GroupsService.GetAISummary]:
// from the day of Start to the day of End, both included, in UTC, at most
// [MaxAISummaryDays].
type GetAISummaryRequest struct {
	// Start is the first day. Required.
	Start time.Time
	// End is the last day, on or after Start. Required.
	End time.Time
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *GetAISummaryRequest) Validate() error { return validate("GetAISummaryRequest", r.check) }

func (r *GetAISummaryRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	startDay, endDay := utcDay(r.Start), utcDay(r.End)
	switch {
	case r.Start.IsZero():
		v.add("startDate", RuleRequired, "is required")
	case r.End.IsZero():
		v.add("endDate", RuleRequired, "is required")
	case endDay.Before(startDay):
		v.add("endDate", RuleOneOf, "must be on or after startDate (%s), got %s", startDay.Format(time.DateOnly), endDay.Format(time.DateOnly))
	case endDay.Sub(startDay) > (MaxAISummaryDays-1)*24*time.Hour:
		v.add("endDate", RuleLength, "must be at most %d days from startDate, both included; got %d", MaxAISummaryDays, int(endDay.Sub(startDay).Hours()/24)+1)
	}
}

// GetAISummary returns an AI summary of a group's conversation over a range
// of days. Each summary DoubleTick generates costs an AI credit (422,
// [ErrUnprocessable], when none are left); asking again for the same range
// returns the stored one at no cost.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/getwhatsappgroupaisummary
func (s *GroupsService) GetAISummary(ctx context.Context, groupID string, req *GetAISummaryRequest) (*GroupAISummary, *Response, error) {
	var v validator
	v.id("groupId", groupID)
	req.check(&v)
	if err := v.err("GroupsService.GetAISummary"); err != nil {
		return nil, nil, err
	}
	return call[GroupAISummary](ctx, s.client, epGetGroupAISummary, struct {
		GroupID   string    `url:"groupId"`
		StartDate time.Time `url:"startDate" layout:"2006-01-02"`
		EndDate   time.Time `url:"endDate" layout:"2006-01-02"`
	}{groupID, utcDay(req.Start), utcDay(req.End)}, nil)
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// CustomField is a custom field to set on a group's chat.
type CustomField struct {
	Name   string   `json:"name"`
	Value  string   `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`
}

// AssignTagsRequest is the body of [GroupsService.AssignTags]: at least one
// tag or custom field.
type AssignTagsRequest struct {
	// GroupID is the group's ID. Required.
	GroupID      string        `json:"groupId"`
	Tags         []string      `json:"tags,omitempty"`
	CustomFields []CustomField `json:"customFields,omitempty"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *AssignTagsRequest) Validate() error { return validate("AssignTagsRequest", r.check) }

func (r *AssignTagsRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	names := make([]string, len(r.CustomFields))
	for i, f := range r.CustomFields {
		names[i] = f.Name
	}
	checkTags(v, r.GroupID, r.Tags, names)
}

// RemoveTagsRequest is the body of [GroupsService.RemoveTags].
type RemoveTagsRequest struct {
	// GroupID is the group's ID. Required.
	GroupID string   `json:"groupId"`
	Tags    []string `json:"tags,omitempty"`
	// CustomFields names the custom fields to clear.
	CustomFields []string `json:"customFields,omitempty"`
	// ShouldCreateChatLog writes the change into the chat's log; DoubleTick
	// does so when it is nil.
	ShouldCreateChatLog *bool `json:"shouldCreateChatLog,omitempty"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *RemoveTagsRequest) Validate() error { return validate("RemoveTagsRequest", r.check) }

func (r *RemoveTagsRequest) check(v *validator) {
	if v.present(r == nil) {
		checkTags(v, r.GroupID, r.Tags, r.CustomFields)
	}
}

// TagsResult says, per tag and custom field, what [GroupsService.AssignTags]
// added or [GroupsService.RemoveTags] removed, and what failed.
type TagsResult struct {
	Tags         TagChanges         `json:"tags"`
	CustomFields CustomFieldChanges `json:"customFields"`
}

// TagChanges lists the tags a tag request added or removed, and those it
// could not change.
type TagChanges struct {
	Added   []string   `json:"added"`
	Removed []string   `json:"removed"`
	Errored []TagError `json:"errored"`
}

// TagError is a tag that could not be added or removed, and why.
type TagError struct {
	Tag   string `json:"tag"`
	Error string `json:"error"`
}

// CustomFieldChanges lists the custom fields a tag request set or cleared,
// and those it could not change.
type CustomFieldChanges struct {
	Added   []string           `json:"added"`
	Removed []string           `json:"removed"`
	Errored []CustomFieldError `json:"errored"`
}

// CustomFieldError is a custom field that could not be set or cleared, and
// why.
type CustomFieldError struct {
	CustomField string `json:"customField"`
	Error       string `json:"error"`
}

// checkTags checks the fields the two tag requests share.
func checkTags(v *validator, groupID string, tags []string, fieldNames []string) {
	v.id("groupId", groupID)
	if len(tags) == 0 && len(fieldNames) == 0 {
		v.add("tags", RuleRequired, "give at least one tag or custom field")
	}
	for i, t := range tags {
		v.text(fmt.Sprintf("tags[%d]", i), t, true, math.MaxInt)
	}
	for i, n := range fieldNames {
		v.text(fmt.Sprintf("customFields[%d].name", i), n, true, math.MaxInt)
	}
}

// AssignTags adds tags and sets custom fields on a group's chat. Items that
// fail are listed in the result, not returned as an error.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/wa-group-assign-tags-custom-fields
func (s *GroupsService) AssignTags(ctx context.Context, req *AssignTagsRequest) (*TagsResult, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("GroupsService.AssignTags"); err != nil {
		return nil, nil, err
	}
	return call[TagsResult](ctx, s.client, epAssignGroupTags, nil, req)
}

// RemoveTags removes tags and clears custom fields from a group's chat.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/wa-group-remove-tags-custom-fields
func (s *GroupsService) RemoveTags(ctx context.Context, req *RemoveTagsRequest) (*TagsResult, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("GroupsService.RemoveTags"); err != nil {
		return nil, nil, err
	}
	return call[TagsResult](ctx, s.client, epRemoveGroupTags, nil, req)
}
