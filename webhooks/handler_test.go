package webhooks_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const token = "registered-bearer-token"

func bearer(t testing.TB) webhooks.Verifier {
	v, err := webhooks.NewBearerVerifier(token)
	require.NoError(t, err)
	return v
}

func serve(t *testing.T, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func post(t *testing.T, payload []byte, signers ...webhookstest.Signer) *http.Request {
	t.Helper()
	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", payload, signers...)
	require.NoError(t, err)
	return r
}

func TestHandlerRunsTypedCallbacks(t *testing.T) {
	var got []string
	h, err := webhooks.NewHandler(bearer(t),
		webhooks.OnGroupCreated(func(_ context.Context, e *webhooks.GroupCreated) error {
			got = append(got, "created "+e.GroupID)
			return nil
		}),
		webhooks.OnParticipantJoined(func(_ context.Context, e *webhooks.ParticipantJoined) error {
			got = append(got, "joined "+e.Phone.E164)
			return nil
		}),
		webhooks.OnParticipantLeft(func(_ context.Context, e *webhooks.ParticipantLeft) error {
			got = append(got, "left "+e.Phone.E164)
			return nil
		}),
		webhooks.OnParticipantRemoved(func(_ context.Context, e *webhooks.ParticipantRemoved) error {
			got = append(got, "removed "+e.Phone.E164)
			return nil
		}),
		webhooks.OnGroupMessageReceived(func(_ context.Context, e *webhooks.GroupMessageReceived) error {
			got = append(got, "message "+e.Message.Text)
			return nil
		}),
		webhooks.OnEvent(func(_ context.Context, e webhooks.Event) error {
			got = append(got, "any "+string(e.Type()))
			return nil
		}),
	)
	require.NoError(t, err)
	for _, file := range []string{"s4_group_created.json", "s3_participant_joined.json", "s4_participant_left.json", "s4_participant_removed.json", "s4_group_message.json"} {
		rec := serve(t, h, post(t, sample(t, file), webhookstest.Bearer(token)))
		assert.Equal(t, http.StatusOK, rec.Code, file)
	}
	rec := serve(t, h, post(t, []byte(`{"event":"GROUP_ADMIN_PROMOTED","groupId":"g"}`), webhookstest.Bearer(token)))
	assert.Equal(t, http.StatusOK, rec.Code, "an unknown event is acknowledged")
	assert.Equal(t, []string{
		"created grp_01HX9abc123", "any GROUP_CREATED",
		"joined +919999999999", "any GROUP_PARTICIPANT_JOINED",
		"left +919876543210", "any GROUP_PARTICIPANT_LEFT",
		"removed +919876543210", "any GROUP_PARTICIPANT_REMOVED",
		"message Hello everyone", "any WA_GROUP_MESSAGE_RECEIVED",
		"any GROUP_ADMIN_PROMOTED",
	}, got)
}

func TestHandlerStatuses(t *testing.T) {
	failing := errors.New("database down")
	h, err := webhooks.NewHandler(bearer(t), webhooks.WithMaxBodySize(4096),
		webhooks.OnGroupCreated(func(_ context.Context, e *webhooks.GroupCreated) error {
			if e.GroupID == "fail" {
				return failing
			}
			return nil
		}))
	require.NoError(t, err)
	good := sample(t, "s4_group_created.json")

	cases := []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"ok", func() *http.Request { return post(t, good, webhookstest.Bearer(token)) }, 200},
		{"GET", func() *http.Request {
			r := post(t, good, webhookstest.Bearer(token))
			r.Method = http.MethodGet
			return r
		}, 405},
		{"no credential", func() *http.Request { return post(t, good) }, 401},
		{"wrong credential", func() *http.Request { return post(t, good, webhookstest.Bearer("guess")) }, 401},
		{"truncated JSON", func() *http.Request { return post(t, good[:30], webhookstest.Bearer(token)) }, 400},
		{"empty body", func() *http.Request { return post(t, nil, webhookstest.Bearer(token)) }, 400},
		{"wrong types", func() *http.Request {
			return post(t, []byte(`{"event":"GROUP_CREATED","groupCreatedAt":12}`), webhookstest.Bearer(token))
		}, 400},
		{"huge body", func() *http.Request { return post(t, bytes.Repeat([]byte("x"), 5000), webhookstest.Bearer(token)) }, 413},
		{"huge body, no length", func() *http.Request {
			r := post(t, nil, webhookstest.Bearer(token))
			r.Body = io.NopCloser(io.LimitReader(neverEnding('x'), 1<<30))
			r.ContentLength = -1
			return r
		}, 413},
		{"callback fails", func() *http.Request {
			return post(t, created("fail"), webhookstest.Bearer(token))
		}, 500},
		{"form data to a JSON webhook", func() *http.Request {
			return post(t, []byte("event=GROUP_CREATED"), webhookstest.Bearer(token), webhookstest.Header("Content-Type", "application/x-www-form-urlencoded"))
		}, 415},
		{"no Content-Type", func() *http.Request {
			r := post(t, good, webhookstest.Bearer(token))
			r.Header.Del("Content-Type")
			return r
		}, 415},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(t, h, tc.req())
			assert.Equal(t, tc.want, rec.Code)
			assert.NotContains(t, rec.Body.String(), token)
			assert.NotContains(t, rec.Body.String(), "database down", "callback errors stay on the server")
			if tc.want == 405 {
				assert.Equal(t, "POST", rec.Header().Get("Allow"))
			}
		})
	}
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestHandlerMethodsAreConfigurable(t *testing.T) {
	h, err := webhooks.NewHandler(bearer(t), webhooks.WithMethods("put", "POST"))
	require.NoError(t, err)
	r := post(t, sample(t, "s4_group_created.json"), webhookstest.Bearer(token))
	r.Method = http.MethodPut
	assert.Equal(t, 200, serve(t, h, r).Code)
	r.Method = http.MethodPatch
	rec := serve(t, h, r)
	assert.Equal(t, 405, rec.Code)
	assert.Equal(t, "PUT, POST", rec.Header().Get("Allow"))
}

