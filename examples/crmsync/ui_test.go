package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// deadLetterInbox is a running SQLite inbox whose callback fails until
// fixed is set, holding one dead letter; ran counts successful runs.
func deadLetterInbox(t *testing.T) (in *inbox.Inbox[*sql.Tx], id int64, fixed *atomic.Bool, ran *atomic.Int32) {
	t.Helper()
	ctx := context.Background()
	db, err := inbox.OpenSQLite(ctx, filepath.Join(t.TempDir(), "inbox.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	fixed, ran = new(atomic.Bool), new(atomic.Int32)
	v, err := webhooks.NewBearerVerifier("ui-test-token")
	require.NoError(t, err)
	h, err := webhooks.NewHandler(v, webhooks.OnEvent(func(context.Context, webhooks.Event) error {
		if !fixed.Load() {
			return errors.New("the CRM is down")
		}
		ran.Add(1)
		return nil
	}))
	require.NoError(t, err)
	in, err = inbox.New(ctx, riversqlite.New(db), h, inbox.WithMaxAttempts(1))
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx))
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, in.Stop(stop))
	})
	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", []byte(`{"event":"GROUP_PARTICIPANT_JOINED","orgId":"o","integrationId":"i",`+
		`"groupId":"g1","groupName":"G","customerPhone":"+919876543210","participantJoinedAt":"2026-01-15T10:00:00.000Z"}`),
		webhookstest.Bearer("ui-test-token"))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	in.ServeHTTP(rec, r)
	require.Equal(t, 200, rec.Code)
	require.Eventually(t, func() bool {
		dead, err := in.DeadLetters(ctx, 10)
		require.NoError(t, err)
		if len(dead) == 1 {
			id = dead[0].ID
		}
		return len(dead) == 1
	}, 20*time.Second, 5*time.Millisecond)
	return in, id, fixed, ran
}

// TestRiverUIShowsAndReplaysADeadLetter drives River UI, as crmsync serves
// it, in a real headless Chromium: the dead letter's page loads, and its
// Retry button replays it through the inbox's workers.
func TestRiverUIShowsAndReplaysADeadLetter(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium on PATH: install Debian's chromium package (.ci/services does) to run the River UI browser test")
	}
	in, id, fixed, ran := deadLetterInbox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ready := make(chan string, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	stop, err := serveUI(ctx, in, uiConfig{addr: "127.0.0.1:0", credential: "operator:ui-pass-1234567890"}, log, ready)
	require.NoError(t, err)
	defer stop()
	base := "http://" + <-ready

	// Without the credential: refused.
	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Headless)...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()
	fixed.Store(true) // the CRM is back: a replay now succeeds
	authorize := chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("operator:ui-pass-1234567890"))}})
		return err
	})
	enable := chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
		return err
	})
	// A page of another origin the operator visits posts a form to River
	// UI's delete, as text/plain JSON, in this browser, which adds the
	// credential by itself: refused, and nothing is deleted.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><body><form method="POST" action="%s/api/jobs/delete" enctype="text/plain">`+
			`<input name='{"ids":["%d"],"x":"' value='"}'></form><script>document.forms[0].submit()</script></body></html>`, base, id)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1) // another site, not only another origin
	require.NoError(t, chromedp.Do(tab, enable, authorize, chromedp.Navigate(evilURL)), "the other site's page")
	require.Eventually(t, func() bool {
		at, err := chromedp.Run(tab, chromedp.Location())
		return err == nil && strings.HasSuffix(at, "/api/jobs/delete")
	}, 30*time.Second, 50*time.Millisecond, "the form was posted")
	dead, err := in.DeadLetters(ctx, 10)
	require.NoError(t, err)
	require.Len(t, dead, 1, "the cross-site form deleted nothing")

	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(fmt.Sprintf("%s/jobs/%d", base, id)),
		chromedp.WaitVisible(chromedp.Search(`//*[contains(text(), "doubletick_webhook")]`)),
	), "River UI's job page")
	page, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS("body")))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.Search(`//button[contains(., "Retry")]`))), "the Retry button")
	assert.Contains(t, page, "the CRM is down", "the page shows the dead letter's error")
	require.Eventually(t, func() bool { return ran.Load() == 1 }, 30*time.Second, 20*time.Millisecond,
		"the Retry button replayed the dead letter, and the callback ran")
	dead, err = in.DeadLetters(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
}

func TestUIRefusesAnOpenAddressWithoutACredential(t *testing.T) {
	in, _, _, _ := deadLetterInbox(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, err := serveUI(context.Background(), in, uiConfig{addr: "0.0.0.0:0"}, log, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), envUICredential)
	for _, weak := range []string{"no-colon", ":", "admin:", "admin:short-pass", ":a-long-enough-password"} {
		_, err = serveUI(context.Background(), in, uiConfig{addr: "127.0.0.1:0", credential: weak}, log, nil)
		assert.ErrorContains(t, err, "user:password, with a user and a password of 16 characters or more", weak)
	}
}

