package webhooks

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Verification errors. Every error a [Verifier] returns matches one of the
// first four; none of them contains a secret or an expected signature.
var (
	// ErrMissingCredential: the header, parameter or signature to check is
	// not in the request.
	ErrMissingCredential = errors.New("webhooks: missing credential")
	// ErrInvalidCredential: it is there but matches no configured secret.
	ErrInvalidCredential = errors.New("webhooks: invalid credential")
	// ErrTimestampTooOld: a signed timestamp is older than the tolerance.
	ErrTimestampTooOld = errors.New("webhooks: timestamp too old")
	// ErrTimestampTooNew: a signed timestamp is further in the future than
	// the tolerance.
	ErrTimestampTooNew = errors.New("webhooks: timestamp too new")
	// ErrEmptySecret is returned when a verifier is built with no secret or
	// an empty one: a verifier that accepts everything is never built.
	ErrEmptySecret = errors.New("webhooks: empty secret")
	// ErrWeakSecret is returned when a verifier is built with a secret
	// shorter than [MinSecretLength] bytes, made only of white space, or
	// (for the values of headers and parameters) starting or ending with
	// white space, which HTTP trims and so could never match.
	ErrWeakSecret = errors.New("webhooks: weak secret")
)

// MinSecretLength is the fewest bytes a secret may have.
const MinSecretLength = 8

// Verifier checks that a webhook request comes from the sender you
// configured. body is the raw request body, already read.
//
// DoubleTick documents no signature. What a receiver can check is what it
// configured when it registered the webhook: an authorization of type BASIC
// or BEARER, custom headers, or query parameters, which DoubleTick then sends
// as they are. [NewBasicVerifier], [NewBearerVerifier], [NewHeaderVerifier]
// and [NewQueryVerifier] check those. For a receiver behind a proxy or
// gateway that signs what it forwards, [NewHMACVerifier] and
// [NewStandardVerifier] check a signature of the body.
//
// Each takes several secrets, so that a secret can be rotated without
// downtime: register the new one, deploy with both, then drop the old.
type Verifier interface {
	Verify(r *http.Request, body []byte) error
}

// RequestVerifier is a [Verifier] that needs only a request's headers and
// URL, not its body. A [Handler] runs it before it reads the body, so that a
// request without the credential is refused at once instead of being allowed
// to trickle a body in. The Basic, Bearer, header and query verifiers are
// RequestVerifiers.
type RequestVerifier interface {
	Verifier
	VerifyRequest(r *http.Request) error
}

// requestCheck is a RequestVerifier made of a function.
type requestCheck func(r *http.Request) error

// Verify checks the request; the body plays no part.
func (f requestCheck) Verify(r *http.Request, _ []byte) error { return f(r) }

// VerifyRequest checks the request's headers and URL.
func (f requestCheck) VerifyRequest(r *http.Request) error { return f(r) }

// VerifierFunc adapts a function to [Verifier].
type VerifierFunc func(r *http.Request, body []byte) error

// Verify calls f.
func (f VerifierFunc) Verify(r *http.Request, body []byte) error { return f(r, body) }

// digests holds SHA-256 digests of static secrets, so that a candidate is
// compared in constant time whatever its length.
type digests [][sha256.Size]byte

func newDigests(secrets []string) (digests, error) {
	if len(secrets) == 0 {
		return nil, ErrEmptySecret
	}
	d := make(digests, len(secrets))
	for i, s := range secrets {
		if err := checkSecret([]byte(s)); err != nil {
			return nil, fmt.Errorf("secret %d: %w", i, err)
		}
		if strings.TrimSpace(s) != s {
			return nil, fmt.Errorf("secret %d: %w: starts or ends with white space", i, ErrWeakSecret)
		}
		d[i] = sha256.Sum256([]byte(s))
	}
	return d, nil
}

// checkSecret refuses an empty, short or blank secret. Its errors never
// contain the secret.
func checkSecret(s []byte) error {
	switch {
	case len(s) == 0:
		return ErrEmptySecret
	case len(s) < MinSecretLength:
		return fmt.Errorf("%w: %d bytes, need at least %d", ErrWeakSecret, len(s), MinSecretLength)
	case len(bytes.TrimSpace(s)) == 0:
		return fmt.Errorf("%w: only white space", ErrWeakSecret)
	}
	return nil
}

