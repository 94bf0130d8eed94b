package doubletick

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Route keys of the group API: the method, a space, and the path relative to
// the base URL. The Client's [Limiter] keeps one bucket per key, and
// [WithPathRateLimit] takes them.
const (
	RouteCreateGroup = http.MethodPost + " " + pathCreateGroup
)

const pathCreateGroup = "/whatsapp/wa-group/create"

var epCreateGroup = endpoint{http.MethodPost, pathCreateGroup, RouteCreateGroup}

// Documented limits of the group fields, in characters.
const (
	MaxSubjectLength     = 128
	MaxDescriptionLength = 2048
	MaxGroupIDLength     = 50
	MinWABANumberDigits  = 8
	MaxWABANumberDigits  = 15
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
	// digits only, country code included, no "+" (e.g. "911111111111").
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
func (r *CreateGroupRequest) Validate() error {
	if r == nil {
		return &ValidationError{Request: "CreateGroupRequest", Fields: []FieldError{{Field: "request", Rule: RuleRequired, Detail: "is nil"}}}
	}
	var v validator
	v.wabaNumber("wabaNumber", r.WABANumber)
	v.text("subject", r.Subject, true, MaxSubjectLength)
	v.text("description", r.Description, false, MaxDescriptionLength)
	switch r.JoinApprovalMode {
	case "", JoinAutoApprove, JoinApprovalRequired:
	default:
		v.add("joinApprovalMode", RuleOneOf, "must be %q or %q, got %q", JoinAutoApprove, JoinApprovalRequired, r.JoinApprovalMode)
	}
	v.text("groupId", r.GroupID, false, MaxGroupIDLength)
	return v.err("CreateGroupRequest")
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
	if err := req.Validate(); err != nil {
		return nil, nil, err
	}
	out := new(CreateGroupResult)
	resp, err := s.client.do(ctx, epCreateGroup, nil, req, out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// validator collects field violations.
type validator struct{ fields []FieldError }

func (v *validator) add(field string, rule Rule, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Rule: rule, Detail: fmt.Sprintf(format, args...)})
}

// text checks a free-text field: valid UTF-8, present when required, and at
// most max characters (runes, not bytes).
func (v *validator) text(field, value string, required bool, max int) {
	switch {
	case !utf8.ValidString(value):
		v.add(field, RuleUTF8, "must be valid UTF-8")
	case strings.TrimSpace(value) == "":
		if required {
			v.add(field, RuleRequired, "is required")
		} else if value != "" {
			v.add(field, RuleRequired, "is only white space; leave it empty to omit it")
		}
	default:
		if n := utf8.RuneCountInString(value); n > max {
			v.add(field, RuleMaxLength, "must be at most %d characters, got %d", max, n)
		}
	}
}

// wabaNumber checks a WhatsApp Business number: required, digits only with
// the country code and no "+", 8 to 15 digits.
func (v *validator) wabaNumber(field, value string) {
	if value == "" {
		v.add(field, RuleRequired, "is required")
		return
	}
	for i, r := range value {
		if r < '0' || r > '9' {
			if i == 0 && r == '+' {
				v.add(field, RuleDigits, "must be digits only with the country code and no leading +, e.g. 911111111111")
			} else {
				v.add(field, RuleDigits, "must be digits only, found %q at byte offset %d", r, i)
			}
			return
		}
	}
	if n := len(value); n < MinWABANumberDigits || n > MaxWABANumberDigits {
		v.add(field, RuleLength, "must be %d to %d digits, got %d", MinWABANumberDigits, MaxWABANumberDigits, n)
	}
}

func (v *validator) err(request string) error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Request: request, Fields: v.fields}
}
