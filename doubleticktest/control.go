package doubleticktest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick/webhooks"
)

// WithListener serves the fake on ln instead of a free loopback port; the
// fake closes it. Its address must be a loopback one: the fake accepts a
// published test key and answers anyone who reaches it.
func WithListener(ln net.Listener) Option {
	return func(s *Server) {
		addr, ok := ln.Addr().(*net.TCPAddr)
		if !ok || !addr.IP.IsLoopback() {
			s.refuse("WithListener(%s): the address must be a loopback one", ln.Addr())
			return
		}
		s.listener = ln
	}
}

// ControlPath is where [WithControlAPI] serves the fake's controls.
const ControlPath = "/_doubleticktest/"

// WithControlAPI is a convenience for tests written in other languages, or
// run against "doubletick fake": it serves over HTTP what a Go test calls as
// methods, under [ControlPath], with the same API key. DoubleTick has no
// such endpoints. Each takes and returns JSON:
//
//	POST join      {"groupId", "phone", "name"}   Server.Join: GROUP_PARTICIPANT_JOINED
//	POST leave     {"groupId", "phone"}           Server.Leave: GROUP_PARTICIPANT_LEFT
//	POST message   {"groupId", "from", "text"}    Server.SendMessage: WA_GROUP_MESSAGE_RECEIVED
//	POST receivers a Receiver                     Server.AddReceiver
//	POST team-member {"name", "phone", "email", "role"} Server.AddTeamMember
//	POST wallet    {"balance"}                    Server.SetWalletBalance
//	POST templates {"wabaNumber", "name", "language", "category", "templateStatus", "text"} Server.AddTemplate
//	POST fail-next {"n", "status"}                Server.FailNext
//	POST drop-next {"n"}                          Server.DropNext
//	POST latency   {"latency": "250ms"}           Server.SetLatency
//	GET  groups                                   Server.Groups
//	GET  sent                                     Server.Sent
//	GET  deliveries                               Server.Deliveries
//	GET  (ControlPath itself)                     this list, with each body's fields
//
// A message's sender is "from", a join's or a leave's participant "phone".
// A body with a field its control does not take, or without one it
// requires, is refused naming them and the fields it takes.
//
// The controls are not subject to the faults they set, nor to the fake's
// rate limits, and are not counted by [Server.Requests]. A refused control
// is answered 400 with {"error": "…"}.
func WithControlAPI() Option {
	return func(s *Server) { s.control = true }
}

