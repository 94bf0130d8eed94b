package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/spf13/cobra"
)

// verifierFlags say how deliveries are checked.
type verifierFlags struct {
	auth, name, encoding, format string
	methods                      []string
	pathTypes                    []string
}

func (f *verifierFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.auth, "auth", "bearer", "how deliveries prove they come from DoubleTick: bearer, basic, header, query, hmac or standard")
	fl.StringVar(&f.name, "name", "", "the header (header, hmac) or query parameter (query) that carries the credential")
	fl.StringVar(&f.encoding, "encoding", "hex", "hmac: the signature's encoding, hex or base64")
	fl.StringVar(&f.format, "format", "json", "the body format the webhook was registered with: json or form-data")
	fl.StringSliceVar(&f.methods, "methods", []string{http.MethodPost}, "the HTTP methods the webhook was registered with")
	fl.StringArrayVar(&f.pathTypes, "path-type", nil, "PATH=EVENT: deliveries to PATH are of EVENT when their payload names no type, "+
		"e.g. /status=MESSAGE_STATUS_UPDATE (repeat for more)")
}

// encodingFlag reads an --encoding flag.
func encodingFlag(s string) (webhooks.Encoding, error) {
	switch s {
	case "hex":
		return webhooks.Hex, nil
	case "base64":
		return webhooks.Base64, nil
	}
	return 0, usagef("--encoding %q: want hex or base64", s)
}

// handler builds the webhook handler the flags describe, with the secrets
// from the environment.
func (a *app) handler(f *verifierFlags, opts ...webhooks.HandlerOption) (*webhooks.Handler, error) {
	raw, err := a.secret(envWebhookSecret, envWebhookSecretFile)
	if err != nil {
		return nil, err
	}
	secrets := strings.Split(raw, ",")
	switch f.auth {
	case "header", "hmac":
		if f.name == "" {
			return nil, usagef("--auth %s needs --name HEADER: the header the %s comes in", f.auth, map[string]string{"header": "credential", "hmac": "signature"}[f.auth])
		}
	case "query":
		if f.name == "" {
			return nil, usagef("--auth query needs --name PARAM: the query parameter the credential comes in")
		}
	}
	var v webhooks.Verifier
	switch f.auth {
	case "bearer":
		v, err = webhooks.NewBearerVerifier(secrets...)
	case "basic":
		v, err = webhooks.NewBasicVerifier(secrets...)
	case "header":
		v, err = webhooks.NewHeaderVerifier(f.name, secrets...)
	case "query":
		v, err = webhooks.NewQueryVerifier(f.name, secrets...)
	case "hmac":
		enc, encErr := encodingFlag(f.encoding)
		if encErr != nil {
			return nil, encErr
		}
		keys := make([][]byte, len(secrets))
		for i, s := range secrets {
			keys[i] = []byte(s)
		}
		v, err = webhooks.NewHMACVerifier(f.name, enc, keys...)
	case "standard":
		v, err = webhooks.NewStandardVerifier(secrets)
	default:
		return nil, usagef("--auth %q: want bearer, basic, header, query, hmac or standard", f.auth)
	}
	if err != nil {
		return nil, usagef("--auth %s with the secret of $%s: %s", f.auth, envWebhookSecret, sdkDetail(err))
	}
	format, err := bodyFormat(f.format)
	if err != nil {
		return nil, err
	}
	opts = append([]webhooks.HandlerOption{webhooks.WithMethods(f.methods...), webhooks.WithBodyFormat(format)}, opts...)
	for _, pt := range f.pathTypes {
		path, t, ok := strings.Cut(pt, "=")
		if !ok || !strings.HasPrefix(path, "/") || t == "" {
			return nil, usagef("--path-type %q: want PATH=EVENT, e.g. /status=MESSAGE_STATUS_UPDATE", pt)
		}
		opts = append(opts, webhooks.WithPathType(path, webhooks.Type(strings.ToUpper(t))))
	}
	h, err := webhooks.NewHandler(v, opts...)
	if err != nil {
		return nil, usageError{err}
	}
	return h, nil
}

