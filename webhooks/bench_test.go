package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

func BenchmarkWebhookHandler(b *testing.B) {
	body, _ := benchPayload(b)
	v, err := webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, benchKey)
	if err != nil {
		b.Fatal(err)
	}
	h, err := webhooks.NewHandler(v)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", body, webhookstest.HMAC("X-Signature", webhooks.Hex, benchKey))
		if err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
