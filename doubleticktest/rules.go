package doubleticktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// The fake checks requests by the rules DoubleTick documents
// (https://docs.doubletick.io/reference/whatsapp-group-public-api and its
// endpoint pages), written here from the docs and never
// taken from the SDK's own validation, so that a rule the SDK adds or drops
// shows up in a test against the fake. DoubleTick documents no wording for
// its validation messages; the fake writes them as NestJS's class-validator
// does by default ("subject should not be empty"), since its error bodies
// are NestJS's.

// Documented limits, in characters (wa-group-create-group-public-api;
// updatewhatsappgroupsettings's maxLength).
const (
	docSubjectMax     = 128
	docDescriptionMax = 2048
	docGroupIDMax     = 50
)

// body is a request body as its raw fields, read without assumptions on
// their types, so that a wrong type is reported as the docs' validator would.
type body map[string]json.RawMessage

// decodeRequest reads a JSON object body, or answers 400 and reports false.
func decodeRequest(w http.ResponseWriter, r *http.Request) (body, bool) {
	var b body
	if err := decodeBody(w, r, &b); err != nil || b == nil {
		writeError(w, http.StatusBadRequest, "Request body must be a JSON object")
		return nil, false
	}
	return b, true
}

// checks collects the messages of the rules a body breaks.
type checks struct {
	b    body
	msgs []string
}

// str returns the string field name: "" when absent or null, and a message
// when it is not a string.
func (c *checks) str(name string, required bool, max int) string {
	raw, ok := c.b[name]
	if !ok || string(raw) == "null" {
		if required {
			c.msgs = append(c.msgs, name+" should not be empty", name+" must be a string")
		}
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		c.msgs = append(c.msgs, name+" must be a string")
		return ""
	}
	if required && strings.TrimSpace(s) == "" {
		c.msgs = append(c.msgs, name+" should not be empty")
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		c.msgs = append(c.msgs, fmt.Sprintf("%s must be shorter than or equal to %d characters", name, max))
	}
	return s
}

// oneOf checks an optional string field against its enum.
func (c *checks) oneOf(name string, values ...string) string {
	s := c.str(name, false, 0)
	c.enum(name, s, false, values...)
	return s
}

// enum records class-validator's message for a value of field name that is
// not one of values: an empty one too when required, else only a value
// given.
func (c *checks) enum(name, v string, required bool, values ...string) {
	if (v != "" || required) && !slices.Contains(values, v) {
		c.msgs = append(c.msgs, fmt.Sprintf("%s must be one of the following values: %s", name, strings.Join(values, ", ")))
	}
}

// ok answers 400 with every broken rule and reports false, or reports true.
func (c *checks) ok(w http.ResponseWriter) bool {
	if len(c.msgs) == 0 {
		return true
	}
	writeInvalid(w, c.msgs...)
	return false
}

// okIncorrectPayload is ok for the pages whose 400 is the "Incorrect
// payload" family: message one string, the rules broken joined.
func (c *checks) okIncorrectPayload(w http.ResponseWriter) bool {
	if len(c.msgs) == 0 {
		return true
	}
	writeError(w, http.StatusBadRequest, strings.Join(c.msgs, "; "))
	return false
}

// createRequest is POST /whatsapp/wa-group/create as the pages
// wa-group-create-group-public-api and createwhatsappgroup describe it:
// wabaNumber and subject required; subject ≤ 128, description ≤ 2048,
// groupId ≤ 50 characters; joinApprovalMode auto_approve or
// approval_required.
type createRequest struct {
	wabaNumber, subject, description, joinApprovalMode, groupID string
}

func readCreate(w http.ResponseWriter, r *http.Request) (createRequest, bool) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return createRequest{}, false
	}
	c := checks{b: b}
	req := createRequest{
		wabaNumber:       c.str("wabaNumber", true, 0),
		subject:          c.str("subject", true, docSubjectMax),
		description:      c.str("description", false, docDescriptionMax),
		joinApprovalMode: c.oneOf("joinApprovalMode", "auto_approve", "approval_required"),
		groupID:          c.str("groupId", false, docGroupIDMax),
	}
	return req, c.ok(w)
}

// settingsRequest is POST /whatsapp/wa-group/settings
// (updatewhatsappgroupsettings): wabaNumber required; subject ≤ 128,
// description ≤ 2048, groupId (the new one) ≤ 50.
type settingsRequest struct {
	wabaNumber, subject, description, newGroupID string
}

func readSettings(w http.ResponseWriter, r *http.Request) (settingsRequest, bool) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return settingsRequest{}, false
	}
	c := checks{b: b}
	req := settingsRequest{
		wabaNumber:  c.str("wabaNumber", true, 0),
		subject:     c.str("subject", false, docSubjectMax),
		description: c.str("description", false, docDescriptionMax),
		newGroupID:  c.str("groupId", false, docGroupIDMax),
	}
	return req, c.ok(w)
}

// sameWABA compares two WABA numbers as numbers: the docs write them with
// and without "+".
func sameWABA(a, b string) bool {
	return strings.TrimPrefix(a, "+") == strings.TrimPrefix(b, "+")
}