// match reports whether candidate is one of the secrets, looking at all of
// them every time.
func (d digests) match(candidate string) bool {
	sum := sha256.Sum256([]byte(candidate))
	found := 0
	for i := range d {
		found |= subtle.ConstantTimeCompare(d[i][:], sum[:])
	}
	return found == 1
}

// decodeBase64 decodes canonical, padded standard base64 only. The standard
// decoder also skips CR and LF and, unless strict, ignores stray trailing
// bits: either would let several spellings of one credential pass.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line break in base64")
	}
	return base64.StdEncoding.Strict().DecodeString(s)
}

// authorization returns the credentials of the one Authorization header
// with the given scheme, compared case-insensitively. Two Authorization
// headers are refused: which one a proxy or framework reads is not defined.
func authorization(r *http.Request, scheme string) (string, error) {
	vs := r.Header.Values("Authorization")
	if len(vs) == 0 || vs[0] == "" {
		return "", fmt.Errorf("%w: no Authorization header", ErrMissingCredential)
	}
	if len(vs) > 1 {
		return "", fmt.Errorf("%w: %d Authorization headers", ErrInvalidCredential, len(vs))
	}
	v := vs[0]
	got, creds, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(got, scheme) {
		return "", fmt.Errorf("%w: Authorization is not of the %s scheme", ErrInvalidCredential, scheme)
	}
	return strings.Trim(creds, " \t"), nil // optional white space, RFC 9110 §5.6.3
}

// NewBasicVerifier checks "Authorization: Basic …" against credentials, each
// the "user:password" you registered as the BASIC authorization payload.
// DoubleTick does not document whether it base64-encodes the payload, as
// Basic requires, or sends it as registered: both forms are accepted.
func NewBasicVerifier(credentials ...string) (Verifier, error) {
	d, err := newDigests(credentials)
	if err != nil {
		return nil, err
	}
	return requestCheck(func(r *http.Request) error {
		creds, err := authorization(r, "Basic")
		if err != nil {
			return err
		}
		decoded, decErr := decodeBase64(creds)
		if (decErr == nil && d.match(string(decoded))) || d.match(creds) {
			return nil
		}
		return fmt.Errorf("%w: Basic credentials", ErrInvalidCredential)
	}), nil
}

// NewBearerVerifier checks "Authorization: Bearer <token>" against tokens,
// the BEARER authorization payloads you registered.
func NewBearerVerifier(tokens ...string) (Verifier, error) {
	d, err := newDigests(tokens)
	if err != nil {
		return nil, err
	}
	return requestCheck(func(r *http.Request) error {
		token, err := authorization(r, "Bearer")
		if err != nil {
			return err
		}
		if !d.match(token) {
			return fmt.Errorf("%w: Bearer token", ErrInvalidCredential)
		}
		return nil
	}), nil
}

// NewHeaderVerifier checks that the named header, one of the custom headers
// you registered, holds one of values.
func NewHeaderVerifier(header string, values ...string) (Verifier, error) {
	return newValueVerifier("header", header, values, func(r *http.Request) []string { return r.Header.Values(header) })
}

// NewQueryVerifier checks that the named query parameter, one of the query
// parameters you registered, holds one of values. A secret in a URL ends up
// in access logs: prefer a header where you can.
func NewQueryVerifier(param string, values ...string) (Verifier, error) {
	return newValueVerifier("query parameter", param, values, func(r *http.Request) []string { return r.URL.Query()[param] })
}

// newValueVerifier checks that lookup finds exactly one value in a request,
// and that it is one of values.
func newValueVerifier(kind, name string, values []string, lookup func(*http.Request) []string) (Verifier, error) {
	if name == "" {
		return nil, fmt.Errorf("webhooks: empty %s name", kind)
	}
	d, err := newDigests(values)
	if err != nil {
		return nil, err
	}
	return requestCheck(func(r *http.Request) error {
		vs := lookup(r)
		if len(vs) == 0 {
			return fmt.Errorf("%w: no %s %s", ErrMissingCredential, kind, name)
		}
		if len(vs) > 1 || !d.match(vs[0]) {
			return fmt.Errorf("%w: %s %s", ErrInvalidCredential, kind, name)
		}
		return nil
	}), nil
}

// Encoding is how a signature header writes the HMAC.
type Encoding int

