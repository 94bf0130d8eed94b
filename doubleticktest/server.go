// Package doubleticktest runs an in-process fake of DoubleTick's WhatsApp
// Group API on a loopback address, for tests and offline examples.
//
// The fake answers as DoubleTick documents
// (https://docs.doubletick.io/reference/whatsapp-group-public-api and the
// pages it links), never by the SDK's own rules: it checks the API key (in
// Authorization or X-Public-Api-Key), validates bodies by the documented
// rules with its own code, and answers with NestJS-style error bodies
// ({"statusCode", "message", "error"}), each endpoint with the statuses and
// messages its docs list.
//
// Creation is asynchronous, as at DoubleTick: a group is pending for
// [WithCreationDelay] after its create call, then GROUP_CREATED is sent
// ([WithFailedCreations], [WithEarlyNulls] and [Server.WaitCreated] shape
// and follow it).
//
// Where the docs are silent the fake picks the nearest documented answer:
// a missing required query parameter is 400 with class-validator's wording;
// a participant who is not a member is 404 (remove-participant documents
// 200 and 404 only); a new groupId that is taken is 400 (settings documents
// 200, 400 and 404); a repeated groupId at create is 422 by default
// ([WithDuplicateGroupIDStatus]); form data is sent as the webhooks package
// documents reading it.
//
//	srv := doubleticktest.NewServer()
//	defer srv.Close()
//	c := srv.Client()
//	res, _, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{...})
//
// A Server is safe for concurrent use.
package doubleticktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/doubletick-go/doubletick"
)

// APIKey is the key a Server accepts unless [WithAPIKey] sets another.
const APIKey = "key_doubleticktest"

// Group is a group the fake holds.
type Group struct {
	GroupID          string
	WABANumber       string
	Subject          string
	Description      string
	JoinApprovalMode doubletick.JoinApprovalMode
	CreatedAt        time.Time
	// Tags and CustomFields are those assigned through the tags endpoints.
	Tags         []string
	CustomFields map[string]string
}

// member is a present or past participant of a group.
type member struct {
	name                  string
	phone                 string // E.164
	joined, left, removed time.Time
}

// groupState is a group and what the fake keeps about it.
type groupState struct {
	Group
	members  []*member // in join order
	messages []message // in the order sent
	// pending is true while the group is being created; ready is closed
	// when its creation ends, failed or not.
	pending bool
	ready   chan struct{}
}

// message is a message a participant sent in a group.
type message struct {
	phone string // E.164
	at    time.Time
	dtID  string
}

// Server is a fake DoubleTick API listening on loopback.
type Server struct {
	// URL is the base URL of the fake, e.g. "http://127.0.0.1:53412".
	URL string

	apiKey         string
	wabas          map[string]bool // nil: every WABA number has an integration
	now            func() time.Time
	pageSize       int
	duplicateIDErr int
	creationDelay  time.Duration
	failCreations  map[string]bool
	earlyNulls     bool
	limits         map[string]*window // by route key
	http           *httptest.Server
	listener       net.Listener // WithListener's, or nil
	control        bool         // WithControlAPI
	requestLog     *slog.Logger // WithRequestLog's, or nil

	// Webhook delivery.
	numSenders    int
	maxAttempts   int
	retryBase     time.Duration
	webhookClient *http.Client
	ctx           context.Context // cancelled by Close
	cancel        context.CancelFunc
	stop          chan struct{}
	senders       sync.WaitGroup

	mu          sync.Mutex
	groups      map[string]*groupState
	order       []string // group IDs in creation order
	nextID      int
	requests    int
	faults      faults
	receivers   []*Receiver
	queue       []*delivery
	queued      *sync.Cond // signalled on s.mu when the queue grows or the server closes
	closed      bool
	badOptions  []string // what NewServer panics with
	held        []*delivery
	holding     bool
	duplicate   bool
	done        []SentWebhook
	doneChanged chan struct{} // closed and replaced whenever done grows

	// Messaging and webhook subscriptions.
	sent                    []SentMessage
	deliveredDelay          time.Duration // WithMessageStatusDelays'
	readDelay               time.Duration
	failMessages            int // FailNextMessages'
	failMessage             string
	groupEventSubscriptions bool
	uploads                 int

	// The organization (organization.go).
	wabaOrder      []string // WithWABANumbers', in the order given
	channels       []*channel
	team           []TeamMember
	walletSet      bool
	walletCurrency string
	walletBalance  float64
	templates      []*Template // by ID - 1; a deleted one has no Status
	notes          []*note
	assigned       map[chatKey]string   // the agent's phone, by chat
	customers      map[string]*customer // by phone digits
	erased         map[string]bool      // phones whose customer was deleted
	uploadedBytes  int64
	webhooks       []*webhook
}

