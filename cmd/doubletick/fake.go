package main

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/spf13/cobra"
)

// fakeFlags configure "doubletick fake".
type fakeFlags struct {
	addr            string
	pageSize        int
	creationDelay   time.Duration
	failedCreations []string
	earlyNulls      bool
	rateLimits      []string
	latency         time.Duration
	wabas           []string
	receivers       []string
	receiverEvents  []string
	statusDelays    []time.Duration
	receiverAuth    string
	receiverFormat  string
	legacyPayloads  bool
	webhookRetries  int
	groupEvents     bool
	log             bool
}

func (a *app) fakeCommand() *cobra.Command {
	var f fakeFlags
	cmd := &cobra.Command{
		Use:   "fake [--addr 127.0.0.1:8090] [flags]",
		Short: "Serve a fake DoubleTick API on a loopback address, for tests in any language",
		Long: `Serve the SDK's fake DoubleTick API (package doubleticktest) on a loopback
address until Ctrl-C: the group, message, media, status, webhook-
subscription, channel, template, note, chat, team and wallet endpoints,
answering as DoubleTick's docs say, with its asynchronous group creation
and its webhooks. Point this CLI, the SDK or a program in any language at
the address it prints, with the API key it prints (a test key, published;
never a real one).

A test plays the people in the groups, and sets faults, over HTTP with the
same key, under ` + doubleticktest.ControlPath + `: POST join, leave, message, receivers,
team-member, templates, template-status, wallet, trigger, fail-messages,
fail-next, drop-next, latency; GET groups, sent, deliveries; GET
` + doubleticktest.ControlPath + ` lists them with their bodies' fields (see the
package's WithControlAPI). DoubleTick has no such endpoints. "doubletick
trigger EVENT" sends the receivers a realistic event of any type.

Each message sent is reported to the subscribers of MESSAGE_STATUS_UPDATE:
SENT, then DELIVERED and READ (--status-delays); notes, chat assignment and
template reviews send their events too.

Its defaults are DoubleTick's: each webhook is sent once, the subscription
API refuses group events and delivers exactly what a registration was
accepted for; flags opt in to conveniences.`,
		Example: `  doubletick fake
  doubletick fake --addr 127.0.0.1:0 --json      # a free port; its address as JSON on the first line
  doubletick fake --receiver http://127.0.0.1:8080/ --receiver-auth bearer   # with $DOUBLETICK_WEBHOOK_SECRET
  doubletick fake --rate-limit 'POST /whatsapp/wa-group/create=60/1m' --page-size 5 --latency 100ms`,
		Args: args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, receivers, err := a.fakeOptions(&f)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", f.addr)
			if err != nil {
				return usagef("--addr %s: %w", f.addr, err)
			}
			if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
				ln.Close()
				return usagef("--addr %s: not a loopback address: the fake answers anyone who reaches it with a published key", f.addr)
			}
			srv, err := newFake(append(opts, doubleticktest.WithListener(ln), doubleticktest.WithControlAPI())...)
			if err != nil {
				ln.Close()
				return err
			}
			defer srv.Close()
			for _, r := range receivers {
				if err := srv.AddReceiver(r); err != nil {
					return usagef("--receiver %s: %w", r.URL, err)
				}
			}
			if err := a.printFake(srv.URL); err != nil {
				return err
			}
			<-cmd.Context().Done()
			fmt.Fprintln(a.stderr, "fake: stopped")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8090", "the loopback address to serve on (port 0: a free one)")
	fl.IntVar(&f.pageSize, "page-size", 20, "how many groups or participants a list page holds (DoubleTick documents none)")
	fl.DurationVar(&f.creationDelay, "creation-delay", doubleticktest.DefaultCreationDelay, "how long a created group stays pending before GROUP_CREATED")
	fl.StringArrayVar(&f.failedCreations, "failed-creation", nil, "a groupId whose creation fails after the create answered (repeat for more)")
	fl.BoolVar(&f.earlyNulls, "early-nulls", false, "GROUP_CREATED with the null fields DoubleTick documents for it")
	fl.StringArrayVar(&f.rateLimits, "rate-limit", nil, "'METHOD PATH=N/PERIOD': answer 429 past N requests per fixed window (repeat for more)")
	fl.DurationVar(&f.latency, "latency", 0, "a delay before every API answer")
	fl.StringArrayVar(&f.wabas, "waba", nil, "a WABA number with an integration, and a channel (repeat; default: every number, and one channel, "+doubleticktest.DefaultWABANumber+")")
	fl.StringArrayVar(&f.receivers, "receiver", nil, "a URL that gets webhooks as one set up in DoubleTick's dashboard: the group events, or --receiver-event's (repeat for more)")
	fl.StringArrayVar(&f.receiverEvents, "receiver-event", nil, "an event the --receiver URLs get instead of the group events, e.g. CONVERSATION_COST_DEDUCTED (repeat for more)")
	fl.DurationSliceVar(&f.statusDelays, "status-delays", []time.Duration{0, 0}, "DELIVERED,READ: how long after a send each status is reported")
	fl.StringVar(&f.receiverAuth, "receiver-auth", "", "bearer or basic: the receivers get the secret from the environment in Authorization")
	fl.StringVar(&f.receiverFormat, "receiver-format", "json", "the receivers' body format: json or form-data")
	fl.BoolVar(&f.legacyPayloads, "legacy-format", false, "the older payload format (no event field, customerPhone without +)")
	fl.IntVar(&f.webhookRetries, "webhook-retries", 1, "convenience: attempts per webhook, redelivering after an error answer (DoubleTick documents 1)")
	fl.BoolVar(&f.groupEvents, "group-event-subscriptions", false, "convenience: the subscription API accepts group events (DoubleTick's enum lists none)")
	fl.BoolVar(&f.log, "log", false, "log each request to stderr: method, path, status, time taken (never a header, query or body)")
	return readsEnv(cmd, webhookEnv...)
}

