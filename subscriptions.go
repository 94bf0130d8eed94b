package doubletick

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/doubletick-go/doubletick/webhooks"
)

// The route keys of the webhook subscription API
// (https://docs.doubletick.io/reference/register-webhook, edit-webhooks,
// get-webhooks, delete-webhooks). Every webhook ID shares the edit route's
// limit.
const (
	RouteRegisterWebhook   = "POST /v2/webhook/register"
	RouteUpdateWebhook     = "POST /v2/webhook/{webhookId}"
	RouteListWebhooks      = "GET /v2/webhooks"
	RouteDeregisterWebhook = "DELETE /v2/webhook/deregister"
)

// The endpoints with fixed paths, split from their route keys once.
var (
	epRegisterWebhook   = newEndpoint(RouteRegisterWebhook)
	epListWebhooks      = newEndpoint(RouteListWebhooks)
	epDeregisterWebhook = newEndpoint(RouteDeregisterWebhook)
)

// webhookMethods are the HTTP methods a webhook may be delivered with.
var webhookMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"}

// WebhookMethods returns the HTTP methods a webhook may be delivered with,
// as DoubleTick's registration API documents them, in a slice of the
// caller's.
func WebhookMethods() []string { return slices.Clone(webhookMethods) }

// WebhooksService registers DoubleTick webhooks from code. Use it through
// [Client.Webhooks]. Build the receiver's verifier from the same
// Authorization with [webhooks.Authorization.Verifier].
type WebhooksService struct {
	client *Client
}

// WebhookRegistration is a webhook to register or to replace an existing
// one with.
type WebhookRegistration struct {
	// URL is where DoubleTick delivers: https, or http to a loopback host.
	URL string `json:"url"`
	// Method is one of [WebhookMethods]; "" sends POST.
	Method string `json:"method"`
	// Events are the events delivered: the webhooks.Type constants that
	// DoubleTick's registration API documents (webhooks.TypeMessageReceived,
	// …). The SDK sends any type: whether DoubleTick accepts group events
	// here is not documented (they are subscribed in its dashboard), and it
	// answers which it accepted, per number, in [RegisterWebhookResult].
	Events []webhooks.Type `json:"webhookEvents"`
	// Name names the webhook. Required.
	Name string `json:"name"`
	// WABANumbers are the numbers whose events are delivered, each with
	// the country code, 10 to 15 characters. At least one.
	WABANumbers []string `json:"wabaNumbers"`
	// Headers, Query and Body are sent with every delivery. Header and query
	// values are taken for credentials, as Authorization's payload is: one
	// of 6 bytes or more never appears in an error or a log line of the
	// call that sends it, even when a server echoes the request back.
	Headers map[string]string `json:"headers,omitempty"`
	Query   map[string]string `json:"query,omitempty"`
	Body    map[string]any    `json:"body,omitempty"`
	// BodyFormat is webhooks.BodyJSON (the default) or BodyFormData; give
	// the receiver's Handler the same with webhooks.WithBodyFormat.
	BodyFormat webhooks.BodyFormat `json:"bodyFormat,omitempty"`
	// Authorization is sent with every delivery; check it with
	// Authorization.Verifier.
	Authorization *webhooks.Authorization `json:"authorization,omitempty"`
	// RetryOnTimeout asks DoubleTick to retry a delivery that timed out:
	// the only retry it documents.
	RetryOnTimeout bool `json:"retryOnTimeout"`
}

// Validate checks r against the documented rules and returns a
// *[ValidationError] naming every violation, or nil.
func (r *WebhookRegistration) Validate() error { return validate("WebhookRegistration", r.check) }

// String describes r without what may be a credential: the values of its
// headers, query and body, the URL's query, fragment and password, and
// Authorization's payload.
func (r WebhookRegistration) String() string {
	return fmt.Sprintf("doubletick.WebhookRegistration{URL: %s, Method: %s, Events: %v, Name: %q, WABANumbers: %v, "+
		"Headers: %s, Query: %s, Body: %s, BodyFormat: %s, Authorization: %v, RetryOnTimeout: %t}",
		redactedURL(r.URL), r.Method, r.Events, r.Name, r.WABANumbers,
		redactedValues(r.Headers), redactedValues(r.Query), redactedValues(r.Body), r.BodyFormat, r.Authorization, r.RetryOnTimeout)
}

// GoString is String, so that %#v hides the same.
func (r WebhookRegistration) GoString() string { return r.String() }

// Format writes String for every verb.
func (r WebhookRegistration) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

// LogValue makes slog record r as String describes it.
func (r WebhookRegistration) LogValue() slog.Value { return slog.StringValue(r.String()) }

