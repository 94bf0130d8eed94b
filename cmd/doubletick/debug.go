package main

// --debug: every request the API client sends and every answer, on
// standard error, with the key, webhook credentials and URL credentials
// replaced, and phone numbers too unless --debug=full.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// envDebug is the variable that turns the dump on when --debug is not
// given: "api", or "full".
const envDebug = "DOUBLETICK_DEBUG"

// The levels of the dump.
const (
	debugOff  = ""
	debugAPI  = "api"  // everything but secrets and phone numbers
	debugFull = "full" // phone numbers too; never secrets
)

// debugLevel is the dump asked for by --debug or $DOUBLETICK_DEBUG.
func (a *app) debugLevel() (string, error) {
	level := a.debugFlag
	if level == "" {
		level = a.getenv(envDebug)
	}
	switch level {
	case debugOff, debugAPI, debugFull:
		return level, nil
	case "1", "true":
		return debugAPI, nil
	}
	return "", usagef("--debug / %s %q: want api (the default) or full (phone numbers shown too)", envDebug, level)
}

// dumpLimit bounds the part of a body the dump shows.
const dumpLimit = 64 << 10

// redacted replaces a secret in the dump.
const redactedText = "[REDACTED]"

// debugTransport dumps each exchange it sends through base.
type debugTransport struct {
	base http.RoundTripper
	out  io.Writer
	mu   *sync.Mutex
	// full keeps phone numbers.
	full bool
	// secrets are replaced wherever they appear, as they are and as JSON
	// writes them.
	secrets []string
}

// newDebugTransport returns the transport of a dump at level, replacing
// secrets (the API key, the webhook secrets) besides what it recognises.
func (a *app) newDebugTransport(level string, secrets ...string) *debugTransport {
	var kept []string
	for _, s := range secrets {
		if len(s) >= 4 {
			kept = append(kept, s)
			if q := strconv.Quote(s); q[1:len(q)-1] != s {
				kept = append(kept, q[1:len(q)-1])
			}
			if e := url.QueryEscape(s); e != s {
				kept = append(kept, e)
			}
		}
	}
	// Longer first, so that a secret holding another is replaced whole.
	slices.SortFunc(kept, func(x, y string) int { return len(y) - len(x) })
	return &debugTransport{base: http.DefaultTransport, out: a.stderr, mu: &sync.Mutex{}, full: level == debugFull, secrets: kept}
}

// RoundTrip sends r and dumps it and its answer.
func (t *debugTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var reqBody []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(r)
	took := time.Since(start)
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", r.Method, t.url(r.URL))
	t.headers(&b, ">", r.Header)
	t.body(&b, ">", r.Header.Get("Content-Type"), reqBody)
	if err != nil {
		fmt.Fprintf(&b, "< (no answer after %s: %s)\n\n", took.Round(time.Millisecond), t.text(err.Error()))
		t.write(b.String())
		return nil, err
	}
	respBody, readErr := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	fmt.Fprintf(&b, "< %s %s (%s)\n", resp.Proto, resp.Status, took.Round(time.Millisecond))
	t.headers(&b, "<", resp.Header)
	t.body(&b, "<", resp.Header.Get("Content-Type"), respBody)
	if readErr != nil {
		fmt.Fprintf(&b, "< (reading the body failed: %s)\n", t.text(readErr.Error()))
	}
	b.WriteString("\n")
	t.write(b.String())
	return resp, nil
}

func (t *debugTransport) write(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = io.WriteString(t.out, s)
}

// secretHeaders are the headers that carry credentials, whatever they hold.
var secretHeaders = []string{"Authorization", "X-Public-Api-Key", "Cookie", "Set-Cookie", "Proxy-Authorization"}

// secretName matches the names of fields, parameters and headers whose
// values are credentials.
var secretName = regexp.MustCompile(`(?i)(auth|token|secret|password|passwd|apikey|api[-_]key|signature|^sig$|^key$|credential|payload)`)

// phoneName matches the names of fields and parameters whose values are
// phone numbers.
var phoneName = regexp.MustCompile(`(?i)(phone|^to$|^from$|waba|number|mobile|msisdn)`)

