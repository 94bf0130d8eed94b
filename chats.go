package doubletick

import (
	"context"
	"encoding/json"
	"iter"
	"slices"
	"strconv"
	"strings"
)

// Route keys of the chat API.
const (
	RouteAssignChat           = "POST /team-member/assign"
	RouteRemoveChatAssignment = "POST /team-member/unassign"
	RouteListChats            = "GET /chats"
)

var (
	epAssignChat           = newEndpoint(RouteAssignChat)
	epRemoveChatAssignment = newEndpoint(RouteRemoveChatAssignment)
	epListChats            = newEndpoint(RouteListChats)
)

// Documented limits of the chat API.
const (
	MaxChatsPageSize = 100
	// MinAgentPhoneLength and MaxAgentPhoneLength bound the phone numbers
	// the assign calls take.
	MinAgentPhoneLength = 7
	MaxAgentPhoneLength = 15
)

// ChatsService assigns chats to team members and lists the inbox's chats:
// route a customer's group to their account manager. Use it through
// [Client.Chats].
type ChatsService struct {
	client *Client
}

// ChatRef names a chat to assign: a WhatsApp group by GroupID, or a
// customer's 1:1 chat by CustomerPhoneNumber and WABANumber (the number
// the chat is on), each digits with the country code.
type ChatRef struct {
	GroupID             string `json:"groupId,omitempty"`
	CustomerPhoneNumber string `json:"customerPhoneNumber,omitempty"`
	WABANumber          string `json:"wabaNumber,omitempty"`
}

func (c ChatRef) check(v *validator) {
	switch {
	case c.GroupID != "" && c.CustomerPhoneNumber != "":
		v.add("groupId", RuleOneOf, "give groupId or customerPhoneNumber, not both")
	case c.GroupID != "":
		v.id("groupId", c.GroupID)
		if c.WABANumber != "" {
			v.add("wabaNumber", RuleOneOf, "applies only with customerPhoneNumber: a groupId names the chat alone")
		}
	case c.CustomerPhoneNumber == "":
		v.add("groupId", RuleRequired, "give groupId or customerPhoneNumber")
	default:
		v.agentPhone("customerPhoneNumber", c.CustomerPhoneNumber)
		if c.WABANumber != "" {
			v.agentPhone("wabaNumber", c.WABANumber)
		}
	}
}

// agentPhone checks a phone number of the assign calls: 7 to 15
// characters.
func (v *validator) agentPhone(field, value string) {
	v.phoneLength(field, value, MinAgentPhoneLength, MaxAgentPhoneLength)
}

// AssignChatRequest is the body of [ChatsService.Assign].
type AssignChatRequest struct {
	ChatRef
	// AssignedUserPhoneNumber is the team member's phone (see
	// [TeamService.List]). Required.
	AssignedUserPhoneNumber string `json:"assignedUserPhoneNumber"`
	// Reassign assigns the chat even when someone has it already.
	Reassign bool `json:"reassign,omitempty"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *AssignChatRequest) Validate() error { return validate("AssignChatRequest", r.check) }

func (r *AssignChatRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	r.ChatRef.check(v)
	v.agentPhone("assignedUserPhoneNumber", r.AssignedUserPhoneNumber)
}

// AssignedAgent is the agent a chat was assigned to, as DoubleTick's guide
// shows the answer; its reference page documents no body, and then every
// field is "".
type AssignedAgent struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

func (*AssignedAgent) allowsEmptyBody() {}

// Assign gives a chat (a group's, or a customer's) to a team member. A
// phone that is not a team member's is a 422.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/assign-team-member-to-chat
func (s *ChatsService) Assign(ctx context.Context, req *AssignChatRequest) (*AssignedAgent, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("ChatsService.Assign"); err != nil {
		return nil, nil, err
	}
	body := *req
	body.CustomerPhoneNumber, body.WABANumber = wabaDigits(req.CustomerPhoneNumber), wabaDigits(req.WABANumber)
	body.AssignedUserPhoneNumber = wabaDigits(req.AssignedUserPhoneNumber)
	return call[AssignedAgent](ctx, s.client, epAssignChat, nil, &body)
}

// RemoveChatAssignmentRequest is the body of
// [ChatsService.RemoveAssignment].
type RemoveChatAssignmentRequest struct {
	ChatRef
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *RemoveChatAssignmentRequest) Validate() error {
	return validate("RemoveChatAssignmentRequest", r.check)
}

func (r *RemoveChatAssignmentRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	r.ChatRef.check(v)
}

// unassigned is the answer of the unassign call: success documented as a
// boolean, and shown as the string "true".
type unassigned struct {
	Success json.RawMessage `json:"success"`
}

func (u *unassigned) succeeded() bool {
	s := strings.Trim(string(u.Success), `"`)
	return s == "true" || len(u.Success) == 0
}