// redactedURL is raw without its password, and with a mark where its query
// and fragment were.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable URL]"
	}
	shown := printableURL(*u)
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		shown += "?[REDACTED]"
	}
	return shown
}

// redactedValues lists the keys of m, sorted, each with its value redacted.
func redactedValues[V any](m map[string]V) string {
	keys := slices.Sorted(maps.Keys(m))
	for i, k := range keys {
		keys[i] = strconv.Quote(k) + ": [REDACTED]"
	}
	return "{" + strings.Join(keys, ", ") + "}"
}

func (r *WebhookRegistration) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	checkWebhookURL(v, r.URL)
	if r.Method != "" && !slices.Contains(webhookMethods, r.Method) {
		v.add("method", RuleOneOf, "must be one of %v, got %q", webhookMethods, r.Method)
	}
	if len(r.Events) == 0 {
		v.add("webhookEvents", RuleRequired, "at least one event is required")
	}
	for i, e := range r.Events {
		v.text("webhookEvents["+strconv.Itoa(i)+"]", string(e), true, 0)
	}
	v.text("name", r.Name, true, 0)
	if len(r.WABANumbers) == 0 {
		v.add("wabaNumbers", RuleRequired, "at least one WABA number is required")
	}
	for i, n := range r.WABANumbers {
		v.phone("wabaNumbers["+strconv.Itoa(i)+"]", n)
	}
	switch r.BodyFormat {
	case "", webhooks.BodyJSON, webhooks.BodyFormData:
	default:
		v.add("bodyFormat", RuleOneOf, "must be %q or %q, got %q", webhooks.BodyJSON, webhooks.BodyFormData, r.BodyFormat)
	}
	if a := r.Authorization; a != nil {
		if a.Type != webhooks.AuthorizationBasic && a.Type != webhooks.AuthorizationBearer {
			v.add("authorization.type", RuleOneOf, "must be %q or %q, got %q", webhooks.AuthorizationBasic, webhooks.AuthorizationBearer, a.Type)
		}
		if strings.TrimSpace(a.Payload) == "" {
			v.add("authorization.payload", RuleRequired, "is required")
		}
	}
}

// checkWebhookURL allows https, and http only to a loopback host, as
// WithBaseURL does.
func checkWebhookURL(v *validator, raw string) {
	if raw == "" {
		v.add("url", RuleRequired, "is required")
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "":
		v.add("url", RuleFormat, "must be an absolute URL")
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		v.add("url", RuleFormat, "must be https (http only to a loopback host)")
	}
}

// wire returns r as DoubleTick reads it: the method defaults to POST.
func (r *WebhookRegistration) wire() any {
	type plain WebhookRegistration
	w := plain(*r)
	if w.Method == "" {
		w.Method = "POST"
	}
	var auth *wireAuthorization
	if r.Authorization != nil {
		auth = &wireAuthorization{r.Authorization.Type, r.Authorization.Payload}
	}
	return struct {
		plain
		// A pointer, not an interface: a nil one is omitted, where a nil
		// pointer in an interface would be sent as null, which the
		// subscription API's schema does not allow.
		Authorization *wireAuthorization `json:"authorization,omitempty"`
	}{w, auth}
}

