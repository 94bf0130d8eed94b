package doubleticktest_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
)

// control calls the control API as a program in another language would.
func control(t *testing.T, srv *doubleticktest.Server, method, name, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+doubleticktest.ControlPath+name, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", doubleticktest.APIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestControlAPIDrivesTheFakeOverHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := doubleticktest.NewServer(doubleticktest.WithListener(ln), doubleticktest.WithControlAPI(), doubleticktest.WithCreationDelay(0))
	defer srv.Close()
	assert.Equal(t, "http://"+ln.Addr().String(), srv.URL, "served on the listener given")

	const token = "control-token-123"
	v, err := webhooks.NewBearerVerifier(token)
	require.NoError(t, err)
	h, err := webhooks.NewHandler(v)
	require.NoError(t, err)
	receiver := httptest.NewServer(h)
	defer receiver.Close()

	status, body := control(t, srv, http.MethodPost, "receivers",
		`{"url":"`+receiver.URL+`","authorization":{"type":"BEARER","payload":"`+token+`"},"bodyFormat":"JSON"}`)
	require.Equal(t, http.StatusOK, status, body)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err = srv.Client().Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "VIP", GroupID: "vip"})
	require.NoError(t, err)
	require.NoError(t, srv.WaitCreated(ctx, "vip"))

	for _, c := range []struct{ name, body string }{
		{"join", `{"groupId":"vip","phone":"+919876543210","name":"Asha"}`},
		{"message", `{"groupId":"vip","from":"+919876543210","text":"hi"}`},
		{"leave", `{"groupId":"vip","phone":"+919876543210"}`},
	} {
		status, body := control(t, srv, http.MethodPost, c.name, c.body)
		require.Equal(t, http.StatusOK, status, "%s: %s", c.name, body)
	}
	require.NoError(t, srv.WaitDeliveries(ctx, 4))
	status, body = control(t, srv, http.MethodGet, "deliveries", "")
	require.Equal(t, http.StatusOK, status)
	var deliveries []struct {
		Event  string `json:"event"`
		Status int    `json:"status"`
		OK     bool   `json:"ok"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &deliveries))
	require.Len(t, deliveries, 4)
	for _, d := range deliveries {
		assert.True(t, d.OK, "%+v", d)
	}

	// Faults set over HTTP hit the API, not the controls.
	before := srv.Requests()
	status, body = control(t, srv, http.MethodPost, "fail-next", `{"n":1,"status":503}`)
	require.Equal(t, http.StatusOK, status, body)
	status, body = control(t, srv, http.MethodGet, "groups", "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"vip"`)
	assert.Equal(t, before, srv.Requests(), "controls are not API requests")
	c, err := srv.NewClient(doubletick.WithMaxAttempts(1), doubletick.WithoutRateLimit())
	require.NoError(t, err)
	_, _, err = c.Groups.Get(ctx, "vip")
	var apiErr *doubletick.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)

	// Refusals say why; the controls need the key.
	for _, c := range []struct{ method, name, body, want string }{
		{http.MethodPost, "join", `{"groupId":"nope","phone":"+919876543210"}`, "no such group"},
		{http.MethodPost, "fail-next", `{"n":1,"status":200}`, "status from 400"},
		{http.MethodPost, "latency", `{"latency":"soon"}`, "duration"},
		{http.MethodPost, "join", `not json`, "not a JSON object; /_doubleticktest/join takes groupId, phone (and optionally name)"},
		{http.MethodGet, "nothing", ``, "no control"},
		// A message's sender is from: a body that says phone is refused by name.
		{http.MethodPost, "message", `{"groupId":"g","phone":"+919876543210","text":"hi"}`,
			"unknown field(s) phone; missing from: /_doubleticktest/message takes from, groupId, text"},
		{http.MethodPost, "join", `{"groupId":"g"}`, "missing phone"},
	} {
		status, body := control(t, srv, c.method, c.name, c.body)
		assert.GreaterOrEqual(t, status, 400, c.name)
		assert.Contains(t, body, c.want, c.name)
	}
	// GET ControlPath lists the controls and their bodies.
	status, body = control(t, srv, http.MethodGet, "", "")
	assert.Equal(t, http.StatusOK, status)
	var index struct {
		Controls []struct {
			Method, Path, Does string
			Body               map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &index))
	found := false
	for _, c := range index.Controls {
		if c.Path == doubleticktest.ControlPath+"message" {
			found = true
			assert.Equal(t, map[string]string{"groupId": "required", "from": "required", "text": "required"}, c.Body)
		}
	}
	assert.True(t, found, "the index lists message")
	assert.GreaterOrEqual(t, len(index.Controls), 13)
	resp, err := http.Post(srv.URL+doubleticktest.ControlPath+"join", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestWithListenerRefusesAnAddressBeyondLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	require.NoError(t, err)
	defer ln.Close()
	assert.PanicsWithValue(t, "doubleticktest: NewServer: WithListener("+ln.Addr().String()+"): the address must be a loopback one", func() {
		doubleticktest.NewServer(doubleticktest.WithListener(ln))
	})
}

func TestWithoutTheControlAPIThereIsNone(t *testing.T) {
	srv := doubleticktest.NewServer()
	defer srv.Close()
	status, body := control(t, srv, http.MethodGet, "groups", "")
	assert.Equal(t, http.StatusNotFound, status, body)
}

// A web page whose name is rebound to 127.0.0.1 reaches the fake from a
// developer's browser with its own name as the Host: refused, API and
// control API alike, before the key is even checked; loopback names pass.
func TestTheFakeAnswersOnlyALoopbackHost(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithControlAPI())
	defer srv.Close()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	for host, want := range map[string]int{
		"rebound.example:" + port: http.StatusMisdirectedRequest,
		"10.0.0.7:" + port:        http.StatusMisdirectedRequest,
		"localhost:" + port:       http.StatusOK,
		"127.0.0.1:" + port:       http.StatusOK,
		"[::1]:" + port:           http.StatusOK,
	} {
		for _, path := range []string{doubleticktest.ControlPath + "groups", "/whatsapp/wa-group/list?wabaNumber=911111111111"} {
			req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			require.NoError(t, err)
			req.Host = host
			req.Header.Set("Authorization", doubleticktest.APIKey)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, want, res.StatusCode, "%s %s", host, path)
		}
	}
}
