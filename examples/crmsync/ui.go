package main

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/time/rate"
	"riverqueue.com/riverui"
	"riverqueue.com/riverui/uiendpoints"

	"github.com/doubletick-go/doubletick/inbox"
)

// envUICredential holds "user:password" for River UI's basic auth.
const envUICredential = "CRMSYNC_UI_CREDENTIAL"

// uiEndpoints are River UI's endpoints on the inbox's River client.
func uiEndpoints(in webhookInbox) (uiendpoints.Bundle, error) {
	switch in := in.(type) {
	case *inbox.Inbox[*sql.Tx]: // SQLite: River UI supports River's SQLite driver since v0.22
		return riverui.NewEndpoints(in.RiverClient(), nil), nil
	case *inbox.Inbox[pgx.Tx]:
		return riverui.NewEndpoints(in.RiverClient(), nil), nil
	}
	return nil, fmt.Errorf("the River UI of an inbox of type %T", in)
}

// uiConfig says where and how River UI is served.
type uiConfig struct {
	addr string
	// credential is "user:password" for HTTP basic auth, "" for none.
	credential string
	// certFile and keyFile serve it over TLS; tlsProxy says a proxy
	// in front of it terminates TLS.
	certFile, keyFile string
	tlsProxy          bool
}

// serveUI serves River UI for in until ctx ends, behind HTTP basic auth
// when cfg has a credential. An address that is not loopback needs a
// credential and TLS (its own, or a proxy's): River UI retries, cancels and
// deletes deliveries, and shows their bodies, and a password sent over
// plain HTTP can be read on the way. ready, when not nil, gets the address
// it listens on.
func serveUI(ctx context.Context, in webhookInbox, cfg uiConfig, log *slog.Logger, ready chan<- string) (stop func(), err error) {
	credential := cfg.credential
	if err := checkCredential(credential); err != nil {
		return nil, err
	}
	if (cfg.certFile == "") != (cfg.keyFile == "") {
		return nil, errors.New("-ui-tls-cert and -ui-tls-key go together")
	}
	serveTLS := cfg.certFile != ""
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("-ui %s: %w", cfg.addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		switch {
		case credential == "":
			ln.Close()
			return nil, fmt.Errorf("-ui %s is not a loopback address: set %s (user:password) to serve River UI there", cfg.addr, envUICredential)
		case !serveTLS && !cfg.tlsProxy:
			ln.Close()
			return nil, fmt.Errorf("-ui %s is not a loopback address: serve it over TLS (-ui-tls-cert and -ui-tls-key), or say that a proxy in front of it does (-ui-tls-proxy); over plain HTTP its password could be read on the way", cfg.addr)
		}
	}
	endpoints, err := uiEndpoints(in)
	if err != nil {
		ln.Close()
		return nil, err
	}
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: endpoints, Logger: log, JobListHideArgsByDefault: true})
	if err != nil {
		ln.Close()
		return nil, err
	}
	if err := ui.Start(ctx); err != nil {
		ln.Close()
		return nil, err
	}
	// A page the operator visits must not act through their browser: a
	// cross-origin write (a form posting text/plain JSON to
	// /api/jobs/delete did) is refused, with or without the credential a
	// browser adds by itself.
	var h http.Handler = http.NewCrossOriginProtection().Handler(replayOnly(in, ui, log))
	if credential != "" {
		h = basicAuth(credential, h)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		h = loopbackHost(h)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if serveTLS {
		// Loaded now, so that a wrong file is an error at start.
		cert, err := tls.LoadX509KeyPair(cfg.certFile, cfg.keyFile)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("-ui-tls-cert, -ui-tls-key: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	go func() {
		var err error
		if serveTLS {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("River UI stopped", "error", err)
		}
	}()
	log.Info("River UI for the inbox", "url", scheme+"://"+ln.Addr().String()+"/")
	if ready != nil {
		ready <- ln.Addr().String()
	}
	return func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}, nil
}

// minUIPassword is the shortest password the UI's credential may have: it
// guards retries and deletions of every delivery, and may be guessed over
// plain HTTP.
const minUIPassword = 16

// checkCredential refuses a credential that is not user:password with a
// user and a password of minUIPassword characters or more ("" means none).
func checkCredential(credential string) error {
	if credential == "" {
		return nil
	}
	user, pass, ok := strings.Cut(credential, ":")
	if !ok || user == "" || len(pass) < minUIPassword {
		return fmt.Errorf("%s must be user:password, with a user and a password of %d characters or more", envUICredential, minUIPassword)
	}
	return nil
}

// basicAuth lets through requests that carry credential, compared in
// constant time. Wrong guesses are limited: 10 at once, then one every 6
// seconds; past that a request is answered 429 without being checked.
func basicAuth(credential string, next http.Handler) http.Handler {
	wantUser, wantPass, _ := strings.Cut(credential, ":")
	guesses := rate.NewLimiter(rate.Every(6*time.Second), 10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if ok && subtle.ConstantTimeCompare([]byte(user), []byte(wantUser))&subtle.ConstantTimeCompare([]byte(pass), []byte(wantPass)) == 1 {
			next.ServeHTTP(w, r)
			return
		}
		if ok && !guesses.Allow() {
			w.Header().Set("Retry-After", "6")
			http.Error(w, "too many wrong credentials", http.StatusTooManyRequests)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="crmsync River UI", charset="UTF-8"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
}

// loopbackHost refuses a request whose Host is not a loopback name or
// address: a page that rebinds its own name to 127.0.0.1 reaches a
// loopback server from the operator's browser, but with its own name as
// the Host.
func loopbackHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if ip := net.ParseIP(strings.Trim(host, "[]")); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			http.Error(w, "this server answers only to a loopback Host", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// retryPath is River UI's endpoint of its Retry button.
const retryPath = "/api/jobs/retry"

// replayOnly routes River UI's Retry through the inbox's Replay, which runs
// a dead letter again and refuses any other delivery: River's JobRetry
// runs a completed delivery again too, and its callbacks with it. The
// answer is River UI's ({"status":"ok"}), or 409 naming the first ID that
// is not a dead letter (the ones before it are replayed).
func replayOnly(in webhookInbox, next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != retryPath {
			next.ServeHTTP(w, r)
			return
		}
		var req struct {
			IDs []json.Number `json:"ids"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil || len(req.IDs) == 0 || len(req.IDs) > 1000 {
			writeUIError(w, http.StatusBadRequest, "want {\"ids\": [...]}: 1 to 1000 job IDs")
			return
		}
		for _, raw := range req.IDs {
			id, err := strconv.ParseInt(strings.Trim(raw.String(), `"`), 10, 64)
			if err != nil {
				writeUIError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a job ID", raw))
				return
			}
			switch err := in.Replay(r.Context(), id); {
			case errors.Is(err, inbox.ErrNotDeadLetter):
				writeUIError(w, http.StatusConflict, fmt.Sprintf("job %d is not a dead letter: only dead letters run again, so that no webhook's callbacks run twice", id))
				return
			case err != nil:
				log.Error("River UI retry", "job", id, "error", err)
				writeUIError(w, http.StatusInternalServerError, "the retry failed")
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
}

// writeUIError answers as River UI's API does: {"message": …}.
func writeUIError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