// Option configures a [Server].
//
// An option given a value it cannot use (a page size of 0, a negative
// delay) makes [NewServer] panic, naming the option and the rule, as
// httptest.NewServer panics when it cannot listen: a fake that silently
// ran with its default would test something other than what was asked.
type Option func(*Server)

// refuse records that an option was given a value it cannot use.
func (s *Server) refuse(format string, args ...any) {
	s.badOptions = append(s.badOptions, fmt.Sprintf(format, args...))
}

// WithAPIKey sets the API key the fake accepts; it must not be empty.
func WithAPIKey(key string) Option {
	return func(s *Server) {
		if key == "" {
			s.refuse("WithAPIKey: the key is empty")
		}
		s.apiKey = key
	}
}

// WithWABANumbers limits the WABA numbers that have an integration; a create
// for any other number is answered 400, as DoubleTick answers it. By default
// every number has one. A number matches with or without its "+". They are
// also the fake's channels, in the order given (by default one channel, of
// [DefaultWABANumber]).
func WithWABANumbers(numbers ...string) Option {
	return func(s *Server) {
		s.wabas = make(map[string]bool, len(numbers))
		s.wabaOrder = nil
		for _, n := range numbers {
			if !s.wabas[phoneDigits(n)] {
				s.wabaOrder = append(s.wabaOrder, phoneDigits(n))
			}
			s.wabas[phoneDigits(n)] = true
		}
	}
}

// phoneDigits returns a phone or WABA number as the fake compares it:
// without its leading "+". A "+" sent unencoded in a query reaches the
// server as a space, as NestJS's query parser decodes it; the space stays,
// and such a number matches none.
func phoneDigits(n string) string { return strings.TrimPrefix(n, "+") }

// hasIntegration reports whether a WABA number has an integration: digits
// after an optional "+" (see phoneDigits).
func (s *Server) hasIntegration(waba string) bool {
	digits := phoneDigits(waba)
	return isDigits(digits) && (s.wabas == nil || s.wabas[digits])
}

// WithClock sets the clock the fake stamps groups and members with.
func WithClock(now func() time.Time) Option {
	return func(s *Server) {
		if now == nil {
			s.refuse("WithClock: the clock is nil")
			return
		}
		s.now = now
	}
}

// WithPageSize sets how many groups or participants one page of the list
// endpoints holds (default 20), at least 1. DoubleTick documents no page
// size.
func WithPageSize(n int) Option {
	return func(s *Server) {
		if n < 1 {
			s.refuse("WithPageSize(%d): a page holds at least 1 item", n)
		}
		s.pageSize = n
	}
}

// WithDuplicateGroupIDStatus sets the status the fake answers a create with
// when the groupId is taken (default 422, a business rule failure), a 4xx
// or 5xx. DoubleTick does not document this case.
func WithDuplicateGroupIDStatus(status int) Option {
	return func(s *Server) {
		if status < 400 || status > 599 {
			s.refuse("WithDuplicateGroupIDStatus(%d): the status of a refusal is 4xx or 5xx", status)
		}
		s.duplicateIDErr = status
	}
}

// DefaultCreationDelay is how long a group stays pending after its create
// call, unless [WithCreationDelay] says otherwise.
const DefaultCreationDelay = 20 * time.Millisecond

// WithCreationDelay sets how long a created group stays pending before Meta
// "confirms" it (default [DefaultCreationDelay]). Creation is asynchronous at
// DoubleTick: the create call answers "initiated"; until the group resolves,
// info, participants and the AI summary answer 404 "Group not found for the
// given groupId", settings, remove-participant and delete 404 "Group not
// found or group creation is still pending", the list leaves it out, and
// then GROUP_CREATED is sent. 0 resolves it before the create call answers.
// Server.Join and the other simulation methods wait for a pending group.
func WithCreationDelay(d time.Duration) Option {
	return func(s *Server) {
		if d < 0 {
			s.refuse("WithCreationDelay(%v): a delay is 0 or more", d)
		}
		s.creationDelay = d
	}
}