func TestHandlerAcceptsFormData(t *testing.T) {
	var joined *webhooks.ParticipantJoined
	h, err := webhooks.NewHandler(bearer(t), webhooks.WithBodyFormat(webhooks.BodyFormData), webhooks.OnParticipantJoined(func(_ context.Context, e *webhooks.ParticipantJoined) error {
		joined = e
		return nil
	}))
	require.NoError(t, err)
	r := post(t, []byte("event=GROUP_PARTICIPANT_JOINED&orgId=o&integrationId=i&groupId=g1&groupName=G&customerPhone=%2B919876543210&participantJoinedAt=2026-01-15T10%3A00%3A00.000Z"),
		webhookstest.Bearer(token), webhookstest.Header("Content-Type", "application/x-www-form-urlencoded"))
	require.Equal(t, 200, serve(t, h, r).Code)
	require.NotNil(t, joined)
	assert.Equal(t, "+919876543210", joined.Phone.E164)
	assert.Equal(t, "g1", joined.GroupID)

	json := post(t, sample(t, "s4_participant_joined.json"), webhookstest.Bearer(token))
	assert.Equal(t, 415, serve(t, h, json).Code, "a FORM_DATA webhook takes no JSON")
}

// created returns a GROUP_CREATED payload of the newer format.
func created(groupID string) []byte {
	return []byte(`{"event":"GROUP_CREATED","orgId":"o","integrationId":"i","groupId":"` + groupID +
		`","groupName":"G","inviteLink":null,"groupCreatedAt":"2026-01-15T09:30:00.000Z"}`)
}