// The encodings [NewHMACVerifier] reads.
const (
	Hex    Encoding = iota // lower- or upper-case hexadecimal
	Base64                 // standard base64, padded
)

// NewHMACVerifier checks an HMAC-SHA256 of the raw body, with any of
// secrets, in the named header, written in enc, with or without a "sha256="
// prefix. The header may list several signatures separated by commas or
// spaces; one match is enough. This scheme has no timestamp, so it cannot
// refuse a replayed request: pair it with the handler's de-duplication.
func NewHMACVerifier(header string, enc Encoding, secrets ...[]byte) (Verifier, error) {
	if header == "" {
		return nil, errors.New("webhooks: NewHMACVerifier: empty header name")
	}
	if enc != Hex && enc != Base64 {
		return nil, errors.New("webhooks: NewHMACVerifier: unknown encoding")
	}
	keys, err := copyKeys(secrets)
	if err != nil {
		return nil, err
	}
	return VerifierFunc(func(r *http.Request, body []byte) error {
		v := r.Header.Get(header)
		if v == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingCredential, header)
		}
		var sigs [4][]byte // the signatures the header lists; more are ignored
		n := 0
		for rest := v; rest != "" && n < len(sigs); {
			var field string
			field, rest = nextField(rest)
			field = strings.TrimPrefix(field, "sha256=")
			var sig []byte
			var err error // not the constructor's: requests share the closure
			if enc == Hex {
				sig, err = hex.DecodeString(field)
			} else {
				sig, err = decodeBase64(field)
			}
			if err == nil && len(sig) == sha256.Size {
				sigs[n] = sig
				n++
			}
		}
		if matchAny(keys, sigs[:n], body) {
			return nil
		}
		return fmt.Errorf("%w: %s does not match the body", ErrInvalidCredential, header)
	}), nil
}

func copyKeys(secrets [][]byte) ([][]byte, error) {
	if len(secrets) == 0 {
		return nil, ErrEmptySecret
	}
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		if err := checkSecret(s); err != nil {
			return nil, fmt.Errorf("secret %d: %w", i, err)
		}
		keys[i] = append([]byte(nil), s...)
	}
	return keys, nil
}

