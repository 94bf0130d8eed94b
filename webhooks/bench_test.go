package webhooks_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// Compare in one run:
//
//	go test -run '^$' -bench Webhook -benchmem -count 6 ./webhooks/
//
// BareHMACJSON is the baseline: what a receiver writes by hand to check an
// HMAC of the body and decode it into a struct of the same fields.

var benchKey = []byte("benchmark-signing-key")

func benchPayload(b *testing.B) ([]byte, *http.Request) {
	body := sample(b, "s4_participant_joined.json")
	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", body, webhookstest.HMAC("X-Signature", webhooks.Hex, benchKey))
	if err != nil {
		b.Fatal(err)
	}
	return body, r
}

func BenchmarkWebhookBareHMACJSON(b *testing.B) {
	body, r := benchPayload(b)
	type joined struct {
		Event               string    `json:"event"`
		OrgID               string    `json:"orgId"`
		IntegrationID       string    `json:"integrationId"`
		GroupID             string    `json:"groupId"`
		GroupName           string    `json:"groupName"`
		CustomerPhone       string    `json:"customerPhone"`
		ParticipantJoinedAt time.Time `json:"participantJoinedAt"`
	}
	b.ReportAllocs()
	for b.Loop() {
		sig, err := hex.DecodeString(r.Header.Get("X-Signature"))
		if err != nil {
			b.Fatal(err)
		}
		m := hmac.New(sha256.New, benchKey)
		m.Write(body)
		if !hmac.Equal(m.Sum(nil), sig) {
			b.Fatal("bad signature")
		}
		var ev joined
		if err := json.Unmarshal(body, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWebhookVerifyParse(b *testing.B) {
	body, r := benchPayload(b)
	v, err := webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, benchKey)
	if err != nil {
		b.Fatal(err)
	}
	verifyAndParse(b, v, r, body)
}

func BenchmarkWebhookBearerParse(b *testing.B) {
	body := sample(b, "s4_participant_joined.json")
	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", body, webhookstest.Bearer("benchmark-token"))
	if err != nil {
		b.Fatal(err)
	}
	v, err := webhooks.NewBearerVerifier("benchmark-token")
	if err != nil {
		b.Fatal(err)
	}
	verifyAndParse(b, v, r, body)
}

// verifyAndParse is the loop both verifier benchmarks measure.
func verifyAndParse(b *testing.B, v webhooks.Verifier, r *http.Request, body []byte) {
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
		if _, err := webhooks.Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWebhookHandler serves one signed delivery through the Handler;
// only the body is renewed between iterations.
func BenchmarkWebhookHandler(b *testing.B) {
	body, r := benchPayload(b)
	v, err := webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, benchKey)
	if err != nil {
		b.Fatal(err)
	}
	h, err := webhooks.NewHandler(v)
	if err != nil {
		b.Fatal(err)
	}
	var w discardWriter
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		w.code = 0
		h.ServeHTTP(&w, r)
		if w.code != 200 {
			b.Fatal(w.code)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	header http.Header
	code   int
}

func (w *discardWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
