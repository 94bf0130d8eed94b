package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
	"github.com/spf13/cobra"
)

// triggerFlags say where trigger sends an event, and how it is signed.
type triggerFlags struct {
	to, method, auth, name, encoding, format string
}

func (a *app) triggerCommand() *cobra.Command {
	var f triggerFlags
	types := make([]string, 0, len(webhookstest.PayloadTypes()))
	for _, t := range webhookstest.PayloadTypes() {
		types = append(types, string(t))
	}
	cmd := &cobra.Command{
		Use:   "trigger EVENT [--to URL [--auth TYPE]]",
		Short: "Send a receiver a realistic event of any type, correctly authenticated",
		Long: `Send a realistic event of the type EVENT: DoubleTick's documented sample,
with the time now and IDs made from it. Without --to, "doubletick fake"
(at --base-url / $` + envBaseURL + `) delivers it to the receivers that get that
event, with their registered credentials and body formats, and this prints
how many do. With --to, it is sent straight to that URL, carrying the
secret from $` + envWebhookSecret + ` as --auth says ("doubletick listen --auth" with
the same type and secret checks it).

Six events name no type in their payloads (MESSAGE_STATUS_UPDATE,
CHAT_ASSIGNED_TO_AGENT, CHAT_UNASSIGNED, CONVERSATION_OPENED,
CLOSE_CONVERSATION, CONVERSATION_COST_DEDUCTED): a receiver knows them by
the URL they were registered at ("listen --path-type PATH=EVENT").

Events: ` + strings.Join(types, ", ") + `.`,
		Example: `  doubletick trigger MESSAGE_STATUS_UPDATE
  doubletick trigger GROUP_CREATED --to http://127.0.0.1:8080/hooks --auth bearer
  doubletick trigger CONVERSATION_COST_DEDUCTED --to http://127.0.0.1:8080/cost --format form-data`,
		Args:      args(1, "the event, e.g. GROUP_CREATED"),
		ValidArgs: types,
		RunE: func(cmd *cobra.Command, args []string) error {
			t := webhooks.Type(strings.ToUpper(args[0]))
			if !slices.Contains(webhookstest.PayloadTypes(), t) {
				return usagef("%q: not an event this can send; want one of %s", args[0], strings.Join(types, ", "))
			}
			if f.to == "" {
				return a.triggerThroughFake(cmd, t)
			}
			return a.triggerTo(cmd, t, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.to, "to", "", "send the event straight to this URL, instead of through the fake's deliveries")
	fl.StringVar(&f.method, "method", http.MethodPost, "--to: the HTTP method")
	fl.StringVar(&f.auth, "auth", "bearer", "--to: how the event carries the secret: bearer, basic, header, query, hmac or standard")
	fl.StringVar(&f.name, "name", "", "--to: the header (header, hmac) or query parameter (query) that carries it")
	fl.StringVar(&f.encoding, "encoding", "hex", "--to, hmac: the signature's encoding, hex or base64")
	fl.StringVar(&f.format, "format", "json", "--to: the body format, json or form-data")
	return readsEnv(cmd, slices.Concat(apiEnv, webhookEnv)...)
}

// triggerThroughFake asks the fake's control API to deliver an event of t.
func (a *app) triggerThroughFake(cmd *cobra.Command, t webhooks.Type) error {
	if a.apiBase() == doubletick.DefaultBaseURL {
		return usagef("trigger without --to needs \"doubletick fake\" (set --base-url or %s to its address): DoubleTick itself sends no test events", envBaseURL)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var out struct {
		Receivers int `json:"receivers"`
	}
	if _, err := c.Do(cmd.Context(), http.MethodPost, doubleticktest.ControlPath+"trigger", nil, map[string]string{"event": string(t)}, &out); err != nil {
		if errors.Is(err, doubletick.ErrNotFound) {
			return fmt.Errorf("the server at the base URL has no control API: is it \"doubletick fake\"? (%w)", err)
		}
		return err
	}
	return a.print(map[string]any{"event": t, "receivers": out.Receivers}, func(w io.Writer) {
		if out.Receivers == 0 {
			fmt.Fprintf(w, "no receiver gets %s: register one (doubletick webhooks register --event %s …) or add one (doubletick fake --receiver URL)\n", t, t)
			return
		}
		fmt.Fprintf(w, "%s sent to %d receiver(s)\n", t, out.Receivers)
	})
}

// triggerTo sends an event of t straight to f.to.
func (a *app) triggerTo(cmd *cobra.Command, t webhooks.Type, f *triggerFlags) error {
	u, err := url.Parse(f.to)
	if err != nil {
		return usagef("--to: not a URL") // the parser's error quotes it, credentials and all
	}
	shown := printableURL(u)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--to %s: want an http or https URL", shown)
	}
	format, err := bodyFormat(f.format)
	if err != nil {
		return err
	}
	signer, err := a.triggerSigner(f)
	if err != nil {
		return err
	}
	payload, err := webhookstest.Payload(t, time.Now())
	if err != nil {
		return err
	}
	body, contentType, err := webhookstest.Encode(format, payload)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(cmd.Context(), strings.ToUpper(f.method), f.to, bytes.NewReader(body))
	if err != nil {
		return usagef("--method %q: %w", f.method, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "doubletick-cli")
	if err := signer(req, body); err != nil {
		return usageError{err}
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("sending %s to %s: %w", t, shown, errors.Unwrap(err))
	}
	resp.Body.Close()
	if perr := a.print(map[string]any{"event": t, "to": shown, "status": resp.StatusCode}, func(w io.Writer) {
		fmt.Fprintf(w, "%s sent to %s: %s\n", t, shown, resp.Status)
	}); perr != nil {
		return perr
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the receiver answered %s: it did not take the event", resp.Status)
	}
	return nil
}

// triggerSigner returns the signer --auth names, with the secret from the
// environment (the first, while several are being rotated).
func (a *app) triggerSigner(f *triggerFlags) (webhookstest.Signer, error) {
	secret, err := a.sendingSecret()
	if err != nil {
		return nil, err
	}
	needName := func() error {
		if f.name == "" {
			return usagef("--auth %s needs --name: the header or query parameter that carries the secret", f.auth)
		}
		return nil
	}
	switch f.auth {
	case "bearer":
		return webhookstest.Bearer(secret), nil
	case "basic":
		return webhookstest.Basic(secret), nil
	case "header":
		return webhookstest.Header(f.name, secret), needName()
	case "query":
		return webhookstest.Query(f.name, secret), needName()
	case "hmac":
		enc, err := encodingFlag(f.encoding)
		if err != nil {
			return nil, err
		}
		return webhookstest.HMAC(f.name, enc, []byte(secret)), needName()
	case "standard":
		return webhookstest.Standard(secret, "msg_"+time.Now().UTC().Format("20060102T150405.000000000"), time.Now()), nil
	}
	return nil, usagef("--auth %q: want bearer, basic, header, query, hmac or standard", f.auth)
}