// WithFailedCreations makes the creation of these group IDs fail after the
// create call answered "initiated": the group never appears and no webhook
// is sent, as DoubleTick documents no failure event.
func WithFailedCreations(groupIDs ...string) Option {
	return func(s *Server) {
		for _, id := range groupIDs {
			s.failCreations[id] = true
		}
	}
}

// WithEarlyNulls makes GROUP_CREATED carry the documented nulls of an early
// delivery: groupId, groupName and inviteLink null ("null if not yet
// resolvable").
func WithEarlyNulls() Option { return func(s *Server) { s.earlyNulls = true } }

// WithWebhookSenders sets how many webhooks the fake sends at once
// (default 4), at least 1.
func WithWebhookSenders(n int) Option {
	return func(s *Server) {
		if n < 1 {
			s.refuse("WithWebhookSenders(%d): at least 1 sender", n)
		}
		s.numSenders = n
	}
}

// WithWebhookRetries makes the fake send a webhook up to attempts times (at
// least 1) when the receiver does not answer 2xx, waiting firstWait (more
// than 0) before the second attempt and twice as long before each next
// one. By default the fake sends each webhook once, as DoubleTick documents
// no retry of a delivery answered with an error (its only retry setting is
// retryOnTimeout): a receiver that relies on a redelivery loses the event
// against DoubleTick, and its tests should show it. This option is a
// convenience for tests of a receiver's own retry handling.
func WithWebhookRetries(attempts int, firstWait time.Duration) Option {
	return func(s *Server) {
		if attempts < 1 || firstWait <= 0 {
			s.refuse("WithWebhookRetries(%d, %v): at least 1 attempt, and a first wait of more than 0", attempts, firstWait)
		}
		s.maxAttempts, s.retryBase = attempts, firstWait
	}
}

// keepCredentialsOnHost follows up to 10 redirects, as net/http does, but
// sends a delivery's credentials only to the host it was registered for:
// net/http drops Authorization on a redirect to another host, not the
// custom headers (tokens, signatures) a receiver was registered with.
// DoubleTick documents nothing about redirects; a fake that leaked them
// would hide the leak from its users' tests.
func keepCredentialsOnHost(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		for k := range req.Header {
			if k != "Content-Type" && k != "User-Agent" {
				req.Header.Del(k)
			}
		}
	}
	return nil
}

