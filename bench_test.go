package doubletick_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	// Both sides bound each request as the SDK does by default: a careful
	// hand-written call would not go without a timeout either.
	hc.Timeout = doubletick.DefaultTimeout
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
		var res doubletick.CreateGroupResult
		if err := rawPost(ctx, hc, srv.URL+"/whatsapp/wa-group/create", req, http.StatusOK, &res); err != nil || res.GroupID != "new_support_2026" {
			b.Fatal(res, err)
		}
	}
}

// rawPost is a careful hand-written JSON call: the baseline's whole work.
func rawPost(ctx context.Context, hc *http.Client, url string, in any, status int, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	hreq.Header.Set("Authorization", testKey)
	hreq.Header.Set("X-Public-Api-Key", testKey)
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	resp, err := hc.Do(hreq)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// The pair below measures what the SDK adds to one text send to a group,
// messageId generation included (the raw call sends a fixed one):
//
//	for i in 1 2 3 4 5; do go test -run '^$' -bench 'SendText(SDK|RawHTTP)$' -benchmem -count 1; done

const benchSendResponse = `{"status":"SENT","recipient":"grp_XYZ","messageId":"c2973bf3-5f7a-4f30-a927-57cfb0c66ad3"}`

func benchSendServer(b *testing.B) (*httptest.Server, *http.Client) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, benchSendResponse)
	}))
	b.Cleanup(srv.Close)
	hc := srv.Client()
	hc.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	hc.Timeout = doubletick.DefaultTimeout
	return srv, hc
}

func BenchmarkSendTextSDK(b *testing.B) {
	srv, hc := benchSendServer(b)
	c, err := doubletick.NewClient(testKey, doubletick.WithBaseURL(srv.URL), doubletick.WithHTTPClient(hc),
		doubletick.WithRateLimit(doubletick.RateLimit{Rate: 1e12, Burst: 1 << 30}))
	if err != nil {
		b.Fatal(err)
	}
	msg := &doubletick.TextMessage{Target: doubletick.Target{GroupID: "grp_XYZ"}, Text: "Welcome to the VIP group!"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, _, err := c.Messages.SendText(ctx, msg)
		if err != nil || res.Status != "SENT" {
			b.Fatal(res, err)
		}
	}
}

func BenchmarkSendTextRawHTTP(b *testing.B) {
	srv, hc := benchSendServer(b)
	type content struct {
		Text string `json:"text"`
	}
	type send struct {
		GroupID   string  `json:"groupId"`
		MessageID string  `json:"messageId"`
		Content   content `json:"content"`
	}
	msg := send{GroupID: "grp_XYZ", MessageID: "c2973bf3-5f7a-4f30-a927-57cfb0c66ad3", Content: content{"Welcome to the VIP group!"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var res doubletick.SendResult
		if err := rawPost(ctx, hc, srv.URL+"/whatsapp/message/text", msg, http.StatusCreated, &res); err != nil || res.Status != "SENT" {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkUpload streams 1 MiB and 16 MiB files to a server that discards
// them: allocations per upload must not grow with the file's size.
//
//	go test -run '^$' -bench Upload -benchmem
func BenchmarkUpload(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"mediaUrl":"https://media.example/x","expiresIn":86400}`)
	}))
	b.Cleanup(srv.Close)
	c, err := doubletick.NewClient(testKey, doubletick.WithBaseURL(srv.URL), doubletick.WithoutRateLimit())
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int64{1 << 20, doubletick.MaxMediaUploadBytes} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				if _, _, err := c.Messages.UploadMedia(context.Background(), &doubletick.MediaFile{Name: "f.bin", Size: size, Body: &slowZeros{size}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