// RemoveAssignment unassigns a chat from whoever has it.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/unassign-team-member-from-chat
func (s *ChatsService) RemoveAssignment(ctx context.Context, req *RemoveChatAssignmentRequest) (*Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("ChatsService.RemoveAssignment"); err != nil {
		return nil, err
	}
	body := req.ChatRef
	body.CustomerPhoneNumber, body.WABANumber = wabaDigits(body.CustomerPhoneNumber), wabaDigits(body.WABANumber)
	_, resp, err := call[unassigned](ctx, s.client, epRemoveChatAssignment, nil, &body)
	return resp, err
}

// Chat types of [Chat.ChatType].
const (
	ChatIndividual = "INDIVIDUAL"
	ChatGroup      = "WA_GROUP"
)

// Chat is a row of the inbox's chat list. It carries no chat or group ID:
// a group's row is known by its Name and WABANumber.
type Chat struct {
	// ChatType is ChatIndividual or ChatGroup.
	ChatType string `json:"chatType"`
	Name     string `json:"name"`
	// PhoneNumber is a 1:1 WhatsApp chat's customer, digits; "" otherwise.
	PhoneNumber     string `json:"phoneNumber"`
	ImageURL        string `json:"imageUrl"`
	UnreadCount     int    `json:"unreadCount"`
	IsDone          bool   `json:"isDone"`
	OptIn           bool   `json:"optIn"`
	ChatUpdatedTime int64  `json:"chatUpdatedTime"` // epoch ms
	LastMessageTime int64  `json:"lastMessageTime"` // epoch ms
	WABANumber      string `json:"wabaNumber"`
	WABAPhoneName   string `json:"wabaPhoneName"`
	WABADisplayName string `json:"wabaDisplayName"`
	// AssignedUserName and AssignedUserNumber are "" when unassigned.
	AssignedUserName     string            `json:"assignedUserName"`
	AssignedUserNumber   string            `json:"assignedUserNumber"`
	TagNames             []string          `json:"tagNames"`
	CustomFields         []ChatCustomField `json:"customFields"`
	LastMessage          json.RawMessage   `json:"lastMessage,omitempty"`
	IsSLAActive          bool              `json:"isSlaActive"`
	SLADueDate           string            `json:"slaDueDate"`
	SLABreachLevel       string            `json:"slaBreachLevel"`
	EligibleMessageTypes []string          `json:"eligibleMessageTypes"`
	IsReminderTriggered  bool              `json:"isReminderTriggered"`
	// ProviderType is "INSTAGRAM", "GENERIC_CHANNEL" or "" for WhatsApp.
	ProviderType string `json:"providerType"`
}

// ChatCustomField is a custom field of a chat.
type ChatCustomField struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
	// Values are a multi_select field's.
	Values []json.RawMessage `json:"values,omitempty"`
}

// The statuses [ListChatsOptions.Status] takes.
var chatStatuses = []string{"all", "unread", "unresolved", "done", "waiting_for_response", "open", "open_cart"}

