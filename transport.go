package doubletick

// The HTTP side of a call: the client that sends it (and strips the key
// from a redirect to another origin), its body, its authentication, its
// answer read within bounds and decoded, and its log line.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"time"
)

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
	if rm, ok := out.(*json.RawMessage); ok { // Do's caller takes the body as it came
		*rm = nil
		if len(bytes.TrimSpace(raw)) > 0 {
			*rm = raw
		}
		return nil
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

// emptyObject is an answer documented as an object without properties, or
// as no body at all: deregister, delete-note, block and unblock.
type emptyObject struct{}

func (*emptyObject) allowsEmptyBody() {}

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