// controlRoutes serves the control API.
func (s *Server) controlRoutes() http.Handler {
	mux := http.NewServeMux()
	var index []controlEntry
	// post serves a control whose body has fields: "name" required,
	// "name?" optional. A field it does not take, or a required one
	// missing, is refused by name, with the fields it takes.
	postWith := func(name, fields, does string, run func(body controlBody) (any, error)) {
		index = append(index, newControlEntry("POST", name, fields, does))
		entry := index[len(index)-1]
		mux.HandleFunc("POST "+ControlPath+name, func(w http.ResponseWriter, r *http.Request) {
			var data json.RawMessage
			var fields map[string]json.RawMessage
			if err := decodeBody(w, r, &data); err != nil || json.Unmarshal(data, &fields) != nil || fields == nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the body is not a JSON object; " + entry.takes()})
				return
			}
			if err := entry.check(fields); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			var body controlBody
			if err := json.Unmarshal(data, &body); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error() + "; " + entry.takes()})
				return
			}
			answer, err := run(body)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			writeJSON(w, http.StatusOK, answer)
		})
	}
	post := func(name, fields, does string, run func(body controlBody) error) {
		postWith(name, fields, does, func(b controlBody) (any, error) { return map[string]any{}, run(b) })
	}
	get := func(name, does string, read func() any) {
		index = append(index, newControlEntry("GET", name, "", does))
		mux.HandleFunc("GET "+ControlPath+name, func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, read())
		})
	}
	post("join", "groupId phone name?", "Server.Join: the participant (phone) joins; GROUP_PARTICIPANT_JOINED",
		func(b controlBody) error { return s.Join(b.GroupID, b.Phone, b.Name) })
	post("leave", "groupId phone", "Server.Leave: the participant (phone) leaves; GROUP_PARTICIPANT_LEFT",
		func(b controlBody) error { return s.Leave(b.GroupID, b.Phone) })
	post("message", "groupId from text", "Server.SendMessage: a participant (from, their phone) writes; WA_GROUP_MESSAGE_RECEIVED",
		func(b controlBody) error { return s.SendMessage(b.GroupID, b.From, b.Text) })
	post("team-member", "name phone email? role?", "Server.AddTeamMember", func(b controlBody) error {
		return s.AddTeamMember(TeamMember{Name: b.Name, Phone: b.Phone, Email: b.Email, OrgRole: b.Role})
	})
	post("templates", "wabaNumber name language category? templateStatus? text?", "Server.AddTemplate", func(b controlBody) error {
		_, err := s.AddTemplate(Template{WABANumber: b.WABANumber, Name: b.Name, Language: b.Language, Category: b.Category,
			Status: b.TemplateStatus, Body: b.Text})
		return err
	})
	post("wallet", "balance", "Server.SetWalletBalance", func(b controlBody) error {
		if b.Balance == nil {
			return fmt.Errorf("want {\"balance\": a number}")
		}
		s.SetWalletBalance(*b.Balance)
		return nil
	})
	postWith("trigger", "event", "Server.Trigger: a realistic event of this type (GROUP_CREATED, MESSAGE_STATUS_UPDATE, …) "+
		"to the receivers that get it; answers {\"receivers\": how many}", func(b controlBody) (any, error) {
		n, err := s.Trigger(webhooks.Type(b.Event))
		return map[string]int{"receivers": n}, err
	})
	post("fail-messages", "n failMessage?", "Server.FailNextMessages: the next n messages sent are reported FAILED",
		func(b controlBody) error {
			if b.N < 0 {
				return fmt.Errorf("want n ≥ 0, got %d", b.N)
			}
			s.FailNextMessages(b.N, b.FailMessage)
			return nil
		})
	post("template-status", "id templateStatus rejectedReason?", "Server.SetTemplateStatus: a template's review ends; TEMPLATE_UPDATE",
		func(b controlBody) error { return s.SetTemplateStatus(b.ID, b.TemplateStatus, b.RejectedReason) })
	post("fail-next", "n status", "Server.FailNext: the next n API requests are answered status", func(b controlBody) error {
		if b.N < 0 || b.Status < 400 || b.Status > 599 {
			return fmt.Errorf("want n ≥ 0 and a status from 400 to 599, got n %d, status %d", b.N, b.Status)
		}
		s.FailNext(b.N, b.Status)
		return nil
	})
	post("drop-next", "n", "Server.DropNext: the next n API requests get no answer", func(b controlBody) error {
		if b.N < 0 {
			return fmt.Errorf("want n ≥ 0, got %d", b.N)
		}
		s.DropNext(b.N)
		return nil
	})
	post("latency", "latency", "Server.SetLatency: each API answer waits this long (\"250ms\")", func(b controlBody) error {
		d, err := time.ParseDuration(b.Latency)
		if err != nil || d < 0 {
			return fmt.Errorf("latency %q: want a duration such as \"250ms\"", b.Latency)
		}
		s.SetLatency(d)
		return nil
	})
	index = append(index, controlEntry{Method: "POST", Path: ControlPath + "receivers", Body: map[string]string{"…": "a Receiver, as JSON"},
		Does: "Server.AddReceiver: a receiver added as DoubleTick's dashboard adds one; it gets the group events, or its Events"})
	mux.HandleFunc("POST "+ControlPath+"receivers", func(w http.ResponseWriter, r *http.Request) {
		var rec Receiver
		if err := decodeBody(w, r, &rec); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the body is not a Receiver: " + err.Error()})
			return
		}
		if err := s.AddReceiver(rec); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{})
	})
	get("groups", "Server.Groups", func() any { return s.Groups() })
	get("sent", "Server.Sent: the messages sent through the API", func() any { return s.Sent() })
	get("deliveries", "Server.Deliveries: the webhooks sent, and how each was answered", func() any {
		out := []controlDelivery{}
		for _, d := range s.Deliveries() {
			cd := controlDelivery{Receiver: d.Receiver, Event: string(d.Event), Body: string(d.Body),
				Attempts: d.Attempts, Status: d.Status, OK: d.OK}
			if d.Err != nil {
				cd.Error = d.Err.Error()
			}
			out = append(out, cd)
		}
		return out
	})
	mux.HandleFunc("GET "+ControlPath+"{$}", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"controls": index})
	})
	mux.HandleFunc(ControlPath, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no control " + r.Method + " " + r.URL.Path + "; GET " + ControlPath + " lists them"})
	})
	return mux
}