func TestHandlerDeduplicates(t *testing.T) {
	dedup, err := webhooks.NewMemoryDeduplicator(time.Hour, 1000)
	require.NoError(t, err)
	var calls atomic.Int32
	var failNext atomic.Bool
	h, err := webhooks.NewHandler(bearer(t), webhooks.WithDeduplicator(dedup),
		webhooks.OnParticipantJoined(func(context.Context, *webhooks.ParticipantJoined) error {
			calls.Add(1)
			if failNext.CompareAndSwap(true, false) {
				return errors.New("transient")
			}
			return nil
		}))
	require.NoError(t, err)
	joined := sample(t, "s4_participant_joined.json")

	// The same event in the other format and with the phone written without
	// "+" is the same event.
	older := []byte(`{"groupId":"grp_01HX9abc123","customerPhone":"919876543210","participantJoinedAt":"2026-01-15T10:00:00.000Z"}`)
	failNext.Store(true)
	assert.Equal(t, 500, serve(t, h, post(t, joined, webhookstest.Bearer(token))).Code, "a failed callback is not acknowledged")
	assert.Equal(t, 200, serve(t, h, post(t, joined, webhookstest.Bearer(token))).Code, "the redelivery runs the callback again")
	assert.Equal(t, 200, serve(t, h, post(t, joined, webhookstest.Bearer(token))).Code)
	assert.Equal(t, 200, serve(t, h, post(t, older, webhookstest.Bearer(token))).Code)
	assert.Equal(t, int32(2), calls.Load(), "handled once after the failure, never again")

	// Concurrent redeliveries of one event run its callback once; those
	// that arrive while it runs are asked to come back.
	calls.Store(0)
	other := bytes.Replace(joined, []byte("10:00:00.000Z"), []byte("10:05:00.000Z"), 1)
	var wg sync.WaitGroup
	var acked atomic.Int32
	for range 50 {
		wg.Go(func() {
			switch code := serve(t, h, post(t, other, webhookstest.Bearer(token))).Code; code {
			case 200:
				acked.Add(1)
			default:
				assert.Equal(t, 503, code)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), calls.Load())
	assert.GreaterOrEqual(t, acked.Load(), int32(1))
	assert.Equal(t, 200, serve(t, h, post(t, other, webhookstest.Bearer(token))).Code)
	assert.Equal(t, int32(1), calls.Load())
}

// TestHandlerNeverAcknowledgesAnEventStillRunning holds a callback open,
// sends the same event again, then lets the first delivery fail: no answer
// may have been 2xx, and the next delivery runs the callback.
func TestHandlerNeverAcknowledgesAnEventStillRunning(t *testing.T) {
	dedup, err := webhooks.NewMemoryDeduplicator(time.Hour, 1000)
	require.NoError(t, err)
	started, finish := make(chan struct{}), make(chan error)
	var calls atomic.Int32
	h, err := webhooks.NewHandler(bearer(t), webhooks.WithDeduplicator(dedup),
		webhooks.OnParticipantJoined(func(context.Context, *webhooks.ParticipantJoined) error {
			if calls.Add(1) == 1 {
				close(started)
				return <-finish
			}
			return nil
		}))
	require.NoError(t, err)
	joined := sample(t, "s4_participant_joined.json")

	first, second := make(chan int), make(chan int)
	go func() { first <- serve(t, h, post(t, joined, webhookstest.Bearer(token))).Code }()
	<-started
	// A redelivery during the callback waits for it: DoubleTick would not
	// send it again after an error.
	go func() { second <- serve(t, h, post(t, joined, webhookstest.Bearer(token))).Code }()
	select {
	case code := <-second:
		t.Fatalf("the redelivery was answered %d while the first delivery's callback ran", code)
	case <-time.After(50 * time.Millisecond):
	}
	finish <- errors.New("database down")
	assert.Equal(t, 500, <-first)
	assert.Equal(t, 200, <-second, "the redelivery ran the callback itself once the first failed")
	assert.Equal(t, int32(2), calls.Load(), "the event was handled after all")

	// A redelivery whose request ends while it waits is answered 503.
	calls.Store(0)
	started, finish = make(chan struct{}), make(chan error)
	later := sample(t, "s4_participant_left.json")
	h2, err := webhooks.NewHandler(bearer(t), webhooks.WithDeduplicator(dedup),
		webhooks.OnParticipantLeft(func(context.Context, *webhooks.ParticipantLeft) error {
			if calls.Add(1) == 1 {
				close(started)
				return <-finish
			}
			return nil
		}))
	require.NoError(t, err)
	go func() { first <- serve(t, h2, post(t, later, webhookstest.Bearer(token))).Code }()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := serve(t, h2, post(t, later, webhookstest.Bearer(token)).WithContext(ctx))
	assert.Equal(t, 503, rec.Code)
	assert.Equal(t, "5", rec.Header().Get("Retry-After"))
	finish <- nil
	assert.Equal(t, 200, <-first)
}

func TestHandlerRecoversPanickingCallbacks(t *testing.T) {
	dedup, err := webhooks.NewMemoryDeduplicator(time.Hour, 1000)
	require.NoError(t, err)
	var logs bytes.Buffer
	var calls atomic.Int32
	h, err := webhooks.NewHandler(bearer(t), webhooks.WithDeduplicator(dedup),
		webhooks.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		webhooks.OnParticipantJoined(func(context.Context, *webhooks.ParticipantJoined) error {
			if calls.Add(1) == 1 {
				panic("a bug in the callback")
			}
			return nil
		}))
	require.NoError(t, err)
	joined := sample(t, "s4_participant_joined.json")
	assert.Equal(t, 500, serve(t, h, post(t, joined, webhookstest.Bearer(token))).Code)
	assert.Contains(t, logs.String(), "webhook callback panicked")
	assert.Contains(t, logs.String(), "a bug in the callback")
	assert.Contains(t, logs.String(), "handler_test.go", "the stack is logged")

	assert.Equal(t, 200, serve(t, h, post(t, joined, webhookstest.Bearer(token))).Code, "the claim was released")
	assert.Equal(t, int32(2), calls.Load())

	var pe *webhooks.PanicError
	err = h.Dispatch(context.Background(), mustParse(t, created("g")))
	assert.NoError(t, err)
	h2, err := webhooks.NewHandler(bearer(t), webhooks.OnEvent(func(context.Context, webhooks.Event) error { panic("oops") }))
	require.NoError(t, err)
	err = h2.Dispatch(context.Background(), mustParse(t, created("g")))
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "oops", pe.Value)
}

func mustParse(t *testing.T, body []byte) webhooks.Event {
	t.Helper()
	ev, err := webhooks.Parse(body)
	require.NoError(t, err)
	return ev
}

// TestHandlerChecksHeaderCredentialsBeforeTheBody sends a request without a
// credential whose body never ends: it must be refused without reading it.
func TestHandlerChecksHeaderCredentialsBeforeTheBody(t *testing.T) {
	h, err := webhooks.NewHandler(bearer(t))
	require.NoError(t, err)
	r := post(t, nil)
	body := &countingReader{r: io.LimitReader(neverEnding('x'), 1<<30)}
	r.Body = io.NopCloser(body)
	r.ContentLength = -1
	assert.Equal(t, 401, serve(t, h, r).Code)
	assert.Zero(t, body.n.Load(), "not one byte read")
}

func TestHandlerAnswersATricklingUnverifiedSenderAtOnce(t *testing.T) {
	h, err := webhooks.NewHandler(bearer(t))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	// A small body announced, a few bytes of it sent, then nothing: net/http
	// would read the rest before answering unless the answer closes the
	// connection.
	_, err = fmt.Fprintf(conn, "POST /hooks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-token-123\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"event\":")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second))) // a bound, not a measurement
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "answered although the body never came")
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.True(t, resp.Close, "the connection is not kept for the rest of the body")
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestMemoryDeduplicatorIsBounded(t *testing.T) {
	d, err := webhooks.NewMemoryDeduplicator(time.Hour, 100)
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 10_000 {
		state, err := d.Claim(ctx, fmt.Sprint("k", i))
		require.NoError(t, err)
		require.Equal(t, webhooks.Claimed, state)
		if i%3 == 0 {
			require.NoError(t, d.Release(ctx, fmt.Sprint("k", i)))
		} else {
			require.NoError(t, d.Complete(ctx, fmt.Sprint("k", i)))
		}
	}
	assert.LessOrEqual(t, d.Len(), 100)
	state, _ := d.Claim(ctx, "k9998")
	assert.Equal(t, webhooks.Done, state, "recent keys are remembered")
	state, _ = d.Claim(ctx, "k0")
	assert.Equal(t, webhooks.Claimed, state, "the oldest were forgotten")

	_, err = webhooks.NewMemoryDeduplicator(0, 1)
	assert.Error(t, err)
}

