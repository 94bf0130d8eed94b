package doubletick

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors classify a failed call. An error the Client returns for
// an HTTP status matches the one sentinel of its status class with
// [errors.Is] (a 404 whose message says creation is pending matches
// [ErrGroupPending] too); a status none of them names (another 4xx) matches
// none, and is read through *[APIError]:
//
//	_, _, err := c.Groups.Create(ctx, req)
//	switch {
//	case errors.Is(err, doubletick.ErrRateLimited):
//		// back off and try later
//	case errors.Is(err, doubletick.ErrUnauthorized):
//		// the API key is wrong or revoked
//	}
//
// Use [errors.As] with *[APIError] to read the status, the server's message
// and the request ID.
var (
	// ErrBadRequest matches a 400: missing or invalid fields, or no
	// integration for the given WABA number.
	ErrBadRequest = errors.New("doubletick: bad request")
	// ErrUnauthorized matches a 401: the API key is missing or invalid.
	ErrUnauthorized = errors.New("doubletick: unauthorized")
	// ErrForbidden matches a 403: the API key may not act for this WABA
	// number, or the feature is not enabled.
	ErrForbidden = errors.New("doubletick: forbidden")
	// ErrNotFound matches a 404: the group does not exist, or its creation
	// is still pending.
	ErrNotFound = errors.New("doubletick: not found")
	// ErrUnprocessable matches a 422: a business rule failed (integration
	// disabled or unsupported, messaging tier too low, limits reached).
	ErrUnprocessable = errors.New("doubletick: unprocessable")
	// ErrRateLimited matches a 429 from the server. It is also matched by
	// every *[RateLimitError].
	ErrRateLimited = errors.New("doubletick: rate limited")
	// ErrServerError matches any 5xx.
	ErrServerError = errors.New("doubletick: server error")
	// ErrUnsuccessful matches a 2xx answer whose body says
	// "success": false.
	ErrUnsuccessful = errors.New("doubletick: request not successful")
	// ErrGroupPending matches a 404 whose message says the group's creation
	// may still be pending, besides ErrNotFound. DoubleTick documents that
	// message, "Group not found or group creation is still pending", for
	// the settings, remove-participant and delete endpoints (Groups.Update,
	// Participants.Remove, Groups.Delete); info, participants and the AI
	// summary answer "Group not found for the given groupId" instead, which
	// matches only ErrNotFound. Either way a group may yet appear: wait for
	// GROUP_CREATED before treating it as missing.
	ErrGroupPending = errors.New("doubletick: group not found or its creation is still pending")
	// ErrRepeatedCursor is returned by the All iterators when the server says
	// more pages follow but gives a cursor it gave before.
	ErrRepeatedCursor = errors.New("doubletick: pagination cursor did not advance")
	// ErrNothingRegistered matches the error of Webhooks.Register and
	// Update when DoubleTick answered but accepted no (number, event) pair:
	// the webhook will receive nothing. It is a *[RegistrationError].
	ErrNothingRegistered = errors.New("doubletick: no webhook was registered")
)

// APIError is the error for a call the server answered with a failure: a
// non-2xx status, or a 2xx whose body carries "success": false.
//
// DoubleTick answers errors in the NestJS shape
// {"statusCode": 400, "message": "...", "error": "Bad Request"}, where
// message may also be an array of strings; APIError holds both forms in
// Messages. Bodies that are not in that shape are kept in Body.
//
// APIError is always returned as a pointer: use
//
//	var apiErr *doubletick.APIError
//	if errors.As(err, &apiErr) { ... }
type APIError struct {
	// Method and Route name the call, e.g. "POST" and
	// "/whatsapp/wa-group/create". Route carries no query string.
	Method string
	Route  string
	// StatusCode is the HTTP status the server answered with.
	StatusCode int
	// ErrorText is the server's "error" field, e.g. "Bad Request".
	ErrorText string
	// Messages holds the server's "message" field: one entry when the server
	// sent a string, several when it sent an array.
	Messages []string
	// RequestID is the server's request ID header, if it sent one.
	RequestID string
	// Body is the raw response body, read up to 1 MiB. Any occurrence of
	// the client's API key in it is replaced by "[REDACTED]".
	Body []byte
}

// Message returns the server's messages joined by "; ".
func (e *APIError) Message() string { return strings.Join(e.Messages, "; ") }

