package webhooks_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

const (
	secretA = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // base64 of 24 bytes
	secretB = "whsec_" + "c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24="
)

var body = []byte(`{"event":"GROUP_CREATED","groupId":"g","groupCreatedAt":"2026-01-15T09:30:00.000Z"}`)

func request(t *testing.T, signers ...webhookstest.Signer) *http.Request {
	t.Helper()
	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", body, signers...)
	require.NoError(t, err)
	return r
}

func TestStaticVerifiers(t *testing.T) {
	basic, err := webhooks.NewBasicVerifier("crm:old-pass", "crm:new-pass")
	require.NoError(t, err)
	bearer, err := webhooks.NewBearerVerifier("token-old", "token-new")
	require.NoError(t, err)
	header, err := webhooks.NewHeaderVerifier("X-Webhook-Token", "header-old", "header-new")
	require.NoError(t, err)
	query, err := webhooks.NewQueryVerifier("token", "query-old", "query-new")
	require.NoError(t, err)

	cases := []struct {
		name   string
		v      webhooks.Verifier
		signer webhookstest.Signer
		want   error
	}{
		{"basic", basic, webhookstest.Basic("crm:new-pass"), nil},
		{"basic rotated", basic, webhookstest.Basic("crm:old-pass"), nil},
		{"basic sent as registered", basic, webhookstest.Header("Authorization", "Basic crm:new-pass"), nil},
		{"basic lower-case scheme", basic, webhookstest.Header("Authorization", "basic "+base64.StdEncoding.EncodeToString([]byte("crm:new-pass"))), nil},
		{"basic wrong", basic, webhookstest.Basic("crm:guess"), webhooks.ErrInvalidCredential},
		{"basic as bearer", basic, webhookstest.Bearer("crm:new-pass"), webhooks.ErrInvalidCredential},
		{"basic missing", basic, nil, webhooks.ErrMissingCredential},
		{"bearer", bearer, webhookstest.Bearer("token-new"), nil},
		{"bearer rotated", bearer, webhookstest.Bearer("token-old"), nil},
		{"bearer wrong", bearer, webhookstest.Bearer("token-ne"), webhooks.ErrInvalidCredential},
		{"bearer empty", bearer, webhookstest.Header("Authorization", "Bearer "), webhooks.ErrInvalidCredential},
		{"bearer missing", bearer, nil, webhooks.ErrMissingCredential},
		{"header", header, webhookstest.Header("x-webhook-token", "header-new"), nil},
		{"header wrong", header, webhookstest.Header("X-Webhook-Token", "header-new "), webhooks.ErrInvalidCredential},
		{"header missing", header, nil, webhooks.ErrMissingCredential},
		{"query", query, webhookstest.Query("token", "query-old"), nil},
		{"query wrong", query, webhookstest.Query("token", "nope"), webhooks.ErrInvalidCredential},
		{"query twice", query, func(r *http.Request, b []byte) error {
			_ = webhookstest.Query("token", "nope")(r, b)
			return webhookstest.Query("token", "query-old")(r, b)
		}, webhooks.ErrInvalidCredential},
		{"query missing", query, nil, webhooks.ErrMissingCredential},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r *http.Request
			if tc.signer != nil {
				r = request(t, tc.signer)
			} else {
				r = request(t)
			}
			err := tc.v.Verify(r, body)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.want)
			for _, secret := range []string{"old-pass", "new-pass", "token-old", "token-new", "header-old", "header-new", "query-old", "query-new"} {
				assert.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestHMACVerifier(t *testing.T) {
	oldKey, newKey := []byte("old-signing-key"), []byte("new-signing-key")
	hexV, err := webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, oldKey, newKey)
	require.NoError(t, err)
	b64V, err := webhooks.NewHMACVerifier("X-Signature", webhooks.Base64, newKey)
	require.NoError(t, err)

	good := webhookstest.SignHMAC(newKey, webhooks.Hex, body)
	cases := []struct {
		name string
		v    webhooks.Verifier
		sig  string
		body []byte
		want error
	}{
		{"hex", hexV, good, body, nil},
		{"hex upper case", hexV, toUpper(good), body, nil},
		{"sha256= prefix", hexV, "sha256=" + good, body, nil},
		{"rotated key", hexV, webhookstest.SignHMAC(oldKey, webhooks.Hex, body), body, nil},
		{"several signatures", hexV, "sha256=" + webhookstest.SignHMAC([]byte("other"), webhooks.Hex, body) + ", " + good, body, nil},
		{"base64", b64V, webhookstest.SignHMAC(newKey, webhooks.Base64, body), body, nil},
		{"body changed", hexV, good, append([]byte(" "), body...), webhooks.ErrInvalidCredential},
		{"wrong key", hexV, webhookstest.SignHMAC([]byte("guess"), webhooks.Hex, body), body, webhooks.ErrInvalidCredential},
		{"not hex", hexV, "zzzz", body, webhooks.ErrInvalidCredential},
		{"truncated", hexV, good[:40], body, webhooks.ErrInvalidCredential},
		{"hex to base64 verifier", b64V, good, body, webhooks.ErrInvalidCredential},
		{"missing", hexV, "", body, webhooks.ErrMissingCredential},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := request(t)
			if tc.sig != "" {
				r.Header.Set("X-Signature", tc.sig)
			}
			err := tc.v.Verify(r, tc.body)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), good, "the expected signature is never shown")
			assert.NotContains(t, err.Error(), "signing-key")
		})
	}
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestStandardVerifier(t *testing.T) {
	now := time.Unix(1_768_469_400, 0)
	clock := func() time.Time { return now }
	v, err := webhooks.NewStandardVerifier([]string{secretA, secretB}, webhooks.WithClock(clock), webhooks.WithTolerance(5*time.Minute))
	require.NoError(t, err)

	sign := func(secret string, ts time.Time) webhookstest.Signer {
		return webhookstest.Standard(secret, "msg_1", ts)
	}
	cases := []struct {
		name   string
		signer webhookstest.Signer
		edit   func(r *http.Request)
		want   error
	}{
		{"valid", sign(secretA, now), nil, nil},
		{"rotated secret", sign(secretB, now), nil, nil},
		{"edge of the window, past", sign(secretA, now.Add(-5*time.Minute)), nil, nil},
		{"edge of the window, future", sign(secretA, now.Add(5*time.Minute)), nil, nil},
		{"too old", sign(secretA, now.Add(-5*time.Minute-time.Second)), nil, webhooks.ErrTimestampTooOld},
		{"too new", sign(secretA, now.Add(5*time.Minute+time.Second)), nil, webhooks.ErrTimestampTooNew},
		{"wrong secret", sign("whsec_"+base64.StdEncoding.EncodeToString([]byte("not-the-secret-at-all!!")), now), nil, webhooks.ErrInvalidCredential},
		{"id swapped", sign(secretA, now), func(r *http.Request) { r.Header.Set(webhooks.HeaderWebhookID, "msg_2") }, webhooks.ErrInvalidCredential},
		{"timestamp swapped", sign(secretA, now), func(r *http.Request) {
			r.Header.Set(webhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix()+1, 10))
		}, webhooks.ErrInvalidCredential},
		{"timestamp not a number", sign(secretA, now), func(r *http.Request) { r.Header.Set(webhooks.HeaderWebhookTimestamp, "soon") }, webhooks.ErrInvalidCredential},
		{"several entries, one good", sign(secretA, now), func(r *http.Request) {
			r.Header.Set(webhooks.HeaderWebhookSignature, "v1,Zm9v v1a,bad "+r.Header.Get(webhooks.HeaderWebhookSignature))
		}, nil},
		{"only other versions", sign(secretA, now), func(r *http.Request) {
			r.Header.Set(webhooks.HeaderWebhookSignature, "v2,"+r.Header.Get(webhooks.HeaderWebhookSignature)[3:])
		}, webhooks.ErrInvalidCredential},
		{"signature missing", sign(secretA, now), func(r *http.Request) { r.Header.Del(webhooks.HeaderWebhookSignature) }, webhooks.ErrMissingCredential},
		{"id missing", sign(secretA, now), func(r *http.Request) { r.Header.Del(webhooks.HeaderWebhookID) }, webhooks.ErrMissingCredential},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := request(t, tc.signer)
			if tc.edit != nil {
				tc.edit(r)
			}
			err := v.Verify(r, body)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tc.want)
			good, _ := webhookstest.SignStandard(secretA, "msg_1", now, body)
			assert.NotContains(t, err.Error(), good[3:])
			assert.NotContains(t, err.Error(), secretA[6:])
		})
	}
}