func TestMiddlewareRefusesOptionsItWouldIgnore(t *testing.T) {
	dedup, err := webhooks.NewMemoryDeduplicator(time.Hour, 100)
	require.NoError(t, err)
	for _, opt := range []webhooks.HandlerOption{
		webhooks.OnGroupCreated(func(context.Context, *webhooks.GroupCreated) error { return nil }),
		webhooks.OnEvent(func(context.Context, webhooks.Event) error { return nil }),
		webhooks.WithDeduplicator(dedup),
	} {
		_, err := webhooks.Middleware(bearer(t), opt)
		assert.ErrorContains(t, err, "Middleware runs no callback")
	}
	_, err = webhooks.Middleware(bearer(t), webhooks.WithMaxBodySize(1024))
	assert.NoError(t, err, "the limits apply")
}

func TestMiddlewareVerifiesAndRestoresTheBody(t *testing.T) {
	mw, err := webhooks.Middleware(bearer(t))
	require.NoError(t, err)
	var seen []byte
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = io.ReadAll(r.Body)
		assert.Equal(t, int64(len(seen)), r.ContentLength)
		w.WriteHeader(http.StatusAccepted)
	})
	h := mw(next)
	payload := sample(t, "s4_group_created.json")

	rec := serve(t, h, post(t, payload, webhookstest.Bearer(token)))
	assert.Equal(t, http.StatusAccepted, rec.Code)
	assert.Equal(t, payload, seen, "the next handler reads the whole body")

	seen = nil
	assert.Equal(t, 401, serve(t, h, post(t, payload, webhookstest.Bearer("nope"))).Code)
	assert.Nil(t, seen, "a refused request never reaches the next handler")
}