func (a *app) listenCommand() *cobra.Command {
	var f verifierFlags
	var addr string
	var save saveFlags
	cmd := &cobra.Command{
		Use:   "listen [--addr HOST:PORT] [--auth TYPE] [flags]",
		Short: "Receive webhooks: print each verified event, and why each refused delivery was refused",
		Long: `Serve a webhook endpoint: check each delivery as the SDK's Handler does,
print each verified event on standard output, and log each refused delivery
(its status and the reason) on standard error. It answers 200 only to
verified deliveries. With --save, each verified delivery is also written to
a file that "doubletick verify --request" reads; those files hold the
credential the delivery carried, and are written readable by you only.
Refused deliveries are saved only with --save-refused N: the first N, with
at most 64 KiB of body each, and only the body the check read (a delivery
refused on its header credential is answered before its body is read, so
none of its body is saved). Ctrl-C stops it.`,
		Example: `  doubletick listen --auth bearer
  doubletick listen --auth hmac --name X-Signature --save deliveries/ --save-refused 20
  doubletick listen --addr 127.0.0.1:9000 --format form-data --json`,
		Args: args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var mu sync.Mutex // events print one at a time
			h, err := a.handler(&f, webhooks.OnEvent(func(_ context.Context, e webhooks.Event) error {
				mu.Lock()
				defer mu.Unlock()
				return a.printEvent(e)
			}))
			if err != nil {
				return err
			}
			if save.refused < 0 {
				return usagef("--save-refused %d: want 0 or more", save.refused)
			}
			if save.refused > 0 && save.dir == "" {
				return usagef("--save-refused needs --save DIR")
			}
			if save.dir != "" {
				if err := os.MkdirAll(save.dir, 0o700); err != nil {
					return usageError{err}
				}
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return usagef("--addr %s: %w", addr, err)
			}
			fmt.Fprintf(a.stderr, "listening on http://%s (checking with %s); Ctrl-C to stop\n", ln.Addr(), f.auth)
			srv := &http.Server{Handler: a.receiver(h, &save), ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-cmd.Context().Done()
				shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(shutdown)
			}()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "the address to listen on")
	cmd.Flags().StringVar(&save.dir, "save", "", "a directory to write each verified delivery to, as an HTTP request")
	cmd.Flags().IntVar(&save.refused, "save-refused", 0, "with --save, also save the first N refused deliveries (at most 64 KiB of body each)")
	f.add(cmd)
	return readsEnv(cmd, webhookEnv...)
}

// saveFlags say which deliveries listen saves, and where.
type saveFlags struct {
	dir     string // where; "" saves nothing
	refused int    // how many more refused deliveries to save

	mu sync.Mutex // guards refused while serving
}

// maxRefusedBody is the most of a refused delivery's body that is saved:
// enough to see why a real delivery was refused, too little for anyone
// posting to the endpoint to fill the disk.
const maxRefusedBody = 64 << 10

// takeRefused reports whether one more refused delivery may be saved.
func (s *saveFlags) takeRefused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused <= 0 {
		return false
	}
	s.refused--
	return true
}

// receiver answers deliveries with h, logging refusals and saving what save
// asks for.
func (a *app) receiver(h *webhooks.Handler, save *saveFlags) http.Handler {
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(a.stderr, format, args...)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body is kept as the handler reads it, and only that: an
		// unverified sender cannot make this read more.
		var body bytes.Buffer
		if save.dir != "" {
			// A copy of r reads through the tee: r itself keeps the body
			// net/http gave it, so that the server still knows how much of
			// it is left unread.
			r = r.WithContext(r.Context())
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.TeeReader(r.Body, &body), r.Body}
		}
		status := http.StatusOK
		d, err := h.Receive(w, r)
		var refusal *webhooks.Refusal
		switch {
		case errors.As(err, &refusal):
			status = refusal.Status
			// The path is the sender's, decoded (%1B is ESC): escaped, as
			// anyone can send a request to the receiver.
			logf("refused %d %s: %s %s from %s: %s\n", status, http.StatusText(status), printable(r.Method), printable(r.URL.Path),
				r.RemoteAddr, printable(refusal.Err.Error()))
			h.Refuse(w, r, err)
		case err != nil:
			status = http.StatusInternalServerError
			logf("refused %d: %s\n", status, printable(err.Error()))
			http.Error(w, "internal error", status)
		default:
			if err := h.Dispatch(r.Context(), d.Event); err != nil {
				status = http.StatusInternalServerError
				logf("failed %d: printing the event: %v\n", status, err)
				http.Error(w, "internal error", status)
			} else {
				w.WriteHeader(status)
			}
		}
		if save.dir == "" {
			return
		}
		saved := body.Bytes()
		if err != nil {
			if !save.takeRefused() {
				return
			}
			saved = saved[:min(len(saved), maxRefusedBody)]
		}
		if err := saveRequest(save.dir, r, saved, status); err != nil {
			logf("saving the delivery: %v\n", err)
		}
	})
}