// Error describes the failure: the call, the status and the server's message.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("doubletick: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Route)
	b.WriteString(": ")
	if e.StatusCode >= 200 && e.StatusCode < 300 {
		fmt.Fprintf(&b, "%d but the body says success is false", e.StatusCode)
	} else {
		fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.ErrorText != "" && e.ErrorText != http.StatusText(e.StatusCode) {
		b.WriteString(" (")
		b.WriteString(e.ErrorText)
		b.WriteByte(')')
	}
	if msg := e.Message(); msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if e.RequestID != "" {
		b.WriteString(" [request id ")
		b.WriteString(e.RequestID)
		b.WriteByte(']')
	}
	return b.String()
}

// Is reports whether target is the sentinel for e's status, so that
// errors.Is(err, ErrNotFound) works on any 404.
func (e *APIError) Is(target error) bool {
	if target == ErrGroupPending {
		return e.StatusCode == http.StatusNotFound && strings.Contains(strings.ToLower(e.Message()), "pending")
	}
	return target != nil && target == sentinelFor(e.StatusCode)
}

func sentinelFor(status int) error {
	switch {
	case status >= 200 && status < 300:
		return ErrUnsuccessful
	case status == http.StatusBadRequest:
		return ErrBadRequest
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusUnprocessableEntity:
		return ErrUnprocessable
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500:
		return ErrServerError
	}
	return nil
}

// RateLimitError is returned when a call was refused for exceeding a rate
// limit. It always matches [ErrRateLimited].
//
// When the server answered 429, APIError holds its answer and RetryAfter is
// what its Retry-After header asked for (zero when the header was absent or
// could not be parsed; the error is a RateLimitError all the same).
//
// When APIError is nil, nothing was sent: the client's own [Limiter] refused
// to wait RetryAfter for a token because the call's context would have
// expired first.
type RateLimitError struct {
	// APIError is the server's 429 answer.
	APIError *APIError
	// RetryAfter is how long the server asked the client to wait.
	RetryAfter time.Duration
	// Rate is the rate-limit information the server sent with the answer.
	Rate Rate
}

// Error describes the limit and, when known, how long to wait.
func (e *RateLimitError) Error() string {
	if e.APIError == nil {
		return fmt.Sprintf("rate limited by the client: waiting %s for the route's limit would pass the context deadline", e.RetryAfter)
	}
	msg := e.APIError.Error()
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

// Is reports whether target is [ErrRateLimited].
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Unwrap returns the server's answer, so that errors.As with *APIError also
// finds it.
func (e *RateLimitError) Unwrap() error {
	if e.APIError == nil {
		return nil
	}
	return e.APIError
}

// DecodeError is returned when a response body could not be read or decoded:
// it is not JSON, it is truncated, or it is larger than the client accepts.
// The call may have taken effect on the server.
type DecodeError struct {
	// Method and Route name the call.
	Method string
	Route  string
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Err is the underlying read or JSON error.
	Err error
}

// Error describes which response could not be decoded and why.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("doubletick: %s %s: decoding %d response: %v", e.Method, e.Route, e.StatusCode, e.Err)
}

// Unwrap returns the underlying read or JSON error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Rule names a validation rule a field broke.
type Rule string

// The validation rules the SDK checks before sending a request.
const (
	RuleRequired  Rule = "required"   // the field must be set
	RuleDigits    Rule = "digits"     // only the digits 0-9
	RuleLength    Rule = "length"     // a number of characters within a range
	RuleMaxLength Rule = "max_length" // at most a number of characters
	RuleUTF8      Rule = "utf8"       // valid UTF-8 text
	RuleOneOf     Rule = "one_of"     // one of a fixed set of values
	RuleFormat    Rule = "format"     // a documented format, e.g. a UUID v4 or a URL
)

// FieldError is one violated rule on one field.
type FieldError struct {
	// Field is the JSON name of the field, e.g. "subject".
	Field string
	// Rule is the rule the value broke.
	Rule Rule
	// Detail says what the rule requires and what was found.
	Detail string
}

// Error returns "field: detail".
func (e FieldError) Error() string { return e.Field + ": " + e.Detail }

// ValidationError lists every rule a request broke. The SDK returns it
// before sending anything.
type ValidationError struct {
	// Request names what was called: the method, e.g.
	// "GroupsService.Create", for the error a method returns before
	// sending anything; the request type, e.g. "CreateGroupRequest", for
	// the error of its Validate.
	Request string
	// Fields holds every violation, in field order.
	Fields []FieldError
}

// Error lists all violations.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "doubletick: invalid " + e.Request + ": " + strings.Join(parts, "; ")
}

// Field returns the first violation on the named field, if any.
func (e *ValidationError) Field(name string) (FieldError, bool) {
	for _, f := range e.Fields {
		if f.Field == name {
			return f, true
		}
	}
	return FieldError{}, false
}