// fakeOptions turns the flags into the fake's options, refusing values the
// fake cannot use in this tool's words.
func (a *app) fakeOptions(f *fakeFlags) ([]doubleticktest.Option, []doubleticktest.Receiver, error) {
	switch {
	case f.pageSize < 1:
		return nil, nil, usagef("--page-size %d: a page holds at least 1 item", f.pageSize)
	case f.creationDelay < 0:
		return nil, nil, usagef("--creation-delay %s: want 0 or more", f.creationDelay)
	case f.latency < 0:
		return nil, nil, usagef("--latency %s: want 0 or more", f.latency)
	case f.webhookRetries < 1:
		return nil, nil, usagef("--webhook-retries %d: want 1 or more attempts", f.webhookRetries)
	case len(f.statusDelays) != 2 || f.statusDelays[0] < 0 || f.statusDelays[1] < 0:
		return nil, nil, usagef("--status-delays %v: want two durations of 0 or more, DELIVERED,READ, e.g. 2s,30s", f.statusDelays)
	}
	opts := []doubleticktest.Option{doubleticktest.WithPageSize(f.pageSize), doubleticktest.WithCreationDelay(f.creationDelay),
		doubleticktest.WithMessageStatusDelays(f.statusDelays[0], f.statusDelays[1])}
	if f.log {
		opts = append(opts, doubleticktest.WithRequestLog(slog.New(slog.NewTextHandler(a.stderr, nil))))
	}
	if len(f.failedCreations) > 0 {
		opts = append(opts, doubleticktest.WithFailedCreations(f.failedCreations...))
	}
	if f.earlyNulls {
		opts = append(opts, doubleticktest.WithEarlyNulls())
	}
	if len(f.wabas) > 0 {
		opts = append(opts, doubleticktest.WithWABANumbers(f.wabas...))
	}
	if f.webhookRetries > 1 {
		opts = append(opts, doubleticktest.WithWebhookRetries(f.webhookRetries, 100*time.Millisecond))
	}
	if f.groupEvents {
		opts = append(opts, doubleticktest.WithGroupEventSubscriptions())
	}
	for _, spec := range f.rateLimits {
		route, limit, per, err := parseRateLimit(spec)
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, doubleticktest.WithServerRateLimit(route, limit, per))
	}
	format, err := bodyFormat(f.receiverFormat)
	if err != nil {
		return nil, nil, err
	}
	var auth *doubleticktest.Authorization
	switch f.receiverAuth {
	case "":
	case "bearer", "basic":
		secret, err := a.sendingSecret()
		if err != nil {
			return nil, nil, err
		}
		auth = &doubleticktest.Authorization{Type: strings.ToUpper(f.receiverAuth), Payload: secret}
	default:
		return nil, nil, usagef("--receiver-auth %q: want bearer or basic", f.receiverAuth)
	}
	payloads := doubleticktest.FormatCurrent
	if f.legacyPayloads {
		payloads = doubleticktest.FormatLegacy
	}
	var events []webhooks.Type
	for _, e := range f.receiverEvents {
		events = append(events, webhooks.Type(strings.ToUpper(e)))
	}
	var receivers []doubleticktest.Receiver
	for _, u := range f.receivers {
		receivers = append(receivers, doubleticktest.Receiver{URL: u, BodyFormat: format, Authorization: auth, Format: payloads, Events: events})
	}
	return opts, receivers, nil
}