// saveRequest writes r, with the body it carried, to a new file in dir,
// readable by its owner only.
func saveRequest(dir string, r *http.Request, body []byte, status int) error {
	// The saved head announces the body saved, which a refused delivery's
	// may be shorter than the one sent.
	r = r.WithContext(r.Context())
	r.Header = r.Header.Clone()
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	r.TransferEncoding = nil
	head, err := httputil.DumpRequest(r, false)
	if err != nil {
		return err
	}
	name := filepath.Join(dir, fmt.Sprintf("%s-%d.http", time.Now().UTC().Format("20060102T150405.000000000"), status))
	return os.WriteFile(name, append(head, body...), 0o600)
}

func (a *app) verifyCommand() *cobra.Command {
	var f verifierFlags
	var request, body, contentType string
	var headers []string
	cmd := &cobra.Command{
		Use:   "verify (--request FILE | --body FILE --header 'NAME: VALUE'...) [--auth TYPE] [flags]",
		Short: "Check a saved delivery against the webhook secret, as listen would",
		Long: `Check a saved webhook delivery against the webhook secret from the
environment, exactly as "doubletick listen" and the SDK's Handler would: the
method, the credential or signature, the Content-Type and the payload. The
file is an HTTP request (request line, headers, blank line, body), as
"doubletick listen --save" writes it; "-" reads standard input. It prints the
event when the delivery passes, and exits 1 with the reason when it does not.

A body saved alone can be checked against a signature (--auth hmac or
standard) with --body and the signature headers given by --header. A
credential sent as is (bearer, basic, header, query) is a secret: it stays
in a file, and no flag takes it.`,
		Example: `  doubletick verify --request deliveries/20261125T101500.000000000-401.http --auth bearer
  doubletick verify --body body.json --auth hmac --name X-Signature --header 'X-Signature: sha256=3f1c…'`,
		Args: args(0, "none"),
		RunE: func(_ *cobra.Command, _ []string) error {
			var r *http.Request
			var err error
			switch {
			case (request == "") == (body == ""):
				return usagef("give --request, or --body with the signature headers")
			case request != "":
				r, err = a.readRequest(request)
			default:
				r, err = signedBody(body, contentType, headers, &f)
			}
			if err != nil {
				return err
			}
			h, err := a.handler(&f)
			if err != nil {
				return err
			}
			rec := httptest.NewRecorder()
			d, err := h.Receive(rec, r)
			var refusal *webhooks.Refusal
			if errors.As(err, &refusal) {
				return fmt.Errorf("refused %d %s: %w", refusal.Status, http.StatusText(refusal.Status), refusal.Err)
			} else if err != nil {
				return err
			}
			if a.json {
				payload, err := eventPayload(d.Event)
				if err != nil {
					return err
				}
				return a.print(eventJSON(d.Event, payload), nil)
			}
			fmt.Fprintln(a.stdout, "verified")
			return a.printEvent(d.Event)
		},
	}
	cmd.Flags().StringVar(&request, "request", "", `the saved delivery, an HTTP request ("-": standard input)`)
	cmd.Flags().StringVar(&body, "body", "", "a saved body, to check against its signature (hmac, standard)")
	cmd.Flags().StringVar(&contentType, "content-type", "application/json", "with --body: the Content-Type it came with")
	cmd.Flags().StringArrayVar(&headers, "header", nil, "with --body: a signature header it came with, 'NAME: VALUE' (repeat for more)")
	f.add(cmd)
	return readsEnv(cmd, webhookEnv...)
}

// signedBody builds the delivery of a saved body with its signature
// headers. Only signatures may come from flags: a credential sent as is
// would end up in shell history and process lists.
func signedBody(path, contentType string, headers []string, f *verifierFlags) (*http.Request, error) {
	if f.auth != "hmac" && f.auth != "standard" {
		return nil, usagef("--body checks a signature (--auth hmac or standard); a %s credential is a secret: "+
			"save the whole delivery with \"doubletick listen --save\" and use --request", f.auth)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError{err}
	}
	r := httptest.NewRequest(f.methods[0], "/", bytes.NewReader(b))
	r.Header.Set("Content-Type", contentType)
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return nil, usagef("--header %q: want 'NAME: VALUE'", h)
		}
		if http.CanonicalHeaderKey(strings.TrimSpace(name)) == "Authorization" {
			return nil, usagef("--header Authorization: it carries a credential; use --request")
		}
		r.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return r, nil
}