func TestVerifiersRefuseEmptySecrets(t *testing.T) {
	_, err := webhooks.NewBasicVerifier()
	assert.ErrorIs(t, err, webhooks.ErrEmptySecret)
	_, err = webhooks.NewBearerVerifier("long-enough", "")
	assert.ErrorIs(t, err, webhooks.ErrEmptySecret)
	_, err = webhooks.NewHeaderVerifier("X-T", "")
	assert.ErrorIs(t, err, webhooks.ErrEmptySecret)
	_, err = webhooks.NewQueryVerifier("t")
	assert.ErrorIs(t, err, webhooks.ErrEmptySecret)
	_, err = webhooks.NewHMACVerifier("X-S", webhooks.Hex, nil)
	assert.ErrorIs(t, err, webhooks.ErrEmptySecret)
	_, err = webhooks.NewHMACVerifier("X-S", webhooks.Hex)
	assert.ErrorIs(t, err, webhooks.ErrEmptySecret)
	_, err = webhooks.NewStandardVerifier([]string{"whsec_"})
	assert.ErrorIs(t, err, webhooks.ErrEmptySecret)
	_, err = webhooks.NewStandardVerifier(nil)
	assert.ErrorIs(t, err, webhooks.ErrEmptySecret)

	_, err = webhooks.NewStandardVerifier([]string{"whsec_not base64!"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "not base64!")
	_, err = webhooks.NewHeaderVerifier("", "v")
	assert.Error(t, err)
	_, err = webhooks.NewHMACVerifier("X-S", webhooks.Encoding(7), []byte("signing-key"))
	assert.Error(t, err)
	_, err = webhooks.NewStandardVerifier([]string{secretA}, webhooks.WithTolerance(0))
	assert.Error(t, err)
}

func TestVerifiersRefuseWeakSecrets(t *testing.T) {
	for name, secret := range map[string]string{
		"one byte":            "k",
		"seven bytes":         "1234567",
		"white space only":    "         ",
		"leading white space": " token-secret",
		"trailing tab":        "token-secret\t",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := webhooks.NewBearerVerifier(secret)
			assert.ErrorIs(t, err, webhooks.ErrWeakSecret)
			_, err = webhooks.NewBasicVerifier(secret)
			assert.ErrorIs(t, err, webhooks.ErrWeakSecret)
			_, err = webhooks.NewHeaderVerifier("X-Token", secret)
			assert.ErrorIs(t, err, webhooks.ErrWeakSecret)
			_, err = webhooks.NewQueryVerifier("token", secret)
			assert.ErrorIs(t, err, webhooks.ErrWeakSecret)
			if strings.TrimSpace(secret) == secret || strings.TrimSpace(secret) == "" {
				_, err = webhooks.NewHMACVerifier("X-S", webhooks.Hex, []byte(secret))
				assert.ErrorIs(t, err, webhooks.ErrWeakSecret)
				_, err = webhooks.NewStandardVerifier([]string{"whsec_" + base64.StdEncoding.EncodeToString([]byte(secret))})
				assert.ErrorIs(t, err, webhooks.ErrWeakSecret)
			}
			if err != nil && len(strings.TrimSpace(secret)) > 1 {
				assert.NotContains(t, err.Error(), strings.TrimSpace(secret))
			}
		})
	}
	// An HMAC key may hold any bytes, white space at its ends included.
	_, err := webhooks.NewHMACVerifier("X-S", webhooks.Hex, []byte(" signing-key "))
	assert.NoError(t, err)
}

