// Package doubletick is a typed client for DoubleTick's WhatsApp Group Public
// API: create WhatsApp groups for your customers and manage them.
//
// Create a [Client] once with your API key and share it: it is safe for
// concurrent use by many goroutines, and every call takes a
// [context.Context] that bounds it.
//
//	c, err := doubletick.NewClient(os.Getenv("DOUBLETICK_API_KEY"))
//	if err != nil { ... }
//	res, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{
//		WABANumber: "911111111111",
//		Subject:    "New Support – Jan 2026",
//	})
//
// Every call returns its typed result, a *[Response] with the HTTP status,
// headers, request ID and rate-limit information, and an error that
// [errors.Is] and [errors.As] can inspect (see [APIError] and the Err
// sentinels). Requests are validated before anything is sent; a
// *[ValidationError] names every field and rule that failed.
//
// The API key is never written into an error, a log line, or the output of
// fmt on a Client.
package doubletick

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/go-querystring/query"

	"github.com/doubletick-go/doubletick/internal/pause"
)

// DefaultBaseURL is the only server DoubleTick documents: production.
const DefaultBaseURL = "https://public.doubletick.io"

// The headers the API key can be sent in. DoubleTick's documentation
// disagrees on which one the group API reads: its OpenAPI pages for the
// group endpoints name x-public-api-key, while its getting-started guide and
// every other API page send the raw key in Authorization. By default the
// Client sends the key in both; [WithAuthHeader] picks exactly one.
const (
	HeaderAuthorization = "Authorization"
	HeaderPublicAPIKey  = "X-Public-Api-Key"
)

// DefaultRequestIDHeader is the response header read into
// [Response.RequestID]. DoubleTick documents no request ID header; this is
// the common convention, and [WithRequestIDHeader] changes it.
const DefaultRequestIDHeader = "X-Request-Id"

const (
	// maxErrorBody bounds how much of an error response is read.
	maxErrorBody = 1 << 20
	// maxSuccessBody bounds how much of a successful response is read.
	maxSuccessBody = 10 << 20
	// drainLimit is how much of an unread body is discarded so that the
	// connection can be reused; a longer body closes the connection.
	drainLimit = 4 << 10
	// redacted replaces the API key wherever it could otherwise appear.
	redacted = "[REDACTED]"
)

var errNilContext = errors.New("doubletick: nil context")

// Client calls DoubleTick's API. Create one with [NewClient]; the zero value
// is not usable. A Client is immutable once built and safe for concurrent use.
type Client struct {
	// The key lives in a closure: fmt, slog and reflection-based printers
	// (testify's diffs) show a func as an address, so no path through a
	// Client's fields, or a copy of them, prints it, whatever the verb.
	apiKey credential
	// keyPattern matches the key as a server may echo it: a closure, so
	// that no fmt verb prints it.
	keyPattern func() *regexp.Regexp
	// setAuth writes the key's headers into a request's, from values built
	// once: a closure too, for the same reason.
	setAuth func(http.Header)
	// userAgent and jsonMediaType are the values of User-Agent, and of
	// Accept and a JSON body's Content-Type, built once and shared by every
	// request (a RoundTripper must not modify a request).
	userAgent, jsonMediaType []string
	// userHTTP is the caller's client and copiedTransport its Transport
	// when httpClient was copied from it.
	userHTTP        *http.Client
	copiedTransport http.RoundTripper
	baseURL         string // scheme://host[/prefix], no trailing slash
	httpClient      *http.Client
	authHeaders     []string
	requestIDHeader string
	logger          *slog.Logger
	limiter         Limiter
	maxAttempts     int
	backoff         Backoff
	retryPolicy     RetryPolicy
	maxRetryAfter   time.Duration
	retryAnyMethod  bool
	observer        CallObserver

	// Groups creates and manages WhatsApp groups.
	Groups *GroupsService
	// Participants lists and removes the members of groups.
	Participants *ParticipantsService
	// Messages sends messages to groups and phones and uploads media.
	Messages *MessagesService
	// Webhooks registers, lists and removes webhook subscriptions.
	Webhooks *WebhooksService
	// Channels lists the key's WhatsApp numbers and updates their
	// business profiles.
	Channels *ChannelsService
	// Team lists the organization's agents and roles.
	Team *TeamService
	// Wallet reads the organization's wallet balance.
	Wallet *WalletService
	// Templates lists and manages message templates.
	Templates *TemplatesService
	// Notes keeps notes on group and customer chats.
	Notes *NotesService
	// Chats assigns chats to team members and lists the inbox.
	Chats *ChatsService
	// Customers reads and writes customer records: tags, fields, owner,
	// blocks and erasure.
	Customers *CustomersService
}

