package webhooks_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// BenchmarkWebhookOrgHandler compares, in one run, a Handler of 1,000
// organisations (each its own HMAC key, the organisation in the path,
// looked up per request) with a Handler of one. Both are mounted on a
// ServeMux at a pattern with one wildcard, so that the ratio is the
// Handler's cost, not the router's (a wildcard costs the ServeMux about
// 100 ns more than an exact path; with the single one at an exact path the
// ratio is about 1.10). The two are run in alternating blocks, so that
// drift of the machine hits both alike; it reports each side's
// ns/delivery and their ratio (target: at most 1.05).
//
//	go test -run '^$' -bench WebhookOrgHandler -count 6 ./webhooks/
func BenchmarkWebhookOrgHandler(b *testing.B) {
	const n = 1000
	body := sample(b, "s4_participant_joined.json")
	single, err := webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, benchKey)
	if err != nil {
		b.Fatal(err)
	}
	one, err := webhooks.NewHandler(single)
	if err != nil {
		b.Fatal(err)
	}
	var orgs webhooks.Orgs
	// Each side cycles through n requests built alike, as a server sees a
	// new request each time: the single organisation's all signed with its
	// key, the others' each with its organisation's.
	oneReqs, reqs := make([]*http.Request, n), make([]*http.Request, n)
	for i := range reqs {
		if oneReqs[i], err = webhookstest.NewRequest("http://127.0.0.1/single/x", body, webhookstest.HMAC("X-Signature", webhooks.Hex, benchKey)); err != nil {
			b.Fatal(err)
		}
		id := fmt.Sprintf("org-%04d", i)
		key := []byte(fmt.Sprintf("benchmark-signing-key-%04d", i))
		v, err := webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, key)
		if err != nil {
			b.Fatal(err)
		}
		if err := orgs.Set(webhooks.Org{ID: id, Verifier: v}); err != nil {
			b.Fatal(err)
		}
		if reqs[i], err = webhookstest.NewRequest("http://127.0.0.1/hooks/"+id, body, webhookstest.HMAC("X-Signature", webhooks.Hex, key)); err != nil {
			b.Fatal(err)
		}
	}
	many, err := webhooks.NewOrgHandler(&orgs)
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /single/{name}", one)
	mux.Handle("POST /hooks/{org}", many)

	var w discardWriter
	serve := func(r *http.Request) {
		r.Body = io.NopCloser(bytes.NewReader(body))
		w.code = 0
		mux.ServeHTTP(&w, r)
		if w.code != 200 {
			b.Fatal(w.code)
		}
	}
	const block = 64
	var oneTime, manyTime time.Duration
	rounds, next := 0, 0
	for b.Loop() {
		start := time.Now()
		for i := range block {
			serve(oneReqs[(next+i)%n])
		}
		mid := time.Now()
		for i := range block {
			serve(reqs[(next+i)%n])
		}
		next = (next + block) % n
		oneTime, manyTime = oneTime+mid.Sub(start), manyTime+time.Since(mid)
		rounds++
	}
	per := float64(rounds * block)
	b.ReportMetric(float64(oneTime.Nanoseconds())/per, "ns/one-org")
	b.ReportMetric(float64(manyTime.Nanoseconds())/per, "ns/1000-orgs")
	b.ReportMetric(float64(manyTime)/float64(oneTime), "ratio")
	b.ReportMetric(0, "ns/op")
}
