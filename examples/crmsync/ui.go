package main

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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

// serveUI serves River UI for in on addr until ctx ends, behind HTTP basic
// auth when credential ("user:password") is set. It refuses an address
// that is not loopback without a credential: River UI retries, cancels and
// deletes deliveries, and shows their bodies. ready, when not nil, gets the
// address it listens on.
func serveUI(ctx context.Context, in webhookInbox, addr, credential string, log *slog.Logger, ready chan<- string) (stop func(), err error) {
	if err := checkCredential(credential); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-ui %s: %w", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); credential == "" && (!ok || !tcp.IP.IsLoopback()) {
		ln.Close()
		return nil, fmt.Errorf("-ui %s is not a loopback address: set %s (user:password) to serve River UI there", addr, envUICredential)
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
	var h http.Handler = http.NewCrossOriginProtection().Handler(ui)
	if credential != "" {
		h = basicAuth(credential, h)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		h = loopbackHost(h)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("River UI stopped", "error", err)
		}
	}()
	log.Info("River UI for the inbox", "url", "http://"+ln.Addr().String()+"/")
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