// credential returns the API key.
type credential func() string

// newCredential hides key in a closure.
func newCredential(key string) credential { return func() string { return key } }

// NewClient returns a Client that authenticates with apiKey. The key is
// required; the options may change everything else.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	if err := checkAPIKey(apiKey); err != nil {
		return nil, err
	}
	s := settings{
		baseURL:         DefaultBaseURL,
		httpClient:      http.DefaultClient,
		authHeaders:     []string{HeaderAuthorization, HeaderPublicAPIKey},
		requestIDHeader: DefaultRequestIDHeader,
		limits:          PathLimiterConfig{Default: DefaultRateLimit(), Routes: DefaultRouteLimits()},
		maxAttempts:     DefaultMaxAttempts,
		backoff:         ExponentialBackoff(DefaultBackoffBase, DefaultBackoffMax),
		retryPolicy:     DefaultRetryPolicy,
		maxRetryAfter:   DefaultMaxRetryAfter,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&s); err != nil {
			return nil, err
		}
	}
	base, err := parseBaseURL(s.baseURL, s.allowInsecure)
	if err != nil {
		return nil, err
	}
	limiter := s.limiter
	if limiter == nil {
		if limiter, err = NewPathLimiter(s.limits); err != nil {
			return nil, err
		}
	}
	logger := s.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ua := "doubletick-go/" + strings.Trim(Version(), "()") + " (" + runtime.Version() + ")"
	if s.userAgentSuffix != "" {
		ua += " " + s.userAgentSuffix
	}
	timeout := s.httpClient.Timeout
	switch {
	case s.timeoutSet:
		timeout = s.timeout
	case timeout == 0:
		timeout = DefaultTimeout
	}
	c := &Client{
		apiKey:          newCredential(apiKey),
		keyPattern:      sync.OnceValue(func() *regexp.Regexp { return secretPattern(apiKey) }),
		baseURL:         base,
		userAgent:       []string{ua},
		jsonMediaType:   []string{"application/json"},
		authHeaders:     s.authHeaders,
		requestIDHeader: s.requestIDHeader,
		logger:          logger,
		limiter:         limiter,
		maxAttempts:     s.maxAttempts,
		backoff:         s.backoff,
		retryPolicy:     s.retryPolicy,
		maxRetryAfter:   s.maxRetryAfter,
		retryAnyMethod:  s.retryAnyMethod,
		observer:        s.observer,
	}
	c.setAuth = newAuthSetter(apiKey, s.authScheme, s.authHeaders)
	c.httpClient = c.copyHTTPClient(s.httpClient, timeout)
	c.Groups = &GroupsService{client: c}
	c.Participants = &ParticipantsService{client: c}
	c.Messages = &MessagesService{client: c}
	c.Webhooks = &WebhooksService{client: c}
	c.Channels = &ChannelsService{client: c}
	c.Team = &TeamService{client: c}
	c.Wallet = &WalletService{client: c}
	c.Templates = &TemplatesService{client: c}
	c.Notes = &NotesService{client: c}
	c.Chats = &ChatsService{client: c}
	c.Customers = &CustomersService{client: c}
	return c, nil
}