// parseRateLimit reads "METHOD PATH=N/PERIOD".
func parseRateLimit(spec string) (route string, limit int, per time.Duration, err error) {
	bad := usagef("--rate-limit %q: want 'METHOD PATH=N/PERIOD', e.g. 'POST /whatsapp/wa-group/create=60/1m'", spec)
	i := strings.LastIndexByte(spec, '=')
	if i < 0 {
		return "", 0, 0, bad
	}
	route = spec[:i]
	n, period, ok := strings.Cut(spec[i+1:], "/")
	if !ok || !strings.Contains(route, " /") {
		return "", 0, 0, bad
	}
	if limit, err = strconv.Atoi(n); err != nil || limit < 1 {
		return "", 0, 0, bad
	}
	if per, err = time.ParseDuration(period); err != nil || per <= 0 {
		return "", 0, 0, bad
	}
	return route, limit, per, nil
}

// newFake starts the fake. NewServer panics on an option it cannot use,
// as httptest.NewServer does; the flags were checked first, so this is a
// backstop that turns such a panic into an error.
func newFake(opts ...doubleticktest.Option) (srv *doubleticktest.Server, err error) {
	defer func() {
		if p := recover(); p != nil {
			srv, err = nil, usagef("%v", p)
		}
	}()
	return doubleticktest.NewServer(opts...), nil
}

// printFake says where the fake is and how to use it.
func (a *app) printFake(url string) error {
	key := doubleticktest.APIKey
	if a.json {
		return a.print(map[string]string{"url": url, "apiKey": key, "controlURL": url + doubleticktest.ControlPath}, nil)
	}
	_, err := fmt.Fprintf(a.stdout, `fake DoubleTick API on %[1]s (Ctrl-C to stop)
API key: %[2]s (a test key: the fake's, published)

The CLI:
  export %[3]s=%[1]s %[4]s=%[2]s
  doubletick channels list
  doubletick groups create --waba 911111111111 --subject VIP --group-id vip
curl:
  curl -s -H 'Authorization: %[2]s' '%[1]s/whatsapp/wa-group/info?groupId=vip'
  curl -s -H 'Authorization: %[2]s' -d '{"groupId":"vip","phone":"+919876543210","name":"Asha"}' %[1]s%[5]sjoin
The SDK:
  doubletick.NewClient(key, doubletick.WithBaseURL(%[1]q))
`, url, key, envBaseURL, envAPIKey, doubleticktest.ControlPath)
	return err
}