func TestNewHandlerRejectsBadOptions(t *testing.T) {
	_, err := webhooks.NewHandler(nil)
	assert.Error(t, err, "every webhook must be verified")
	for name, opt := range map[string]webhooks.HandlerOption{
		"no methods":      webhooks.WithMethods(),
		"zero body":       webhooks.WithMaxBodySize(0),
		"nil dedup":       webhooks.WithDeduplicator(nil),
		"nil logger":      webhooks.WithLogger(nil),
		"nil OnEvent":     webhooks.OnEvent(nil),
		"nil typed":       webhooks.OnGroupCreated(nil),
		"nil typed other": webhooks.OnParticipantLeft(nil),
	} {
		_, err := webhooks.NewHandler(bearer(t), opt)
		assert.Error(t, err, name)
	}
}

func TestHandlerOverLoopbackHTTP(t *testing.T) {
	var got atomic.Int32
	h, err := webhooks.NewHandler(bearer(t), webhooks.OnEvent(func(context.Context, webhooks.Event) error {
		got.Add(1)
		return nil
	}))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	r, err := webhookstest.NewRequest(srv.URL+"/hooks", sample(t, "s4_group_message.json"), webhookstest.Bearer(token))
	require.NoError(t, err)
	resp, err := srv.Client().Do(r)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, int32(1), got.Load())
	assert.False(t, strings.Contains(resp.Header.Get("Content-Type"), "html"))
}