func checkAPIKey(key string) error {
	if key == "" {
		return errors.New("doubletick: NewClient: API key is empty")
	}
	if strings.TrimSpace(key) != key {
		return errors.New("doubletick: NewClient: API key has leading or trailing white space")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return fmt.Errorf("doubletick: NewClient: API key has a byte that cannot go in an HTTP header at offset %d", i)
		}
	}
	return nil
}

// parseBaseURL checks rawURL and returns it as scheme://host[/prefix]. Its
// errors never echo the user info, query or fragment that the URL may carry.
func parseBaseURL(rawURL string, allowInsecure bool) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", errors.New("doubletick: WithBaseURL: not a valid URL")
	}
	shown := printableURL(*u)
	switch {
	case u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return "", fmt.Errorf("doubletick: WithBaseURL: %q is not an absolute http(s) URL", shown)
	case u.User != nil:
		return "", fmt.Errorf("doubletick: WithBaseURL: %q carries user info; the API key is the only credential", shown)
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("doubletick: WithBaseURL: %q has a query or fragment", shown)
	case u.Scheme == "http" && !allowInsecure && !isLoopback(u.Hostname()):
		return "", fmt.Errorf("doubletick: WithBaseURL: %q is plain http on a non-loopback host; the API key would travel in clear text (use https, or WithInsecureHTTP)", shown)
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validHeaderName reports whether name is an HTTP token (RFC 9110 §5.6.2).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(ch)) {
			return false
		}
	}
	return true
}

// String describes the Client without its API key.
func (c *Client) String() string {
	return "doubletick.Client{BaseURL: " + c.baseURL + ", APIKey: " + redacted + "}"
}

// GoString is String, so that %#v does not print the API key either.
func (c *Client) GoString() string { return c.String() }

// Format writes [Client.String] for every verb, so that no fmt verb or flag
// prints the API key.
func (c *Client) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// LogValue makes slog record the Client without its API key.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.baseURL), slog.String("api_key", redacted))
}

// Response is what the server answered a call with, besides its body.
type Response struct {
	// StatusCode is the HTTP status code.
	StatusCode int
	// Header holds the response headers.
	Header http.Header
	// RequestID is the server's request ID header, if it sent one.
	RequestID string
	// Rate is the rate-limit information the server sent.
	Rate Rate
	// Attempts is how many times the call was sent, retries included.
	Attempts int
}

// endpoint is one route of the API.
type endpoint struct {
	method string
	route  string // path template, no query
	key    string // method + " " + route: the route's rate-limit key
	// secrets are credentials the call carries besides the API key (a
	// webhook registration's authorization, header and query values): they
	// are scrubbed from its errors and log lines like the key.
	secrets []string
}

// newEndpoint splits a route key such as "GET /whatsapp/wa-group/info".
func newEndpoint(key string) endpoint {
	method, route, _ := strings.Cut(key, " ")
	return endpoint{method: method, route: route, key: key}
}

// Do sends a request to any path of the API, for endpoints this SDK does not
// cover, with the same authentication, rate limiting, retries and typed
// errors as its own methods. path is relative to the base URL, starts with
// "/" and carries no query: pass that in query, which may be nil. body, when
// not nil, is sent as JSON; a 2xx answer is decoded into out when out is not
// nil, or, when out is a *json.RawMessage, given as it came (nil when
// empty, and not checked to be JSON). The limiter keys the call as
// method + " " + path, so a path that
// embeds an ID gets a bucket of its own; [PathLimiter] keeps such buckets
// bounded.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) (*Response, error) {
	var v validator
	if !validHeaderName(method) {
		v.add("method", RuleOneOf, "must be an HTTP method token, got %q", method)
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
		v.add("path", RuleOneOf, "must start with / and carry no query or fragment, got %q", path)
	}
	if err := v.err("Client.Do"); err != nil {
		return nil, err
	}
	return c.do(ctx, endpoint{method: method, route: path, key: method + " " + path}, query, body, out)
}

