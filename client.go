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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

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

// printableURL is u as an error or a description may show it: without
// its password, query or fragment, which may hold credentials.
func printableURL(u url.URL) string {
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.Redacted()
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

// copyHTTPClient returns a copy of hc whose redirect policy strips the API key
// from any redirect that leaves the origin of the first request, before the
// caller's own policy (or the standard one) decides.
func (c *Client) copyHTTPClient(hc *http.Client, timeout time.Duration) *http.Client {
	cp := *hc
	cp.Timeout = timeout
	c.userHTTP, c.copiedTransport = hc, hc.Transport
	userPolicy := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if first := via[0].URL; req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
			for _, h := range c.authHeaders {
				req.Header.Del(h)
			}
			// The Referer would name the API's URL, query included (group
			// IDs, phone numbers), to another origin.
			req.Header.Del("Referer")
		}
		if userPolicy != nil {
			return userPolicy(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// httpClientFor returns the client a request goes through: the copy made
// by NewClient, unless the caller's client has had its Transport replaced
// since (as httpmock.ActivateNonDefault does), in which case a copy with
// that transport, so that a mock is used rather than silently bypassed.
// The copy keeps the caller's transport as it is, not wrapped: net/http
// cancels requests on its own *Transport more cheaply than on others.
func (c *Client) httpClientFor() *http.Client {
	if t := c.userHTTP.Transport; !sameRoundTripper(t, c.copiedTransport) {
		cp := *c.httpClient
		cp.Transport = t
		return &cp
	}
	return c.httpClient
}

// sameRoundTripper compares two transports without panicking on a type
// that == cannot compare (a func, or a struct holding a map).
func sameRoundTripper(a, b http.RoundTripper) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta := reflect.TypeOf(a)
	if ta != reflect.TypeOf(b) {
		return false
	}
	if ta.Comparable() {
		return a == b
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	switch va.Kind() {
	case reflect.Func, reflect.Map, reflect.Slice:
		return va.Pointer() == vb.Pointer()
	}
	return true // an uncomparable struct value: taken as unchanged
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
// nil. The limiter keys the call as method + " " + path, so a path that
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
	var body *bodySource
	switch b := in.(type) {
	case nil:
	case *bodySource:
		body = b
	default:
		payload, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("doubletick: %s %s: encoding request: %w", ep.method, ep.route, err)
		}
		body = jsonBody(payload)
	}
	target := c.baseURL + ep.route
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	obs := c.observer
	if obs.Start != nil {
		if started := obs.Start(ctx, ep.key); started != nil {
			ctx = started
		}
	}
	// The clock is read only for the observer functions that are set.
	callStart := observedNow(obs.Done != nil)
	attempts := 0
	var lastResp *Response
	var lastErr error
	done := func(resp *Response, err error) (*Response, error) {
		if obs.Done != nil {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			obs.Done(ctx, CallInfo{Route: ep.key, Attempts: attempts, StatusCode: status,
				Duration: time.Since(callStart), ErrorType: errorType(err, status)})
		}
		return resp, err
	}
	for attempt := 1; ; attempt++ {
		waitStart := observedNow(obs.LimiterWait != nil)
		err := c.limiter.Wait(ctx, ep.key)
		if obs.LimiterWait != nil {
			obs.LimiterWait(ctx, ep.key, time.Since(waitStart))
		}
		if err != nil {
			if lastErr != nil {
				return done(lastResp, fmt.Errorf("doubletick: %s %s: %w before retrying after: %w", ep.method, ep.route, err, lastErr))
			}
			return done(nil, fmt.Errorf("doubletick: %s %s: %w", ep.method, ep.route, err))
		}
		attempts = attempt
		sendStart := observedNow(obs.Attempt != nil)
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
		if obs.Attempt != nil {
			a := AttemptInfo{Route: ep.key, Number: attempt, Duration: time.Since(sendStart), Retry: retry}
			if resp != nil {
				a.StatusCode, a.RequestID = resp.StatusCode, resp.RequestID
			}
			a.ErrorType = errorType(err, a.StatusCode)
			if retry {
				a.RetryWait = wait
			}
			obs.Attempt(ctx, a)
		}
		if !retry {
			return done(resp, err)
		}
		if ctxErr := pause.Sleep(ctx, wait); ctxErr != nil {
			return done(resp, fmt.Errorf("doubletick: %s %s: %w while waiting to retry after: %w", ep.method, ep.route, ctxErr, err))
		}
		lastResp, lastErr = resp, err
	}
}

// observedNow is the time if observed, else the zero time.
func observedNow(observed bool) time.Time {
	if observed {
		return time.Now()
	}
	return time.Time{}
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

// bodySource gives a request its body, afresh for each attempt.
type bodySource struct {
	contentType string
	// length is the body's length when known, else -1 or 0.
	length int64
	// payload is a body held in memory (JSON); open, when set, streams one
	// instead, afresh for each attempt.
	payload []byte
	open    func() (io.Reader, error)
	// replayable says a second attempt can send the same body again.
	replayable bool
}

// jsonBody is the body of every call but uploads.
func jsonBody(payload []byte) *bodySource {
	return &bodySource{contentType: "application/json", payload: payload, replayable: true}
}

// reader returns the body of one attempt.
func (b *bodySource) reader() (io.Reader, error) {
	if b.open == nil {
		return bytes.NewReader(b.payload), nil
	}
	return b.open()
}

// withoutQuery returns err, a transport error (http.Client.Do returns a
// *url.Error), with the query left out of the URL its text shows: a query
// carries group IDs, phone numbers and message IDs, which do not belong in
// errors and logs. The route key says which call failed.
func withoutQuery(err error) error {
	ue, ok := err.(*url.Error)
	if !ok || !strings.Contains(ue.URL, "?") {
		return err
	}
	cp := *ue
	cp.URL, _, _ = strings.Cut(ue.URL, "?")
	return &cp
}

// newAuthSetter returns what writes the API key into a request's headers:
// each header of names gets the key, Authorization with scheme before it
// when scheme is set. The values are built once; the key stays in the
// closure.
func newAuthSetter(key, scheme string, names []string) func(http.Header) {
	values := make([][]string, len(names))
	for i, h := range names {
		v := key
		if h == HeaderAuthorization && scheme != "" {
			v = scheme + " " + key
		}
		values[i] = []string{v}
	}
	return func(h http.Header) {
		for i, name := range names {
			h[name] = values[i]
		}
	}
}

// send makes one attempt. sent is false when the request certainly did not
// reach the server.
func (c *Client) send(ctx context.Context, ep endpoint, target string, src *bodySource, out any, attempt int) (*Response, bool, error) {
	var body io.Reader
	if src != nil {
		var err error
		if body, err = src.reader(); err != nil {
			return nil, false, fmt.Errorf("doubletick: %s %s: %w", ep.method, ep.route, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, ep.method, target, body)
	if err != nil {
		return nil, false, fmt.Errorf("doubletick: %s %s: building request: %w", ep.method, ep.route, err)
	}
	if src != nil && src.length > 0 {
		req.ContentLength = src.length
	}
	c.setAuth(req.Header)
	req.Header["User-Agent"] = c.userAgent
	req.Header["Accept"] = c.jsonMediaType
	switch {
	case src == nil:
	case src.contentType == c.jsonMediaType[0]:
		req.Header["Content-Type"] = c.jsonMediaType
	default:
		req.Header["Content-Type"] = []string{src.contentType}
	}

	start := time.Now()
	httpResp, err := c.httpClientFor().Do(req)
	if err != nil {
		err = withoutQuery(err)
		c.log(ctx, ep, attempt, 0, start, "", err)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, true, fmt.Errorf("doubletick: %s %s: %w", ep.method, ep.route, ctxErr)
		}
		return nil, !certainlyNotSent(err), fmt.Errorf("doubletick: %s %s: %w", ep.method, ep.route, err)
	}
	defer func() { closeBody(httpResp) }()

	resp := &Response{
		StatusCode: httpResp.StatusCode,
		Header:     httpResp.Header,
		RequestID:  httpResp.Header.Get(c.requestIDHeader),
		Rate:       parseRate(httpResp.Header, time.Now()),
	}
	err = c.decode(httpResp, resp, ep, out)
	c.log(ctx, ep, attempt, resp.StatusCode, start, resp.RequestID, err)
	return resp, true, err
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

// decode reads the body of httpResp into out, or into a typed error.
func (c *Client) decode(httpResp *http.Response, resp *Response, ep endpoint, out any) error {
	status, method, route := httpResp.StatusCode, ep.method, ep.route
	if status < 200 || status > 299 {
		raw, readErr := readBody(httpResp, maxErrorBody)
		apiErr := c.newAPIError(ep, status, resp.RequestID, raw)
		if readErr != nil && len(raw) == 0 {
			apiErr.Messages = append(apiErr.Messages, "reading the error body failed: "+readErr.Error())
		}
		if status == http.StatusTooManyRequests {
			return &RateLimitError{APIError: apiErr, RetryAfter: resp.Rate.RetryAfter, Rate: resp.Rate}
		}
		return apiErr
	}
	if out == nil {
		return nil
	}
	raw, err := readBody(httpResp, maxSuccessBody)
	if err != nil {
		return &DecodeError{Method: method, Route: route, StatusCode: status, Err: err}
	}
	if _, ok := out.(emptyBodyAllowed); ok && len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &DecodeError{Method: method, Route: route, StatusCode: status, Err: err}
	}
	if r, ok := out.(successReporter); ok && !r.succeeded() {
		var env errorEnvelope
		if json.Unmarshal(raw, &env) == nil && env.Success != nil && !*env.Success {
			return c.newAPIError(ep, status, resp.RequestID, raw)
		}
	}
	return nil
}

// emptyBodyAllowed is implemented by results whose 2xx answer is documented
// with no body, so that an empty one decodes to the zero value.
type emptyBodyAllowed interface{ allowsEmptyBody() }

// successReporter is implemented by results whose body carries "success".
type successReporter interface{ succeeded() bool }

// errorEnvelope is the NestJS error shape, plus the "success" flag.
type errorEnvelope struct {
	Success    *bool    `json:"success"`
	StatusCode int      `json:"statusCode"`
	Message    messages `json:"message"`
	Error      string   `json:"error"`
}

// messages decodes a "message" that is a string or an array of strings.
type messages []string

// UnmarshalJSON accepts a string, an array of strings, or null; anything else
// is kept as its JSON text.
func (m *messages) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		if one != "" {
			*m = messages{one}
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err == nil {
		*m = many
		return nil
	}
	if s := string(bytes.TrimSpace(b)); s != "null" {
		*m = messages{s}
	}
	return nil
}

// newAPIError builds the error for a failed answer. It scrubs the API key
// and the call's other secrets from the body, in case a server echoes the
// request back, in every form a JSON encoder may have written them in; and
// again from the decoded messages.
func (c *Client) newAPIError(ep endpoint, status int, requestID string, raw []byte) *APIError {
	secrets := c.secretPattern(ep)
	raw = secrets.ReplaceAllLiteral(raw, []byte(redacted))
	e := &APIError{Method: ep.method, Route: ep.route, StatusCode: status, RequestID: requestID, Body: raw}
	var env errorEnvelope
	if json.Unmarshal(raw, &env) == nil {
		e.ErrorText = secrets.ReplaceAllLiteralString(env.Error, redacted)
		e.Messages = env.Message
		for i, m := range e.Messages {
			e.Messages[i] = secrets.ReplaceAllLiteralString(m, redacted)
		}
	}
	return e
}

// minSecretLength is the length below which a call's secret is not
// scrubbed: no credential is that short, and replacing a word of a few
// letters would garble the error it appears in.
const minSecretLength = 6

// secretPattern matches the API key and ep's secrets as they may appear in
// what a server echoes back. The key's pattern, the usual case, is compiled
// once.
func (c *Client) secretPattern(ep endpoint) *regexp.Regexp {
	if len(ep.secrets) == 0 {
		return c.keyPattern()
	}
	secrets := []string{c.apiKey()}
	for _, s := range ep.secrets {
		if len(s) >= minSecretLength {
			secrets = append(secrets, s)
		}
	}
	return secretPattern(secrets...)
}

// secretPattern returns a pattern that matches each of secrets as it is,
// and as it stands inside a JSON string, however many times encoded: each
// ASCII character but letters and digits may be escaped with any number of
// backslashes ('"' as \", '/' as \/ by PHP), and any other character may be
// written as \uXXXX (beyond the Basic Multilingual Plane as a surrogate
// pair, \uXXXX\uXXXX), in either case (Go's and Node's escapes of '<', '>',
// '&', Python's of everything beyond ASCII, or an encoder that escapes
// everything). Longer secrets are tried first.
func secretPattern(secrets ...string) *regexp.Regexp {
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	alts := make([]string, len(secrets))
	for i, s := range secrets {
		var b strings.Builder
		for _, r := range s {
			switch {
			case r < 0x80 && isAlnum(byte(r)):
				b.WriteRune(r)
			case r < 0x80:
				fmt.Fprintf(&b, `(?:\\*%s|\\+u(?i:%04x))`, regexp.QuoteMeta(string(r)), r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `(?:%s|\\+u(?i:%04x))`, regexp.QuoteMeta(string(r)), r)
			default: // beyond it, \uXXXX\uXXXX: a UTF-16 surrogate pair
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `(?:%s|\\+u(?i:%04x)\\+u(?i:%04x))`, regexp.QuoteMeta(string(r)), hi, lo)
			}
		}
		alts[i] = b.String()
	}
	return regexp.MustCompile(strings.Join(alts, "|"))
}

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// readBounded reads r to its end, or fails once it has read more than limit
// bytes.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return b, err
	}
	if int64(len(b)) > limit {
		return b[:limit], fmt.Errorf("body is larger than %d bytes", limit)
	}
	return b, nil
}

// readBody reads the body of resp, at most limit bytes (the error says when
// there was more). A body of known length within the limit is read into a
// buffer of that length at once (a length of 0 is not trusted: a
// RoundTripper of the caller's may leave it unset). A body read to its end is closed, and
// replaced by http.NoBody, so that closeBody has nothing left to do.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	var b []byte
	var err error
	if n := resp.ContentLength; n > 0 && n <= limit {
		b = make([]byte, n)
		_, err = io.ReadFull(resp.Body, b)
	} else {
		b, err = readBounded(resp.Body, limit) // an error when it stopped short of the end
	}
	if err == nil {
		_ = resp.Body.Close()
		resp.Body = http.NoBody
	}
	return b, err
}

// closeBody discards a little of what is left of resp's body, so that a
// short remainder does not cost the connection, and closes it.
func closeBody(resp *http.Response) {
	if resp.Body == http.NoBody {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	_ = resp.Body.Close()
}

func (c *Client) log(ctx context.Context, ep endpoint, attempt, status int, start time.Time, requestID string, err error) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", ep.method),
		slog.String("route", ep.route),
		slog.Int("attempt", attempt),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
	}
	if requestID != "" {
		attrs = append(attrs, slog.String("request_id", requestID))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", c.secretPattern(ep).ReplaceAllLiteralString(err.Error(), redacted)))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "doubletick request", attrs...)
}
