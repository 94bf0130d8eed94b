package doubletick_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/doubletick-go/doubletick"
)

// The pair below measures what the SDK adds to one Create: the same server,
// the same body, the same HTTP client and headers. Compare them in one run:
//
//	go test -run '^$' -bench 'Create(SDK|RawHTTP)$' -benchmem -count 10

const benchResponse = `{"success":true,"groupId":"new_support_2026","wabaNumber":"911111111111"}`

func benchServer(b *testing.B) (*httptest.Server, *http.Client) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, benchResponse)
	}))
	b.Cleanup(srv.Close)
	hc := srv.Client()
	hc.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	return srv, hc
}

func benchRequest() *doubletick.CreateGroupRequest {
	return &doubletick.CreateGroupRequest{
		WABANumber:       "911111111111",
		Subject:          "New Support – Jan 2026",
		Description:      "Private support group for new customers.",
		JoinApprovalMode: doubletick.JoinApprovalRequired,
		GroupID:          "new_support_2026",
	}
}

func BenchmarkCreateSDK(b *testing.B) {
	srv, hc := benchServer(b)
	// A limit no call waits for: the limiter's bookkeeping is measured, not
	// its throttling.
	c, err := doubletick.NewClient(testKey, doubletick.WithBaseURL(srv.URL), doubletick.WithHTTPClient(hc),
		doubletick.WithRateLimit(doubletick.RateLimit{Rate: 1e12, Burst: 1 << 30}))
	if err != nil {
		b.Fatal(err)
	}
	req := benchRequest()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, _, err := c.Groups.Create(ctx, req)
		if err != nil || res.GroupID != "new_support_2026" {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkCreateRawHTTP is the baseline: what a careful hand-written call
// does, with no validation, typed errors or rate-limit parsing.
func BenchmarkCreateRawHTTP(b *testing.B) {
	srv, hc := benchServer(b)
	req := benchRequest()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		body, err := json.Marshal(req)
		if err != nil {
			b.Fatal(err)
		}
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/whatsapp/wa-group/create", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		hreq.Header.Set("Authorization", testKey)
		hreq.Header.Set("X-Public-Api-Key", testKey)
		hreq.Header.Set("Content-Type", "application/json")
		hreq.Header.Set("Accept", "application/json")
		resp, err := hc.Do(hreq)
		if err != nil {
			b.Fatal(err)
		}
		var res doubletick.CreateGroupResult
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || res.GroupID != "new_support_2026" {
			b.Fatal(resp.StatusCode, err)
		}
	}
}