// do runs one call: it waits for the route's limiter, sends, and retries what
// the retry policy allows, and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, ep endpoint, query url.Values, in, out any) (*Response, error) {
	if ctx == nil {
		return nil, errNilContext
	}
	body, err := requestBody(ep, in)
	if err != nil {
		return nil, err
	}
	target := c.baseURL + ep.route
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	ctx, call := c.observer.begin(ctx, ep.key)
	var lastResp *Response
	var lastErr error
	for attempt := 1; ; attempt++ {
		if err := call.limiterWait(ctx, c.limiter); err != nil {
			if lastErr != nil {
				return call.done(ctx, lastResp, fmt.Errorf("doubletick: %s %s: %w before retrying after: %w", ep.method, ep.route, err, lastErr))
			}
			return call.done(ctx, nil, fmt.Errorf("doubletick: %s %s: %w", ep.method, ep.route, err))
		}
		sending := call.sending(attempt)
		resp, sent, err := c.send(ctx, ep, target, body, out, attempt)
		if resp != nil {
			resp.Attempts = attempt
		}
		var wait time.Duration
		retry := false
		if err != nil && ctx.Err() == nil {
			wait, retry = c.planRetry(ctx, ep, attempt, resp, sent, err, body == nil || body.replayable)
			retry = retry && pause.Fits(ctx, wait)
		}
		call.attempted(ctx, sending, resp, err, retry, wait)
		if !retry {
			return call.done(ctx, resp, err)
		}
		if ctxErr := pause.Sleep(ctx, wait); ctxErr != nil {
			return call.done(ctx, resp, fmt.Errorf("doubletick: %s %s: %w while waiting to retry after: %w", ep.method, ep.route, ctxErr, err))
		}
		lastResp, lastErr = resp, err
	}
}

// requestBody is what do sends for in: nothing, a body source as given, or
// in encoded as JSON.
func requestBody(ep endpoint, in any) (*bodySource, error) {
	switch b := in.(type) {
	case nil:
		return nil, nil
	case *bodySource:
		return b, nil
	}
	payload, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("doubletick: %s %s: encoding request: %w", ep.method, ep.route, err)
	}
	return jsonBody(payload), nil
}

// planRetry decides whether a failed attempt is retried and after how long.
// A 429, or a 503 with Retry-After, also pauses the route for every caller.
// A body that cannot be sent again ends the call after the pause.
func (c *Client) planRetry(ctx context.Context, ep endpoint, attempt int, resp *Response, sent bool, err error, replayable bool) (time.Duration, bool) {
	wait := c.backoff(attempt)
	tooLong := false
	if resp != nil {
		if ra := resp.Rate.RetryAfter; ra > 0 {
			wait, tooLong = min(ra, c.maxRetryAfter), ra > c.maxRetryAfter
		}
		if resp.StatusCode == http.StatusTooManyRequests || (resp.StatusCode == http.StatusServiceUnavailable && resp.Rate.RetryAfter > 0) {
			c.limiter.Pause(context.WithoutCancel(ctx), ep.key, time.Now().Add(wait))
		}
	}
	if tooLong || attempt >= c.maxAttempts || !replayable {
		return 0, false
	}
	a := &Attempt{
		Method: ep.method, Route: ep.route, Number: attempt, Response: resp, Err: err,
		Sent: sent, Repeatable: c.retryAnyMethod || repeatableMethod(ep.method),
	}
	return wait, c.retryPolicy(a)
}

// call sends one call, with query (a struct with url tags, or nil) and body
// (sent as JSON unless nil), and returns its decoded 2xx answer.
func call[T any](ctx context.Context, c *Client, ep endpoint, query, body any) (*T, *Response, error) {
	var q url.Values
	if query != nil {
		var err error
		if q, err = encodeQuery(query); err != nil {
			return nil, nil, err
		}
	}
	out := new(T)
	resp, err := c.do(ctx, ep, q, body, out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// encodeQuery turns a struct with url tags into a query string.
func encodeQuery(v any) (url.Values, error) {
	q, err := query.Values(v)
	if err != nil {
		return nil, fmt.Errorf("doubletick: encoding query: %w", err)
	}
	return q, nil
}