// readRequest reads a saved HTTP request from path, or standard input.
func (a *app) readRequest(path string) (*http.Request, error) {
	in := a.stdin
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return nil, usageError{err}
		}
		defer file.Close()
		in = file
	}
	r, err := http.ReadRequest(bufio.NewReader(in))
	if err != nil {
		return nil, usagef("--request %s: not an HTTP request (%v); save deliveries with \"doubletick listen --save\"", path, err)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, webhooks.DefaultMaxBodySize+1))
	if err != nil {
		return nil, usagef("--request %s: %w", path, err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.RemoteAddr = "saved"
	return r, nil
}

// eventPayload returns e's payload with the invite link of GROUP_CREATED
// masked: it lets anyone join the group.
func eventPayload(e webhooks.Event) (map[string]any, error) {
	var payload map[string]any
	if err := json.Unmarshal(e.RawJSON(), &payload); err != nil {
		return nil, err
	}
	if _, ok := payload["inviteLink"]; ok {
		payload["inviteLink"] = "[hidden: it lets anyone join]"
	}
	return payload, nil
}

// eventJSON is what --json prints of e.
func eventJSON(e webhooks.Event, payload map[string]any) map[string]any {
	return map[string]any{"type": e.Type(), "group": e.Group(), "time": e.Time(), "payload": payload}
}

// printEvent writes one event as listen streams it: a summary line and its
// payload, or with --json one JSON object per line (JSON Lines, so that a
// stream can be read line by line).
func (a *app) printEvent(e webhooks.Event) error {
	payload, err := eventPayload(e)
	if err != nil {
		return err
	}
	if a.json {
		return json.NewEncoder(a.stdout).Encode(eventJSON(e, payload))
	}
	summary := fmt.Sprintf("%s group=%q", e.Type(), e.Group())
	if details := familyDetails(e); details != "" {
		summary = string(e.Type()) + details
	} else if e.Type() == "" {
		summary = "an event whose payload names no type"
	}
	if !e.Time().IsZero() {
		summary += " at " + e.Time().Format(time.RFC3339)
	}
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
		if ev.Type() == "" {
			summary += "; if it is of an event that names no type, tell listen its path: --path-type PATH=EVENT"
		}
	}
	pretty, err := json.MarshalIndent(payload, "  ", "  ")
	if err != nil {
		return err
	}
	// An unknown event's type and a phone are the payload's text, printed
	// as they came: escaped, as the tables are.
	_, err = fmt.Fprintf(terminalSafe{a.stdout}, "%s\n  %s\n", summary, pretty)
	return err
}

// familyDetails summarises an event of the families that name no group:
// what identifies it. It is "" for group events and unknown ones.
func familyDetails(e webhooks.Event) string {
	switch ev := e.(type) {
	case *webhooks.MessageStatusUpdate:
		s := fmt.Sprintf(" message=%s status=%s", ev.MessageID, ev.Status)
		if ev.To.Raw != "" {
			s += " to=" + ev.To.String()
		}
		if ev.FailMessage != "" {
			s += fmt.Sprintf(" reason=%q", ev.FailMessage)
		}
		return s
	case *webhooks.TemplateUpdate:
		return fmt.Sprintf(" template=%s language=%s status=%s (was %s)", ev.TemplateName, ev.TemplateLanguage, ev.NewStatus, cmp.Or(ev.OldStatus, "none"))
	case *webhooks.CustomerNoteCreated:
		return noteDetails(&ev.NoteEvent)
	case *webhooks.CustomerNoteUpdated:
		return noteDetails(&ev.NoteEvent)
	case *webhooks.CustomerNoteDeleted:
		return noteDetails(&ev.NoteEvent)
	case *webhooks.ChatAssignedToAgent:
		return fmt.Sprintf(" chat=%s customer=%s agent=%q", ev.ChatID, ev.CustomerPhone, ev.AssignedUserName)
	case *webhooks.ChatUnassigned:
		return fmt.Sprintf(" chat=%s customer=%s", ev.ChatID, ev.CustomerPhone)
	case *webhooks.ConversationOpened:
		return fmt.Sprintf(" customer=%s number=%s", ev.CustomerPhone, ev.To)
	case *webhooks.CloseConversation:
		return fmt.Sprintf(" customer=%s number=%s", ev.CustomerPhone, ev.To)
	case *webhooks.ConversationCostDeducted:
		return fmt.Sprintf(" conversation=%s type=%s cost=%v", ev.ConversationID, ev.ConversationType, ev.Cost)
	case *webhooks.SLAEscalated:
		return fmt.Sprintf(" customer=%s level=%d", ev.CustomerPhone, ev.EscalationLevel)
	}
	return ""
}

func noteDetails(n *webhooks.NoteEvent) string {
	return fmt.Sprintf(" note=%s customer=%s by=%q", n.NoteID, n.CustomerPhone, n.Agent)
}
