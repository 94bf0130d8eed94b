package webhooks_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// The seed corpus is every documented sample in testdata/samples, plus what
// the fuzzer saved under testdata/fuzz.

func addSamples(f *testing.F, add func(body []byte)) {
	files, err := filepath.Glob(filepath.Join("testdata", "samples", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatal("no samples", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

func FuzzParse(f *testing.F) {
	addSamples(f, func(b []byte) { f.Add("", b); f.Add("application/json", b) })
	f.Add("application/x-www-form-urlencoded", []byte("event=GROUP_CREATED&groupId=g&message[context][id]=1"))
	f.Add("multipart/form-data; boundary=XYZ", []byte("--XYZ\r\nContent-Disposition: form-data; name=\"event\"\r\n\r\nGROUP_CREATED\r\n--XYZ--\r\n"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		checkParsed(t, "", contentType, body)
	})
}

// pathTypes are the types FuzzParseAs decodes as: the untyped families, and
// a type this package does not decode.
var pathTypes = []webhooks.Type{webhooks.TypeMessageStatusUpdate, webhooks.TypeChatAssignedToAgent, webhooks.TypeChatUnassigned,
	webhooks.TypeConversationOpened, webhooks.TypeCloseConversation, webhooks.TypeConversationCostDeducted, webhooks.TypeMessageReceived}

func FuzzParseAs(f *testing.F) {
	addSamples(f, func(b []byte) {
		for i := range pathTypes {
			f.Add(uint8(i), "", b)
		}
	})
	f.Add(uint8(0), "application/x-www-form-urlencoded", []byte("messageId=m&status=SENT&statusTimestamp=2026-06-04T11:48:14Z&message[text]=1"))
	f.Add(uint8(5), "application/x-www-form-urlencoded", []byte("conversationId=c&customerPhone=1&wabaNumber=2&conversationType=SERVICE&countryCode=IN&cost=0"))
	f.Fuzz(func(t *testing.T, i uint8, contentType string, body []byte) {
		checkParsed(t, pathTypes[int(i)%len(pathTypes)], contentType, body)
	})
}

// keyless are the types whose payloads carry no ID or time.
var keyless = []webhooks.Type{webhooks.TypeTemplateUpdate, webhooks.TypeChatAssignedToAgent, webhooks.TypeChatUnassigned,
	webhooks.TypeConversationOpened, webhooks.TypeCloseConversation, webhooks.TypeSLAEscalated}

// checkParsed parses body as a delivery to a URL of type given and checks
// what every parse must hold.
func checkParsed(t *testing.T, given webhooks.Type, contentType string, body []byte) {
	ev, err := webhooks.ParseContentAs(given, contentType, body)
	if err != nil {
		if !errors.Is(err, webhooks.ErrMalformedPayload) || ev != nil {
			t.Fatalf("error %v with event %v", err, ev)
		}
		return
	}
	if ev.DedupKey() == "" && !slices.Contains(keyless, ev.Type()) {
		t.Fatalf("empty dedup key for %s", ev.Type())
	}
	if !json.Valid(ev.RawJSON()) {
		t.Fatalf("raw JSON is not JSON: %q", ev.RawJSON())
	}
	// The raw JSON says what the typed event says: parsed again, it is
	// the same event.
	again, err := webhooks.ParseAs(given, ev.RawJSON())
	if err != nil {
		t.Fatalf("raw JSON of a parsed event does not parse: %v", err)
	}
	if again.Type() != ev.Type() || again.DedupKey() != ev.DedupKey() || again.Group() != ev.Group() || !again.Time().Equal(ev.Time()) {
		t.Fatalf("raw JSON reads as another event: %s %s vs %s %s", ev.Type(), ev.DedupKey(), again.Type(), again.DedupKey())
	}
}

// checkVerify fails unless err is nil exactly when accepted says so, and
// otherwise matches a verification sentinel.
func checkVerify(t *testing.T, err error, accepted bool) {
	t.Helper()
	if accepted {
		if err != nil {
			t.Fatalf("a valid credential was refused: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatal("an invalid credential was accepted")
	}
	for _, s := range []error{webhooks.ErrMissingCredential, webhooks.ErrInvalidCredential, webhooks.ErrTimestampTooOld, webhooks.ErrTimestampTooNew} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error matches no sentinel: %v", err)
}

func fuzzRequest(t *testing.T, body []byte, signers ...webhookstest.Signer) *http.Request {
	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", body, signers...)
	if err != nil {
		t.Skip(err) // a header value net/http itself cannot carry
	}
	return r
}

func FuzzStaticVerifiers(f *testing.F) {
	f.Add("Bearer token-new", "token-new", "crm:pass")
	f.Add("Basic Y3JtOnBhc3M=", "h", "q")
	f.Add("basic crm:pass", "", "token-new")
	bearer, _ := webhooks.NewBearerVerifier("token-new")
	basic, _ := webhooks.NewBasicVerifier("crm:pass")
	header, _ := webhooks.NewHeaderVerifier("X-Token", "h-secret")
	query, _ := webhooks.NewQueryVerifier("token", "q-secret")
	f.Fuzz(func(t *testing.T, authorization, headerValue, queryValue string) {
		r := fuzzRequest(t, nil, webhookstest.Header("Authorization", authorization),
			webhookstest.Header("X-Token", headerValue), webhookstest.Query("token", queryValue))
		auth, hv := r.Header.Get("Authorization"), r.Header.Get("X-Token")
		checkVerify(t, bearer.Verify(r, nil), auth != "" && equalFoldPrefix(auth, "Bearer ") && trim(auth[7:]) == "token-new")
		basicOK := auth != "" && equalFoldPrefix(auth, "Basic ") && (trim(auth[6:]) == "crm:pass" || trim(auth[6:]) == "Y3JtOnBhc3M=")
		checkVerify(t, basic.Verify(r, nil), basicOK)
		checkVerify(t, header.Verify(r, nil), hv == "h-secret")
		checkVerify(t, query.Verify(r, nil), queryValue == "q-secret")
	})
}

func equalFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && http.CanonicalHeaderKey(s[:len(prefix)-1]) == http.CanonicalHeaderKey(prefix[:len(prefix)-1]) && s[len(prefix)-1] == ' '
}

func trim(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func FuzzHMACVerifier(f *testing.F) {
	key := []byte("signing-key")
	addSamples(f, func(b []byte) { f.Add(webhookstest.SignHMAC(key, webhooks.Hex, b), b) })
	f.Add("sha256=zz", []byte("{}"))
	v, _ := webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, key)
	f.Fuzz(func(t *testing.T, signature string, body []byte) {
		r := fuzzRequest(t, body, webhookstest.Header("X-Signature", signature))
		err := v.Verify(r, body)
		if err == nil {
			// Accepted: the header must hold the body's real signature.
			good := webhookstest.SignHMAC(key, webhooks.Hex, body)
			if !containsFold(r.Header.Get("X-Signature"), good) {
				t.Fatalf("accepted %q for a body whose signature is %s", signature, good)
			}
			return
		}
		checkVerify(t, err, false)
	})
}

func containsFold(haystack, hexSig string) bool {
	for i := 0; i+len(hexSig) <= len(haystack); i++ {
		if toLowerHex(haystack[i:i+len(hexSig)]) == hexSig {
			return true
		}
	}
	return false
}

func toLowerHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func FuzzStandardVerifier(f *testing.F) {
	now := time.Unix(1_768_469_400, 0)
	addSamples(f, func(b []byte) {
		sig, _ := webhookstest.SignStandard(secretA, "msg_1", now, b)
		f.Add("msg_1", strconv.FormatInt(now.Unix(), 10), sig, b)
	})
	f.Add("id", "-9223372036854775808", "v1,", []byte{})
	v, _ := webhooks.NewStandardVerifier([]string{secretA}, webhooks.WithClock(func() time.Time { return now }))
	f.Fuzz(func(t *testing.T, id, ts, signature string, body []byte) {
		r := fuzzRequest(t, body, webhookstest.Header(webhooks.HeaderWebhookID, id),
			webhookstest.Header(webhooks.HeaderWebhookTimestamp, ts), webhookstest.Header(webhooks.HeaderWebhookSignature, signature))
		err := v.Verify(r, body)
		if err == nil {
			secs, perr := strconv.ParseInt(r.Header.Get(webhooks.HeaderWebhookTimestamp), 10, 64)
			if perr != nil {
				t.Fatal("accepted an unparseable timestamp")
			}
			good, _ := webhookstest.SignStandard(secretA, r.Header.Get(webhooks.HeaderWebhookID), time.Unix(secs, 0), body)
			if !containsEntry(r.Header.Get(webhooks.HeaderWebhookSignature), good) {
				t.Fatalf("accepted %q without the real signature %s", signature, good)
			}
			return
		}
		checkVerify(t, err, false)
	})
}

func containsEntry(list, entry string) bool {
	start := 0
	for i := 0; i <= len(list); i++ {
		if i == len(list) || list[i] == ' ' || list[i] == '\t' || list[i] == '\n' || list[i] == '\r' || list[i] == '\v' || list[i] == '\f' {
			if list[start:i] == entry {
				return true
			}
			start = i + 1
		}
	}
	return false
}