func (t *debugTransport) headers(b *strings.Builder, dir string, h http.Header) {
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range h[k] {
			if slices.ContainsFunc(secretHeaders, func(s string) bool { return strings.EqualFold(s, k) }) || secretName.MatchString(k) {
				v = redactedText
			}
			fmt.Fprintf(b, "%s %s: %s\n", dir, k, t.text(v))
		}
	}
}

// url is u as the dump shows it: no user information, and the values of
// its secret and phone parameters replaced.
func (t *debugTransport) url(u *url.URL) string {
	v := *u
	if v.User != nil {
		v.User = url.User(redactedText)
	}
	if v.RawQuery != "" {
		q := v.Query()
		for k, vals := range q {
			for i := range vals {
				vals[i] = t.value(k, vals[i])
			}
		}
		v.RawQuery = q.Encode()
	}
	return t.text(strings.Replace(v.String(), url.PathEscape(redactedText), redactedText, 1))
}

// value is a named value as the dump shows it.
func (t *debugTransport) value(name, v string) string {
	switch {
	case secretName.MatchString(name):
		return redactedText
	case !t.full && phoneName.MatchString(name):
		return maskPhone(v)
	}
	return v
}

// maskPhone keeps the last two digits of a phone number.
func maskPhone(v string) string {
	var b strings.Builder
	digits := 0
	for _, r := range v {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	seen := 0
	for _, r := range v {
		if unicode.IsDigit(r) {
			seen++
			if seen <= digits-2 {
				r = '•'
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// body writes a body: JSON with its secret and phone values replaced and
// indented, a form likewise, anything else as text when printable.
func (t *debugTransport) body(b *strings.Builder, dir, contentType string, body []byte) {
	if len(body) == 0 {
		return
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	var shown string
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		shown = fmt.Sprintf("(%s body, %d bytes, not shown)", mediaType, len(body))
	case mediaType == "application/x-www-form-urlencoded":
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, vals := range form {
				for i := range vals {
					vals[i] = t.value(k, vals[i])
				}
			}
			shown = form.Encode()
		}
	default:
		var v any
		if json.Unmarshal(body, &v) == nil {
			v = t.walk("", v)
			if out, err := json.MarshalIndent(v, "", "  "); err == nil {
				shown = string(out)
			}
		} else if len(body) <= dumpLimit && !bytes.ContainsFunc(body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }) {
			shown = string(body)
		} else {
			shown = fmt.Sprintf("(%d bytes of %s, not shown)", len(body), mediaType)
		}
	}
	if len(shown) > dumpLimit {
		shown = shown[:dumpLimit] + fmt.Sprintf("\n… (%d bytes in all)", len(body))
	}
	for line := range strings.Lines(t.text(shown)) {
		fmt.Fprintf(b, "%s %s", dir, line)
		if !strings.HasSuffix(line, "\n") {
			b.WriteString("\n")
		}
	}
}

// walk replaces, in a decoded JSON value, the values of secret and phone
// fields (by name, at any depth; a phone field's strings and lists of
// strings).
func (t *debugTransport) walk(name string, v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			v[k] = t.walk(k, child)
		}
		return v
	case []any:
		for i, child := range v {
			v[i] = t.walk(name, child)
		}
		return v
	case string:
		return t.value(name, v)
	case float64, bool, nil:
		if name != "" && secretName.MatchString(name) && v != nil {
			return redactedText
		}
	}
	return v
}

// urlUser matches the user information of a URL in text.
var urlUser = regexp.MustCompile(`(?i)(\b[a-z][a-z0-9+.-]*://)[^/@\s"'<>]+@`)

// urlSecretParam matches a secret parameter of a URL in text.
var urlSecretParam = regexp.MustCompile(`(?i)([?&][a-z_-]*(?:auth|token|secret|password|apikey|api_key|signature|sig|key)[a-z_-]*=)[^&\s"'<>]*`)

// text is s with every secret replaced, URL credentials included, and its
// control characters escaped.
func (t *debugTransport) text(s string) string {
	for _, secret := range t.secrets {
		s = strings.ReplaceAll(s, secret, redactedText)
	}
	s = urlUser.ReplaceAllString(s, "${1}"+redactedText+"@")
	s = urlSecretParam.ReplaceAllString(s, "${1}"+redactedText)
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		body, nl := strings.CutSuffix(line, "\n")
		b.WriteString(printable(body))
		if nl {
			b.WriteString("\n")
		}
	}
	return b.String()
}