// NewServer starts a fake on a loopback port. Close it when done. It panics
// when an option was given a value it cannot use (see [Option]). It
// answers only requests whose Host is a loopback name or address
// (localhost, 127.0.0.1, [::1]; 421 otherwise), so that a web page whose
// name is rebound to 127.0.0.1 cannot drive it from a browser.
func NewServer(opts ...Option) *Server {
	s := &Server{
		apiKey: APIKey, now: time.Now, pageSize: 20, duplicateIDErr: http.StatusUnprocessableEntity,
		creationDelay: DefaultCreationDelay, failCreations: map[string]bool{},
		groups: make(map[string]*groupState), limits: map[string]*window{}, assigned: map[chatKey]string{},
		customers: map[string]*customer{}, erased: map[string]bool{},
		numSenders: 4, maxAttempts: 1, retryBase: 100 * time.Millisecond,
		stop: make(chan struct{}), doneChanged: make(chan struct{}),
	}
	s.queued = sync.NewCond(&s.mu)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.webhookClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		CheckRedirect: keepCredentialsOnHost}
	for _, opt := range opts {
		opt(s)
	}
	if len(s.badOptions) > 0 {
		panic("doubleticktest: NewServer: " + strings.Join(s.badOptions, "; "))
	}
	s.seedOrganization(s.wabaOrder)
	s.seedTemplates()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /whatsapp/wa-group/create", s.handleCreate)
	mux.HandleFunc("GET /whatsapp/wa-group/info", s.withGroup(notFound, s.handleInfo))
	mux.HandleFunc("POST /whatsapp/wa-group/settings", s.withGroup(notFoundOrPending, s.handleSettings))
	mux.HandleFunc("GET /whatsapp/wa-group/list", s.handleList)
	mux.HandleFunc("DELETE /whatsapp/wa-group", s.withGroup(notFoundOrPending, s.handleDelete))
	mux.HandleFunc("GET /whatsapp/wa-group/participants", s.withGroup(notFound, s.handleParticipants))
	mux.HandleFunc("DELETE /whatsapp/wa-group/participants", s.withGroup(notFoundOrPending, s.handleRemove))
	mux.HandleFunc("GET /channel/wa-group/ai-summary", s.withGroup(notFound, s.handleAISummary))
	mux.HandleFunc("POST /wa-group/assign-tags-custom-fields", s.handleTags(true))
	mux.HandleFunc("POST /wa-group/remove-tags-custom-fields", s.handleTags(false))
	for _, kind := range []string{"text", "image", "video", "audio", "document", "location"} {
		mux.HandleFunc("POST /whatsapp/message/"+kind, s.handleSend(kind))
	}
	mux.HandleFunc("POST /whatsapp/message/template", s.handleTemplate(false))
	mux.HandleFunc("POST /v2/whatsapp/message/template", s.handleTemplate(true))
	mux.HandleFunc("GET /whatsapp/message/status", s.handleStatus)
	mux.HandleFunc("POST /media/upload", s.handleUpload)
	mux.HandleFunc("POST /v2/webhook/register", s.handleRegisterWebhook)
	mux.HandleFunc("POST /v2/webhook/{webhookId}", s.handleUpdateWebhook)
	mux.HandleFunc("GET /v2/webhooks", s.handleListWebhooks)
	mux.HandleFunc("DELETE /v2/webhook/deregister", s.handleDeregisterWebhook)
	mux.HandleFunc("GET /organization/channel/profile", s.handleListChannels)
	mux.HandleFunc("PATCH /organization/channel/profile", s.handleUpdateChannel)
	mux.HandleFunc("GET /team", s.handleTeam)
	mux.HandleFunc("GET /team/member", s.handleTeamMember)
	mux.HandleFunc("GET /roles", s.handleRoles)
	mux.HandleFunc("GET /wallet/balance", s.handleWallet)
	mux.HandleFunc("GET /v2/templates", s.handleListTemplates)
	mux.HandleFunc("POST /template", s.handleCreateTemplate)
	mux.HandleFunc("PATCH /template/{templateId}", s.handleEditTemplate)
	mux.HandleFunc("DELETE /template", s.handleDeleteTemplate)
	mux.HandleFunc("POST /notes", s.handleCreateNote)
	mux.HandleFunc("GET /notes", s.handleListNotes)
	mux.HandleFunc("GET /note", s.handleGetNote)
	mux.HandleFunc("PATCH /notes", s.handleUpdateNote)
	mux.HandleFunc("DELETE /notes", s.handleDeleteNote)
	mux.HandleFunc("POST /team-member/assign", s.handleAssignChat)
	mux.HandleFunc("POST /team-member/unassign", s.handleUnassignChat)
	mux.HandleFunc("GET /chats", s.handleListChats)
	mux.HandleFunc("GET /customer/details", s.handleGetCustomer)
	mux.HandleFunc("POST /customer/assign-tags-custom-fields", s.handleAssignCustomerTags)
	mux.HandleFunc("POST /customer/remove-tags-custom-fields", s.handleRemoveCustomerTags)
	mux.HandleFunc("DELETE /customer", s.handleDeleteCustomers)
	mux.HandleFunc("POST /customer/assign", s.handleAssignCustomer)
	mux.HandleFunc("POST /customer/block", s.handleBlock(true))
	mux.HandleFunc("POST /customer/unblock", s.handleBlock(false))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path))
	})
	var h http.Handler = s.inject(s.authenticate(s.rateLimit(mux)))
	if s.control {
		top := http.NewServeMux()
		top.Handle(ControlPath, s.authenticate(s.controlRoutes()))
		top.Handle("/", h)
		h = top
	}
	h = loopbackHost(h)
	if s.requestLog != nil {
		h = logRequests(s.requestLog, h)
	}
	s.http = httptest.NewUnstartedServer(h)
	if s.listener != nil {
		s.http.Listener.Close()
		s.http.Listener = s.listener
	}
	s.http.Start()
	s.URL = s.http.URL
	for range s.numSenders {
		s.senders.Add(1)
		go s.sender()
	}
	return s
}

