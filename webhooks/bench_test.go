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
// organisations (the organisation in the path, looked up per request) with
// a Handler of one, all mounted on a ServeMux at a pattern with one
// wildcard, so that the ratio is the Handler's cost, not the router's (a
// wildcard costs the ServeMux about 100 ns more than an exact path). The
// 1,000 organisations are served twice: each with its own HMAC key, as in
// production ("ratio"), and all with one key ("lookup": the lookup without
// 1,000 keys' worth of cache). The sides run in blocks, each first in turn,
// so that drift of the machine and the cache one side leaves hit them
// alike (an A/A run, two single-organisation Handlers, gave 1.007 to
// 1.019); it reports each side's ns/delivery and the ratios (target: at
// most 1.05). Run it long: -benchtime 5s.
//
//	go test -run '^$' -bench WebhookOrgHandler -benchtime 5s -count 4 ./webhooks/
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
	var orgs, shared webhooks.Orgs
	// Each side cycles through n requests built alike, as a server sees a
	// new request each time: the single organisation's all signed with its
	// key, the others' each with its organisation's.
	oneReqs, reqs, sharedReqs := make([]*http.Request, n), make([]*http.Request, n), make([]*http.Request, n)
	for i := range reqs {
		if oneReqs[i], err = webhookstest.NewRequest(fmt.Sprintf("http://127.0.0.1/one/org-%04d", i), body, webhookstest.HMAC("X-Signature", webhooks.Hex, benchKey)); err != nil {
			b.Fatal(err)
		}
		if err := shared.Set(webhooks.Org{ID: fmt.Sprintf("org-%04d", i), Verifier: single}); err != nil {
			b.Fatal(err)
		}
		if sharedReqs[i], err = webhookstest.NewRequest(fmt.Sprintf("http://127.0.0.1/all/org-%04d", i), body, webhookstest.HMAC("X-Signature", webhooks.Hex, benchKey)); err != nil {
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
		if reqs[i], err = webhookstest.NewRequest("http://127.0.0.1/org/"+id, body, webhookstest.HMAC("X-Signature", webhooks.Hex, key)); err != nil {
			b.Fatal(err)
		}
	}
	many, err := webhooks.NewOrgHandler(&orgs)
	if err != nil {
		b.Fatal(err)
	}
	lookup, err := webhooks.NewOrgHandler(&shared)
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	// Paths of one length, so that the router's work is the same.
	mux.Handle("POST /one/{name}", one)
	mux.Handle("POST /org/{org}", many)
	mux.Handle("POST /all/{org}", lookup)

	var w discardWriter
	serve := func(r *http.Request) {
		r.Body = io.NopCloser(bytes.NewReader(body))
		w.code = 0
		mux.ServeHTTP(&w, r)
		if w.code != 200 {
			b.Fatal(w.code)
		}
	}
	const block = 250
	sides := []struct {
		reqs []*http.Request
		took time.Duration
	}{{reqs: oneReqs}, {reqs: sharedReqs}, {reqs: reqs}}
	rounds, next := 0, 0
	for b.Loop() {
		// Each side goes first in turn, so that none always follows the
		// same one (whose cache it would inherit).
		for k := range sides {
			side := &sides[(rounds+k)%len(sides)]
			start := time.Now()
			for i := range block {
				serve(side.reqs[(next+i)%n])
			}
			side.took += time.Since(start)
		}
		next = (next + block) % n
		rounds++
	}
	oneTime, sharedTime, manyTime := sides[0].took, sides[1].took, sides[2].took
	per := float64(rounds * block)
	b.ReportMetric(float64(oneTime.Nanoseconds())/per, "ns/one-org")
	b.ReportMetric(float64(manyTime.Nanoseconds())/per, "ns/1000-orgs")
	b.ReportMetric(float64(manyTime)/float64(oneTime), "ratio")
	b.ReportMetric(float64(sharedTime)/float64(oneTime), "lookup")
	b.ReportMetric(0, "ns/op")
}