// A page the operator visits cannot act through their browser: River UI
// refuses a cross-origin write (a text/plain form posting JSON to
// /api/jobs/delete deleted a delivery before), and a request whose Host is
// not loopback (a page that rebinds its name to 127.0.0.1); wrong
// credentials are answered 429 after 10.
func TestUIRefusesCrossOriginWritesRebindingAndGuessing(t *testing.T) {
	in, id, _, _ := deadLetterInbox(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	const credential = "ops:a-long-enough-password"
	stop, err := serveUI(ctx, in, uiConfig{addr: "127.0.0.1:0", credential: credential}, slog.New(slog.NewTextHandler(io.Discard, nil)), ready)
	require.NoError(t, err)
	defer stop()
	addr := <-ready
	send := func(host, site, auth string) int {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/jobs/delete", strings.NewReader(fmt.Sprintf(`{"job_ids":["%d"]}`, id)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "text/plain")
		if host != "" {
			req.Host = host
		}
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
			req.Header.Set("Origin", "http://evil.example")
		}
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(auth)))
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	assert.Equal(t, http.StatusForbidden, send("", "cross-site", credential), "a cross-origin form, with the credential the browser adds")
	assert.Equal(t, http.StatusMisdirectedRequest, send("evil.example:"+strings.Split(addr, ":")[1], "", credential), "a rebound name")
	dead, err := in.DeadLetters(ctx, 10)
	require.NoError(t, err)
	assert.Len(t, dead, 1, "nothing deleted")
	codes := map[int]int{}
	for range 12 {
		codes[send("", "", "ops:wrong-guess")]++
	}
	assert.Equal(t, map[int]int{http.StatusUnauthorized: 10, http.StatusTooManyRequests: 2}, codes)
	assert.NotEqual(t, http.StatusForbidden, send("localhost:"+strings.Split(addr, ":")[1], "same-origin", credential), "the operator's own page")
}

func TestUIFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm.db")
	vars := env(map[string]string{"DOUBLETICK_WEBHOOK_SECRET": "hook-token"})
	err := run(context.Background(), []string{"-db", path, "-addr", "127.0.0.1:0", "-ui", "0.0.0.0:0"}, io.Discard, vars, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), envUICredential)

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var out syncWriter
	go func() {
		done <- run(ctx, []string{"-db", path, "-addr", "127.0.0.1:0", "-ui", "127.0.0.1:0"}, &out, vars, ready)
	}()
	<-ready
	cancel()
	require.NoError(t, <-done)
	assert.Regexp(t, `River UI for the inbox" url=http://127\.0\.0\.1:\d+/`, out.String())
}

// River UI's Retry replays a dead letter, and never runs a completed
// delivery's callbacks again (River's JobRetry would).
func TestUIRetryRunsOnlyDeadLetters(t *testing.T) {
	in, id, fixed, ran := deadLetterInbox(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	stop, err := serveUI(ctx, in, uiConfig{addr: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(io.Discard, nil)), ready)
	require.NoError(t, err)
	defer stop()
	addr := <-ready
	retry := func(body string) (int, string) {
		res, err := http.Post("http://"+addr+retryPath, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	fixed.Store(true)
	code, body := retry(fmt.Sprintf(`{"ids":["%d"]}`, id))
	require.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, `{"status":"ok"}`, body)
	require.Eventually(t, func() bool { return ran.Load() == 1 }, 20*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { idle, err := in.Idle(ctx); return err == nil && idle }, 20*time.Second, 5*time.Millisecond)

	code, body = retry(fmt.Sprintf(`{"ids":["%d"]}`, id))
	assert.Equal(t, http.StatusConflict, code)
	assert.Contains(t, body, "is not a dead letter")
	code, _ = retry(`{"ids":["x"]}`)
	assert.Equal(t, http.StatusBadRequest, code)
	code, _ = retry(`{}`)
	assert.Equal(t, http.StatusBadRequest, code)
	job, err := in.RiverClient().JobGet(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, rivertype.JobStateCompleted, job.State, "the handled delivery is not queued again")
	assert.Equal(t, int32(1), ran.Load())
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their files and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "crmsync test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// Off loopback, River UI needs TLS, its own or a proxy's, besides a
// credential: over plain HTTP the password could be read on the way.
func TestUIOffLoopbackNeedsTLS(t *testing.T) {
	in, _, _, _ := deadLetterInbox(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const credential = "ops:a-long-enough-password"
	_, err := serveUI(context.Background(), in, uiConfig{addr: "0.0.0.0:0", credential: credential}, log, nil)
	require.ErrorContains(t, err, "-ui-tls-cert")
	_, err = serveUI(context.Background(), in, uiConfig{addr: "0.0.0.0:0", credential: credential, certFile: "c.pem"}, log, nil)
	require.ErrorContains(t, err, "go together")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	stop, err := serveUI(ctx, in, uiConfig{addr: "0.0.0.0:0", credential: credential, tlsProxy: true}, log, ready)
	require.NoError(t, err, "behind a TLS proxy")
	stop()
	<-ready

	certFile, keyFile, pool := selfSigned(t)
	stop, err = serveUI(ctx, in, uiConfig{addr: "0.0.0.0:0", credential: credential, certFile: certFile, keyFile: keyFile}, log, ready)
	require.NoError(t, err)
	defer stop()
	_, port, err := net.SplitHostPort(<-ready)
	require.NoError(t, err)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, err := http.NewRequest(http.MethodGet, "https://127.0.0.1:"+port+"/api/jobs?state=discarded", nil)
	require.NoError(t, err)
	req.SetBasicAuth("ops", "a-long-enough-password")
	res, err := hc.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "served over TLS")
	res, err = http.Get("http://127.0.0.1:" + port + "/")
	if err == nil {
		res.Body.Close()
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, "plain HTTP to the TLS port is refused")
	}
}