// controlEntry is a control as GET ControlPath lists it.
type controlEntry struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// Body maps each field the control takes to "required" or "optional".
	Body map[string]string `json:"body,omitempty"`
	Does string            `json:"does"`
}

func newControlEntry(method, name, fields, does string) controlEntry {
	e := controlEntry{Method: method, Path: ControlPath + name, Does: does}
	for _, f := range strings.Fields(fields) {
		if e.Body == nil {
			e.Body = map[string]string{}
		}
		if n, ok := strings.CutSuffix(f, "?"); ok {
			e.Body[n] = "optional"
		} else {
			e.Body[f] = "required"
		}
	}
	return e
}

// takes says which fields the control takes.
func (e controlEntry) takes() string {
	var required, optional []string
	for _, f := range slices.Sorted(maps.Keys(e.Body)) {
		if e.Body[f] == "required" {
			required = append(required, f)
		} else {
			optional = append(optional, f)
		}
	}
	out := e.Path + " takes " + strings.Join(required, ", ")
	if len(optional) > 0 {
		out += " (and optionally " + strings.Join(optional, ", ") + ")"
	}
	return out
}

// check refuses a body with a field the control does not take, or without
// one it requires, naming them.
func (e controlEntry) check(raw map[string]json.RawMessage) error {
	var unknown, missingFields []string
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if _, ok := e.Body[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(e.Body)) {
		if v, ok := raw[f]; e.Body[f] == "required" && (!ok || string(v) == "null" || string(v) == `""`) {
			missingFields = append(missingFields, f)
		}
	}
	var problems []string
	if len(unknown) > 0 {
		problems = append(problems, "unknown field(s) "+strings.Join(unknown, ", "))
	}
	if len(missingFields) > 0 {
		problems = append(problems, "missing "+strings.Join(missingFields, ", "))
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", strings.Join(problems, "; "), e.takes())
}

// controlBody is what the POST controls read.
type controlBody struct {
	GroupID string `json:"groupId"`
	Phone   string `json:"phone"`
	Name    string `json:"name"`
	From    string `json:"from"`
	Text    string `json:"text"`
	N       int    `json:"n"`
	Status  int    `json:"status"`
	Latency string `json:"latency"`
	// Email and Role are a team member's; Balance the wallet's.
	Email   string   `json:"email"`
	Role    string   `json:"role"`
	Balance *float64 `json:"balance"`
	// A template's, with Name and Text (its body).
	WABANumber     string `json:"wabaNumber"`
	Language       string `json:"language"`
	Category       string `json:"category"`
	TemplateStatus string `json:"templateStatus"`
	// Trigger's, FailNextMessages' and SetTemplateStatus'.
	Event          string `json:"event"`
	FailMessage    string `json:"failMessage"`
	ID             int    `json:"id"`
	RejectedReason string `json:"rejectedReason"`
}

// controlDelivery is a SentWebhook as the control API shows it.
type controlDelivery struct {
	Receiver string `json:"receiver"`
	Event    string `json:"event"`
	Body     string `json:"body"`
	Attempts int    `json:"attempts"`
	Status   int    `json:"status"`
	OK       bool   `json:"ok"`
	Error    string `json:"error,omitempty"`
}
