// Command cli is what a support engineer reaches for: create a group, watch
// verified webhooks arrive, or check a saved payload against a secret.
//
//	go run ./examples/cli create -waba 911111111111 -subject "VIP support"
//	go run ./examples/cli listen -addr 127.0.0.1:8080 -auth bearer
//	go run ./examples/cli verify -file payload.json -auth hmac -name X-Signature -signature 3f1c…
//
// Secrets come from the environment, never from flags (flags end up in shell
// history and process lists): DOUBLETICK_API_KEY for the API, and
// DOUBLETICK_WEBHOOK_SECRET for webhooks (several, comma-separated, while a
// secret is being rotated).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/webhooks"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "cli:", err)
		os.Exit(2)
	}
}

const usage = `usage: cli <command> [flags]

commands:
  create   create a WhatsApp group (DOUBLETICK_API_KEY)
  listen   serve a webhook endpoint and print each verified event (DOUBLETICK_WEBHOOK_SECRET)
  verify   verify a saved webhook body and print its event (DOUBLETICK_WEBHOOK_SECRET)

run "cli <command> -h" for its flags`

// run runs one command; getenv reads the environment.
func run(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "create":
		return create(ctx, args[1:], out, getenv)
	case "listen":
		return listen(ctx, args[1:], out, getenv, nil)
	case "verify":
		return verify(args[1:], out, getenv)
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

func create(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	fs.SetOutput(out)
	waba := fs.String("waba", "", "WhatsApp Business number: digits with country code, no +")
	subject := fs.String("subject", "", "group subject (name), at most 128 characters")
	description := fs.String("description", "", "group description")
	mode := fs.String("mode", "", "join approval: auto_approve or approval_required (empty: the integration's default)")
	groupID := fs.String("group-id", "", "your own group ID (empty: DoubleTick generates one)")
	baseURL := fs.String("base-url", doubletick.DefaultBaseURL, "API base URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key := getenv("DOUBLETICK_API_KEY")
	if key == "" {
		return errors.New("create: set DOUBLETICK_API_KEY")
	}
	c, err := doubletick.NewClient(key, doubletick.WithBaseURL(*baseURL), doubletick.WithUserAgent("doubletick-cli"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, resp, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{
		WABANumber: *waba, Subject: *subject, Description: *description,
		JoinApprovalMode: doubletick.JoinApprovalMode(*mode), GroupID: *groupID,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "creation initiated: groupId=%s wabaNumber=%s (HTTP %d", res.GroupID, res.WABANumber, resp.StatusCode)
	if resp.RequestID != "" {
		fmt.Fprintf(out, ", request %s", resp.RequestID)
	}
	fmt.Fprintln(out, ")\nthe group exists once GROUP_CREATED arrives")
	return nil
}

// verifierFlags are the flags that say how webhooks are verified.
type verifierFlags struct {
	auth, name, encoding *string
}

func addVerifierFlags(fs *flag.FlagSet) verifierFlags {
	return verifierFlags{
		auth:     fs.String("auth", "bearer", "bearer, basic, header, query, hmac or standard"),
		name:     fs.String("name", "", "the header (header, hmac) or query parameter (query) that carries the credential"),
		encoding: fs.String("encoding", "hex", "hmac signature encoding: hex or base64"),
	}
}

// build makes the verifier the flags describe, with the secrets from
// DOUBLETICK_WEBHOOK_SECRET.
func (f verifierFlags) build(getenv func(string) string) (webhooks.Verifier, error) {
	raw := getenv("DOUBLETICK_WEBHOOK_SECRET")
	if raw == "" {
		return nil, errors.New("set DOUBLETICK_WEBHOOK_SECRET (comma-separated while rotating)")
	}
	secrets := strings.Split(raw, ",")
	switch *f.auth {
	case "bearer":
		return webhooks.NewBearerVerifier(secrets...)
	case "basic":
		return webhooks.NewBasicVerifier(secrets...)
	case "header":
		return webhooks.NewHeaderVerifier(*f.name, secrets...)
	case "query":
		return webhooks.NewQueryVerifier(*f.name, secrets...)
	case "hmac":
		enc := webhooks.Hex
		if *f.encoding == "base64" {
			enc = webhooks.Base64
		}
		keys := make([][]byte, len(secrets))
		for i, s := range secrets {
			keys[i] = []byte(s)
		}
		return webhooks.NewHMACVerifier(*f.name, enc, keys...)
	case "standard":
		return webhooks.NewStandardVerifier(secrets)
	}
	return nil, fmt.Errorf("unknown -auth %q", *f.auth)
}

// listen serves webhooks until ctx ends; ready, when not nil, receives the
// address once it listens.
func listen(ctx context.Context, args []string, out io.Writer, getenv func(string) string, ready chan<- string) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	methods := fs.String("methods", "POST", "comma-separated HTTP methods the webhook was registered with")
	vf := addVerifierFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	v, err := vf.build(getenv)
	if err != nil {
		return err
	}
	h, err := webhooks.NewHandler(v, webhooks.WithMethods(strings.Split(*methods, ",")...),
		webhooks.OnEvent(func(_ context.Context, e webhooks.Event) error { return printEvent(out, e) }))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "listening on http://%s (verifying with %s); Ctrl-C to stop\n", ln.Addr(), *vf.auth)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func verify(args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(out)
	file := fs.String("file", "", "the saved webhook body")
	contentType := fs.String("content-type", "", "the body's Content-Type (empty: JSON, or form data if not JSON)")
	credential := fs.String("credential", "", "the value received in the header or parameter named by -name (header, query, hmac), or in Authorization (bearer, basic)")
	id := fs.String("id", "", "standard: the webhook-id header")
	timestamp := fs.String("timestamp", "", "standard: the webhook-timestamp header")
	signature := fs.String("signature", "", "standard: the webhook-signature header")
	vf := addVerifierFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	body, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	v, err := vf.build(getenv)
	if err != nil {
		return err
	}
	r, err := http.NewRequest(http.MethodPost, "http://saved.invalid/", nil)
	if err != nil {
		return err
	}
	switch *vf.auth {
	case "bearer", "basic":
		r.Header.Set("Authorization", *credential)
	case "header", "hmac":
		r.Header.Set(*vf.name, *credential)
	case "query":
		r.URL.RawQuery = url.Values{*vf.name: {*credential}}.Encode()
	case "standard":
		r.Header.Set(webhooks.HeaderWebhookID, *id)
		r.Header.Set(webhooks.HeaderWebhookTimestamp, *timestamp)
		r.Header.Set(webhooks.HeaderWebhookSignature, *signature)
	}
	if err := v.Verify(r, body); err != nil {
		return fmt.Errorf("not verified: %w", err)
	}
	fmt.Fprintln(out, "verified")
	e, err := webhooks.ParseContent(*contentType, body)
	if err != nil {
		return err
	}
	return printEvent(out, e)
}

// printEvent writes a one-line summary of e, then its payload indented.
// The invite link of GROUP_CREATED is a credential and is masked.
func printEvent(out io.Writer, e webhooks.Event) error {
	summary := fmt.Sprintf("%s group=%q at %s", e.Type(), e.Group(), e.Time().Format(time.RFC3339))
	switch ev := e.(type) {
	case *webhooks.ParticipantJoined:
		summary += " participant=" + ev.Phone.String()
	case *webhooks.ParticipantLeft:
		summary += " participant=" + ev.Phone.String()
	case *webhooks.ParticipantRemoved:
		summary += " participant=" + ev.Phone.String()
	case *webhooks.GroupMessageReceived:
		summary += fmt.Sprintf(" from=%s text=%q", ev.From.String(), ev.Message.Text)
	case *webhooks.Unknown:
		summary += " (unknown to this SDK; raw payload below)"
	}
	var payload map[string]any
	if err := json.Unmarshal(e.RawJSON(), &payload); err != nil {
		return err
	}
	if _, ok := payload["inviteLink"]; ok {
		payload["inviteLink"] = "[hidden: a credential]"
	}
	pretty, err := json.MarshalIndent(payload, "  ", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n  %s\n", summary, pretty)
	return err
}
