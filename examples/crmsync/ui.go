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
	if credential != "" && !strings.Contains(credential, ":") {
		return nil, fmt.Errorf("%s must be user:password", envUICredential)
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
	var h http.Handler = ui
	if credential != "" {
		h = basicAuth(credential, ui)
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

// basicAuth lets through requests that carry credential, compared in
// constant time.
func basicAuth(credential string, next http.Handler) http.Handler {
	wantUser, wantPass, _ := strings.Cut(credential, ":")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(wantUser))&subtle.ConstantTimeCompare([]byte(pass), []byte(wantPass)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="crmsync River UI", charset="UTF-8"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