// nextField splits s at its first comma or space, skipping empty fields.
func nextField(s string) (field, rest string) {
	s = strings.TrimLeft(s, ", ")
	if i := strings.IndexAny(s, ", "); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// matchAny reports whether any of sigs is the HMAC-SHA256 of the
// concatenated parts under any of keys. Every key is tried, and every
// comparison is constant-time.
func matchAny(keys, sigs [][]byte, parts ...[]byte) bool {
	if len(sigs) == 0 {
		return false
	}
	var sum [sha256.Size]byte
	found := false
	for _, k := range keys {
		m := hmac.New(sha256.New, k)
		for _, p := range parts {
			m.Write(p)
		}
		mac := m.Sum(sum[:0])
		for _, sig := range sigs {
			found = hmac.Equal(mac, sig) || found
		}
	}
	return found
}

// The headers of the Standard Webhooks scheme.
const (
	HeaderWebhookID        = "Webhook-Id"
	HeaderWebhookTimestamp = "Webhook-Timestamp"
	HeaderWebhookSignature = "Webhook-Signature"
)

// DefaultTolerance is how far a signed timestamp may be from the receiver's
// clock, either way, before [NewStandardVerifier] refuses it.
const DefaultTolerance = 5 * time.Minute

// StandardOption configures [NewStandardVerifier].
type StandardOption func(*standardConfig) error

// WithTolerance sets how far a timestamp may be from now, either way: at
// least a second, the precision of the timestamp.
func WithTolerance(d time.Duration) StandardOption {
	return func(c *standardConfig) error {
		if d < time.Second {
			return fmt.Errorf("webhooks: WithTolerance: need at least 1s, got %s", d)
		}
		c.tolerance = d
		return nil
	}
}

// WithClock sets the clock timestamps are checked against.
func WithClock(now func() time.Time) StandardOption {
	return func(c *standardConfig) error {
		if now == nil {
			return errors.New("webhooks: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// standardConfig holds the options; the keys live only in the verifier's
// closure, where no printer can reach them.
type standardConfig struct {
	tolerance time.Duration
	now       func() time.Time
}

// NewStandardVerifier checks the Standard Webhooks scheme
// (https://www.standardwebhooks.com): an HMAC-SHA256 of
// "<webhook-id>.<webhook-timestamp>.<body>", base64, as "v1,<signature>"
// entries in webhook-signature, with a timestamp within the tolerance of now
// in either direction. Secrets are written "whsec_<base64>" (the prefix is
// optional). DoubleTick does not sign this way itself; use it behind a
// gateway that does.
func NewStandardVerifier(secrets []string, opts ...StandardOption) (Verifier, error) {
	raw := make([][]byte, len(secrets))
	for i, s := range secrets {
		key, err := decodeBase64(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			return nil, fmt.Errorf("webhooks: NewStandardVerifier: secret %d is not base64 after its whsec_ prefix", i)
		}
		raw[i] = key
	}
	keys, err := copyKeys(raw)
	if err != nil {
		return nil, err
	}
	c := standardConfig{tolerance: DefaultTolerance, now: time.Now}
	for _, opt := range opts {
		if err := opt(&c); err != nil {
			return nil, err
		}
	}
	return VerifierFunc(func(r *http.Request, body []byte) error {
		return c.verify(keys, r, body)
	}), nil
}

func (c *standardConfig) verify(keys [][]byte, r *http.Request, body []byte) error {
	id, ts, sigs := r.Header.Get(HeaderWebhookID), r.Header.Get(HeaderWebhookTimestamp), r.Header.Get(HeaderWebhookSignature)
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("%w: %s, %s and %s are all required", ErrMissingCredential, HeaderWebhookID, HeaderWebhookTimestamp, HeaderWebhookSignature)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not Unix seconds", ErrInvalidCredential, HeaderWebhookTimestamp)
	}
	now := c.now().Unix()
	tol := int64(c.tolerance / time.Second)
	switch {
	case secs < now-tol:
		return fmt.Errorf("%w: signed %ds ago, tolerance %s", ErrTimestampTooOld, now-secs, c.tolerance)
	case secs > now+tol:
		return fmt.Errorf("%w: signed %ds ahead, tolerance %s", ErrTimestampTooNew, secs-now, c.tolerance)
	}
	var decoded [][]byte
	for _, entry := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		if d, err := decodeBase64(sig); err == nil && len(d) == sha256.Size {
			decoded = append(decoded, d)
		}
	}
	if matchAny(keys, decoded, []byte(id), []byte{'.'}, []byte(ts), []byte{'.'}, body) {
		return nil
	}
	return fmt.Errorf("%w: no v1 signature in %s matches", ErrInvalidCredential, HeaderWebhookSignature)
}

// Authorization is the authorization a webhook is registered with at
// DoubleTick ("authorization" of the webhook registration API): Type BASIC
// (Payload "user:password") or BEARER (Payload the token). DoubleTick sends
// it back with every delivery; the same value configures both ends:
// register it with doubletick.Client.Webhooks, and check it here with
// [Authorization.Verifier].
type Authorization struct {
	// Type is "BASIC" or "BEARER".
	Type string `json:"type"`
	// Payload is the credential. It never appears in an error, a log line
	// or any fmt verb.
	Payload string `json:"payload"`
}

// The authorization types DoubleTick documents.
const (
	AuthorizationBasic  = "BASIC"
	AuthorizationBearer = "BEARER"
)

// Verifier returns the verifier that checks deliveries made with a: a
// [NewBearerVerifier] or a [NewBasicVerifier] of its payload.
func (a Authorization) Verifier() (Verifier, error) {
	switch a.Type {
	case AuthorizationBearer:
		return NewBearerVerifier(a.Payload)
	case AuthorizationBasic:
		return NewBasicVerifier(a.Payload)
	}
	return nil, fmt.Errorf("webhooks: authorization type %q: want %q or %q", a.Type, AuthorizationBasic, AuthorizationBearer)
}

// String describes a without its payload.
func (a Authorization) String() string {
	return "webhooks.Authorization{Type: " + a.Type + ", Payload: [REDACTED]}"
}

// GoString is String, so that %#v hides the payload too.
func (a Authorization) GoString() string { return a.String() }

// Format writes String for every verb.
func (a Authorization) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(a.String())) }

// LogValue makes slog record a without its payload.
func (a Authorization) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", a.Type), slog.String("payload", "[REDACTED]"))
}