// ListChatsOptions filters [ChatsService.List] and selects the page. Nil or
// the zero value asks for the first page of DoubleTick's default (10 chats).
type ListChatsOptions struct {
	// Limit is the page's size, 1 to 100; 0 for the default, 10.
	Limit int `url:"limit,omitempty"`
	// Status is all, unread, unresolved, done, waiting_for_response, open
	// or open_cart.
	Status string   `url:"status,omitempty"`
	Tags   []string `url:"tags,comma,omitempty"`
	// AssignedUserPhone keeps the chats of one team member; Unassigned
	// keeps the unassigned ones instead (sent as the documented literal
	// "null").
	AssignedUserPhone string `url:"assignedUserPhone,omitempty"`
	Unassigned        bool   `url:"-"`
	// WABANumbers keeps the WhatsApp chats of these numbers.
	WABANumbers      []string `url:"wabaNumbers,comma,omitempty"`
	InstagramHandles []string `url:"instagramHandles,comma,omitempty"`
	// NextChatID and NextChatTimestamp are the cursor of the next page, as
	// [ChatPage] gives it.
	NextChatID        string `url:"nextChatId,omitempty"`
	NextChatTimestamp int64  `url:"nextChatTimestamp,omitempty"`
}

// Validate checks o against the documented rules; see
// [CreateGroupRequest.Validate]. A nil o asks for the first page.
func (o *ListChatsOptions) Validate() error { return validate("ListChatsOptions", o.check) }

func (o *ListChatsOptions) check(v *validator) {
	if o == nil {
		return
	}
	if o.Limit < 0 || o.Limit > MaxChatsPageSize {
		v.add("limit", RuleLength, "must be 1 to %d, or 0 for the default, got %d", MaxChatsPageSize, o.Limit)
	}
	if o.Status != "" && !slices.Contains(chatStatuses, o.Status) {
		v.add("status", RuleOneOf, "must be one of %v, got %q", chatStatuses, o.Status)
	}
	if o.Unassigned && o.AssignedUserPhone != "" {
		v.add("assignedUserPhone", RuleOneOf, "give a phone or Unassigned, not both")
	}
	for i, n := range o.WABANumbers {
		v.wabaNumber("wabaNumbers["+strconv.Itoa(i)+"]", n)
	}
	if (o.NextChatID == "") != (o.NextChatTimestamp == 0) {
		v.add("nextChatId", RuleRequired, "nextChatId and nextChatTimestamp go together, as the page before gave them")
	}
}

// ChatPage is one page of the chat list.
type ChatPage struct {
	Chats []Chat `json:"chats"`
	// Pagination is the next page's cursor.
	Pagination ChatPagination `json:"paginationOptions"`
}

// ChatPagination says whether more chats follow, and from where.
type ChatPagination struct {
	HasMoreChats      bool   `json:"hasMoreChats"`
	NextChatID        string `json:"nextChatId"`
	NextChatTimestamp int64  `json:"nextChatTimestamp"`
}

// List returns one page of the inbox's chats, groups (ChatType
// WA_GROUP) among them. Use [ChatsService.All] to go through every page.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/get-chat-list
func (s *ChatsService) List(ctx context.Context, opts *ListChatsOptions) (*ChatPage, *Response, error) {
	var v validator
	opts.check(&v)
	if err := v.err("ChatsService.List"); err != nil {
		return nil, nil, err
	}
	var q ListChatsOptions
	if opts != nil {
		q = *opts
		q.WABANumbers = wabaDigitsAll(opts.WABANumbers)
		if q.Unassigned {
			q.AssignedUserPhone = "null" // the documented literal
		}
	}
	return call[ChatPage](ctx, s.client, epListChats, &q, nil)
}

// chatCursor is the chat list's cursor.
type chatCursor struct {
	id string
	ts int64
}

// All returns every chat from opts' cursor on, fetching pages as the loop
// asks for them; see [GroupsService.All].
//
// DoubleTick API docs: https://docs.doubletick.io/reference/get-chat-list
func (s *ChatsService) All(ctx context.Context, opts *ListChatsOptions) iter.Seq2[*Chat, error] {
	var base ListChatsOptions
	if opts != nil {
		base = *opts
	}
	return paginate(ctx, RouteListChats, &chatCursor{base.NextChatID, base.NextChatTimestamp},
		func(c *chatCursor) ([]Chat, bool, chatCursor, error) {
			o := base
			o.NextChatID, o.NextChatTimestamp = c.id, c.ts
			page, _, err := s.List(ctx, &o)
			if err != nil {
				return nil, false, chatCursor{}, err
			}
			p := page.Pagination
			return page.Chats, p.HasMoreChats, chatCursor{p.NextChatID, p.NextChatTimestamp}, nil
		})
}