func TestStandardToleranceBelowASecondIsRefused(t *testing.T) {
	_, err := webhooks.NewStandardVerifier([]string{secretA}, webhooks.WithTolerance(999*time.Millisecond))
	assert.Error(t, err, "a tolerance under the timestamp's precision would truncate to 0")
	_, err = webhooks.NewStandardVerifier([]string{secretA}, webhooks.WithTolerance(time.Second))
	assert.NoError(t, err)
}

func TestBearerAndBasicRefuseTwoAuthorizationHeaders(t *testing.T) {
	bearer, err := webhooks.NewBearerVerifier("token-secret")
	require.NoError(t, err)
	basic, err := webhooks.NewBasicVerifier("crm:password")
	require.NoError(t, err)
	r := request(t)
	r.Header.Add("Authorization", "Bearer token-secret")
	r.Header.Add("Authorization", "Bearer attacker-token")
	assert.ErrorIs(t, bearer.Verify(r, body), webhooks.ErrInvalidCredential)
	r.Header.Del("Authorization")
	r.Header.Add("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("crm:password")))
	r.Header.Add("Authorization", "Bearer other")
	assert.ErrorIs(t, basic.Verify(r, body), webhooks.ErrInvalidCredential)
}

// TestVerifiersAndHandlersHideTheirSecrets prints verifiers and a handler
// holding one every way a user or a test library might.
func TestVerifiersAndHandlersHideTheirSecrets(t *testing.T) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secretA, "whsec_"))
	require.NoError(t, err)
	standard, err := webhooks.NewStandardVerifier([]string{secretA})
	require.NoError(t, err)
	hmacV, err := webhooks.NewHMACVerifier("X-S", webhooks.Hex, raw)
	require.NoError(t, err)
	bearer, err := webhooks.NewBearerVerifier(string(raw))
	require.NoError(t, err)
	for name, v := range map[string]webhooks.Verifier{"standard": standard, "hmac": hmacV, "bearer": bearer} {
		h, err := webhooks.NewHandler(v)
		require.NoError(t, err)
		var logged bytes.Buffer
		slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "verifier", v, "handler", h, "handler value", *h)
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "verifier", v, "handler", h)
		out := logged.String()
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%t", "%d"} {
			out += fmt.Sprintf(verb, v) + fmt.Sprintf(verb, h) + fmt.Sprintf(verb, *h)
		}
		var diff recorder // what testify prints in a failed assertion's diff
		assert.Equal(&diff, h, &webhooks.Handler{})
		assert.Equal(&diff, *h, webhooks.Handler{})
		require.NotEmpty(t, diff.String())
		out += diff.String()
		for _, form := range []string{string(raw), fmt.Sprintf("%x", raw), fmt.Sprint(raw), fmt.Sprintf("%q", raw), strings.TrimPrefix(secretA, "whsec_")} {
			assert.NotContains(t, out, form, name)
		}
	}
}