// loopbackHost answers 421 to a request whose Host is not a loopback name
// or address. The fake listens on loopback only, but a web page whose name
// is rebound to 127.0.0.1 reaches it from a developer's browser, Host and
// all: it could read every group and add a receiver at any URL, which the
// fake would then call from that machine.
func loopbackHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if ip := net.ParseIP(strings.Trim(host, "[]")); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			writeError(w, http.StatusMisdirectedRequest, "doubleticktest answers only to a loopback Host, not "+strconv.Quote(r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Close shuts the fake down: it waits for the API requests under way, stops
// delivering webhooks (those not yet sent are dropped; use WaitDeliveries
// first to see them through), and stops every goroutine it started.
func (s *Server) Close() {
	s.http.Close()
	s.mu.Lock()
	s.closed = true
	s.queued.Broadcast()
	s.mu.Unlock()
	close(s.stop)
	s.cancel()
	s.senders.Wait()
	s.webhookClient.CloseIdleConnections()
}

// Client returns a Client pointed at the fake with its API key, and without
// the SDK's client-side rate limit, so that a test's 61st call is not held
// back a second: test limits with the fake's own 429s ([WithServerRateLimit], [Server.FailNext]).
func (s *Server) Client() *doubletick.Client {
	c, err := s.NewClient(doubletick.WithoutRateLimit())
	if err != nil {
		// Unreachable: the key and the loopback URL are always valid.
		panic("doubleticktest: " + err.Error())
	}
	return c
}

// NewClient returns a Client pointed at the fake with its API key, with opts
// applied after those two.
func (s *Server) NewClient(opts ...doubletick.Option) (*doubletick.Client, error) {
	return doubletick.NewClient(s.apiKey, append([]doubletick.Option{doubletick.WithBaseURL(s.URL)}, opts...)...)
}

// Groups returns the groups the fake holds, in creation order.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Group, 0, len(s.order))
	for _, id := range s.order {
		g := s.groups[id].Group
		g.Tags = slices.Clone(g.Tags)
		g.CustomFields = maps.Clone(g.CustomFields)
		out = append(out, g)
	}
	return out
}

// Requests returns how many requests the fake has received, authenticated or not.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The key as the API reference sends it, after "key " as
		// DoubleTick's Node and PHP samples send it, or in X-Public-Api-Key.
		auth := r.Header.Get(doubletick.HeaderAuthorization)
		if auth != s.apiKey && auth != "key "+s.apiKey && r.Header.Get(doubletick.HeaderPublicAPIKey) != s.apiKey {
			if bareUnauthorized(r.URL.Path) {
				writeBareError(w, http.StatusUnauthorized, "Unauthorized")
				return
			}
			writeError(w, http.StatusUnauthorized, "Invalid public api key")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bareUnauthorized reports whether path's page documents the bare 401,
// {"statusCode": 401, "message": "Unauthorized"} without error: the
// template, customer (but /customer/assign), team, role, note and chat-list
// pages. The others document {"statusCode", "message": "Invalid public api
// key", "error": "Unauthorized"}.
func bareUnauthorized(path string) bool {
	switch {
	case path == "/customer/assign":
		return false
	case path == "/v2/templates", path == "/template", strings.HasPrefix(path, "/template/"),
		strings.HasPrefix(path, "/customer"), path == "/team", path == "/team/member", path == "/roles",
		path == "/notes", path == "/note", path == "/chats":
		return true
	}
	return false
}

// decodeBody reads a JSON body of at most 1 MiB into v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in NestJS's shape with one message, a string, as an
// exception the API throws itself gives it.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"statusCode": status, "message": msg, "error": http.StatusText(status)})
}

// writeInvalid answers 400 as NestJS's ValidationPipe does: message is the
// list of the rules the request broke, even of one (the message-status page
// shows message: ["messageId must be a UUID"]).
func writeInvalid(w http.ResponseWriter, msgs ...string) {
	writeInvalidAs(w, http.StatusText(http.StatusBadRequest), msgs...)
}

// writeInvalidAs is writeInvalid with the error text a page documents (the
// customer pages write "Not Found" on a 400).
func writeInvalidAs(w http.ResponseWriter, errText string, msgs ...string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"statusCode": http.StatusBadRequest, "message": msgs, "error": errText})
}

// writeBareError answers in the shape several pages document without
// error: {"statusCode", "message"} (the notes pages' 404s, the bare 401,
// the team-member assign's 422, the customer pages' 404s).
func writeBareError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"statusCode": status, "message": msg})
}