// secrets returns the values of r that are credentials: its
// authorization, headers and query parameters, and those its URL carries
// (a user name, which may be a token, a password, and query values), as
// written and decoded, so that a server that echoes the URL back shows
// none of them in an error or the debug log.
func (r *WebhookRegistration) secrets() []string {
	var out []string
	if r.Authorization != nil {
		out = append(out, r.Authorization.Payload)
	}
	for _, m := range []map[string]string{r.Headers, r.Query} {
		for _, v := range m {
			out = append(out, v)
		}
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return out
	}
	if u.User != nil {
		user, _, _ := strings.Cut(u.User.String(), ":") // as written
		out = append(out, u.User.Username(), user)
		if pass, ok := u.User.Password(); ok {
			_, written, _ := strings.Cut(u.User.String(), ":")
			out = append(out, pass, written)
		}
	}
	for pair := range strings.SplitSeq(u.RawQuery, "&") {
		_, written, _ := strings.Cut(pair, "=")
		out = append(out, written)
		if v, err := url.QueryUnescape(written); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// wireAuthorization is a registration's authorization as DoubleTick reads
// it.
type wireAuthorization struct {
	Type    string `json:"type"`
	Payload string `json:"payload"`
}

// PublicWebhook is one (WABA number, event) pair of a registration.
type PublicWebhook struct {
	WABANumber       string        `json:"wabaNumber"`
	WebhookEventType webhooks.Type `json:"webhookEventType"`
}

// RegisterWebhookResult says which (number, event) pairs were registered.
type RegisterWebhookResult struct {
	ValidWebhooks      []PublicWebhook `json:"validWebhooks"`
	InvalidWebhooks    []PublicWebhook `json:"invalidWebhooks"`
	InvalidWABANumbers []string        `json:"invalidWabaNumbers"`
}

// Register registers a webhook. DoubleTick returns no webhook ID: List
// finds it. It answers one entry per (number, event): a partial acceptance
// is the result, with what was refused in InvalidWebhooks and
// InvalidWABANumbers; an answer that accepted nothing is a
// *[RegistrationError] (with the result), since that webhook would
// receive nothing.
//
// Group events (GROUP_CREATED, …, WA_GROUP_MESSAGE_RECEIVED),
// CONVERSATION_COST_DEDUCTED and ON_SLA_ESCALATED_PUBLIC are not among the
// events this API documents: DoubleTick subscribes them in its dashboard
// (Settings → Webhooks: WhatsApp Group Webhooks, Conversation Cost
// Webhooks), and an error for a registration naming them says so.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/register-webhook
func (s *WebhooksService) Register(ctx context.Context, r *WebhookRegistration) (*RegisterWebhookResult, *Response, error) {
	var v validator
	r.check(&v)
	if err := v.err("WebhooksService.Register"); err != nil {
		return nil, nil, err
	}
	ep := epRegisterWebhook
	ep.secrets = r.secrets()
	res, resp, err := call[RegisterWebhookResult](ctx, s.client, ep, nil, r.wire())
	return registered(r, res, resp, err)
}

// registered checks DoubleTick's answer to a registration of r: an answer
// that accepted nothing is an error that says what was refused, and a
// refusal of a registration naming dashboard events says where those are
// subscribed.
func registered(r *WebhookRegistration, res *RegisterWebhookResult, resp *Response, err error) (*RegisterWebhookResult, *Response, error) {
	dashboard := dashboardEventsOf(r.Events)
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest && len(dashboard) > 0:
		return res, resp, fmt.Errorf("%w (%s)", err, dashboardHint(dashboard))
	case err == nil && len(res.ValidWebhooks) == 0:
		return res, resp, &RegistrationError{Result: res, DashboardEvents: dashboard}
	}
	return res, resp, err
}

// dashboardEventsOf returns the events among events that DoubleTick
// subscribes in its dashboard only.
func dashboardEventsOf(events []webhooks.Type) []webhooks.Type {
	var out []webhooks.Type
	for _, e := range events {
		switch e {
		case webhooks.TypeGroupCreated, webhooks.TypeParticipantJoined, webhooks.TypeParticipantLeft,
			webhooks.TypeParticipantRemoved, webhooks.TypeGroupMessageReceived,
			webhooks.TypeConversationCostDeducted, webhooks.TypeSLAEscalated:
			out = append(out, e)
		}
	}
	return out
}

func dashboardHint(events []webhooks.Type) string {
	return fmt.Sprintf("not in the subscription API's documented events: %s; subscribe to them in DoubleTick's dashboard, "+
		"Settings → Webhooks (WhatsApp Group Webhooks for the group events, Conversation Cost Webhooks for CONVERSATION_COST_DEDUCTED)", joinTypes(events))
}

func joinTypes(types []webhooks.Type) string {
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// RegistrationError is the error of a registration DoubleTick answered
// without accepting any (number, event) pair: nothing will be delivered. It
// matches [ErrNothingRegistered]; Result is the answer, which says what was
// refused.
type RegistrationError struct {
	Result *RegisterWebhookResult
	// DashboardEvents are the events the registration named that
	// DoubleTick's subscription API does not document: the group events,
	// CONVERSATION_COST_DEDUCTED and ON_SLA_ESCALATED_PUBLIC, subscribed in
	// its dashboard.
	DashboardEvents []webhooks.Type
}

// Error says what was refused and, for dashboard events, where to
// subscribe.
func (e *RegistrationError) Error() string {
	var parts []string
	if len(e.Result.InvalidWABANumbers) > 0 {
		parts = append(parts, "numbers without an integration: "+strings.Join(e.Result.InvalidWABANumbers, ", "))
	}
	if n := len(e.Result.InvalidWebhooks); n > 0 {
		refused := make([]string, n)
		for i, w := range e.Result.InvalidWebhooks {
			refused[i] = string(w.WebhookEventType) + " on " + w.WABANumber
		}
		parts = append(parts, "refused: "+strings.Join(refused, ", "))
	}
	if len(e.DashboardEvents) > 0 {
		parts = append(parts, dashboardHint(e.DashboardEvents))
	}
	if len(parts) == 0 {
		parts = append(parts, "the answer listed no accepted webhook")
	}
	return ErrNothingRegistered.Error() + ": " + strings.Join(parts, "; ")
}

// Is makes a RegistrationError match [ErrNothingRegistered].
func (e *RegistrationError) Is(target error) bool { return target == ErrNothingRegistered }

// Update replaces the webhook webhookID with r. Whether DoubleTick merges or
// replaces is not documented; send the whole registration.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/edit-webhooks
func (s *WebhooksService) Update(ctx context.Context, webhookID string, r *WebhookRegistration) (*RegisterWebhookResult, *Response, error) {
	var v validator
	v.id("webhookId", webhookID)
	r.check(&v)
	if err := v.err("WebhooksService.Update"); err != nil {
		return nil, nil, err
	}
	ep := endpoint{method: "POST", route: "/v2/webhook/" + url.PathEscape(webhookID), key: RouteUpdateWebhook, secrets: r.secrets()}
	res, resp, err := call[RegisterWebhookResult](ctx, s.client, ep, nil, r.wire())
	return registered(r, res, resp, err)
}

// Webhook is a registered webhook, as List describes it.
type Webhook struct {
	WebhookID   string          `json:"webhookId"`
	URL         string          `json:"url"`
	EventTypes  []webhooks.Type `json:"eventTypes"`
	WABANumbers []string        `json:"wabaNumbers"`
	// IntegrationCount is documented as an integer, and sent as a string
	// in the guide's example: both are read; it is written as an integer.
	IntegrationCount int    `json:"integrationCount"`
	CreatedBy        string `json:"createdBy"`
	Name             string `json:"name"`
}

// UnmarshalJSON reads integrationCount as a number or a string.
func (w *Webhook) UnmarshalJSON(b []byte) error {
	type plain Webhook
	var v struct {
		plain
		IntegrationCount scalarText `json:"integrationCount"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*w = Webhook(v.plain)
	if raw := string(v.IntegrationCount); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			return err
		}
		w.IntegrationCount = n
	}
	return nil
}

// ListWebhooksOptions sorts the list. The zero value (or nil) asks for
// DoubleTick's default order.
type ListWebhooksOptions struct {
	// SortBy is name (the default), url, createdBy or integrationCount.
	SortBy string `url:"sortBy,omitempty"`
	// SortDirection is ASC (the default) or DESC.
	SortDirection string `url:"sortDirection,omitempty"`
}

// Validate checks o against the documented values; see
// [CreateGroupRequest.Validate]. A nil o is the default order.
func (o *ListWebhooksOptions) Validate() error { return validate("ListWebhooksOptions", o.check) }

func (o *ListWebhooksOptions) check(v *validator) {
	if o == nil {
		return
	}
	if o.SortBy != "" && !slices.Contains([]string{"name", "url", "createdBy", "integrationCount"}, o.SortBy) {
		v.add("sortBy", RuleOneOf, "must be name, url, createdBy or integrationCount, got %q", o.SortBy)
	}
	if o.SortDirection != "" && o.SortDirection != "ASC" && o.SortDirection != "DESC" {
		v.add("sortDirection", RuleOneOf, "must be ASC or DESC, got %q", o.SortDirection)
	}
}

// List lists the registered webhooks.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/get-webhooks
func (s *WebhooksService) List(ctx context.Context, opts *ListWebhooksOptions) ([]Webhook, *Response, error) {
	var v validator
	opts.check(&v)
	if err := v.err("WebhooksService.List"); err != nil {
		return nil, nil, err
	}
	if opts == nil {
		opts = &ListWebhooksOptions{}
	}
	// An array in the guide, one object in the OpenAPI schema.
	res, resp, err := call[oneOrMany[Webhook]](ctx, s.client, epListWebhooks, opts, nil)
	if err != nil {
		return nil, resp, err
	}
	return []Webhook(*res), resp, nil
}

// Deregister removes a webhook.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/delete-webhooks
func (s *WebhooksService) Deregister(ctx context.Context, webhookID string) (*Response, error) {
	var v validator
	v.id("webhookId", webhookID)
	if err := v.err("WebhooksService.Deregister"); err != nil {
		return nil, err
	}
	body := struct {
		WebhookID string `json:"webhookId"`
	}{webhookID}
	// Documented as {}, "Empty response body indicating successful
	// creation": both are read.
	_, resp, err := call[emptyObject](ctx, s.client, epDeregisterWebhook, nil, body)
	return resp, err
}