// TestVerifiersAreSafeForConcurrentUse shares each verifier among
// goroutines, as a Handler does across requests, and checks every answer.
func TestVerifiersAreSafeForConcurrentUse(t *testing.T) {
	key := []byte("signing-key")
	at := time.Now()
	verifier := func(v webhooks.Verifier, err error) webhooks.Verifier {
		require.NoError(t, err)
		return v
	}
	cases := []struct {
		name      string
		v         webhooks.Verifier
		good, bad webhookstest.Signer
	}{
		{"basic", verifier(webhooks.NewBasicVerifier("crm:pass")), webhookstest.Basic("crm:pass"), webhookstest.Basic("crm:guess")},
		{"bearer", verifier(webhooks.NewBearerVerifier("token-secret")), webhookstest.Bearer("token-secret"), webhookstest.Bearer("guess")},
		{"header", verifier(webhooks.NewHeaderVerifier("X-Token", "header-secret")), webhookstest.Header("X-Token", "header-secret"), webhookstest.Header("X-Token", "g")},
		{"query", verifier(webhooks.NewQueryVerifier("token", "query-secret")), webhookstest.Query("token", "query-secret"), webhookstest.Query("token", "g")},
		{"hmac hex", verifier(webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, key)),
			webhookstest.HMAC("X-Signature", webhooks.Hex, key), webhookstest.Header("X-Signature", "not hex")},
		{"hmac base64", verifier(webhooks.NewHMACVerifier("X-Signature", webhooks.Base64, key)),
			webhookstest.HMAC("X-Signature", webhooks.Base64, key), webhookstest.Header("X-Signature", "not base64!")},
		{"standard", verifier(webhooks.NewStandardVerifier([]string{secretA})),
			webhookstest.Standard(secretA, "msg_1", at), webhookstest.Standard(secretB, "msg_1", at)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			good, bad := request(t, tc.good), request(t, tc.bad)
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 200 {
						if !assert.NoError(t, tc.v.Verify(good, body)) ||
							!assert.ErrorIs(t, tc.v.Verify(bad, body), webhooks.ErrInvalidCredential) {
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// recorder is a testify TestingT that keeps what a failed assertion prints.
type recorder struct{ strings.Builder }

func (r *recorder) Errorf(format string, args ...any) { fmt.Fprintf(&r.Builder, format, args...) }
