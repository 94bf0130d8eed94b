package doubleticktest

import (
	"fmt"
	"net"
	"net/http"
	"time"
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
	post := func(name string, run func(body controlBody) error) {
		mux.HandleFunc("POST "+ControlPath+name, func(w http.ResponseWriter, r *http.Request) {
			var body controlBody
			if err := decodeBody(w, r, &body); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the body is not JSON: " + err.Error()})
				return
			}
			if err := run(body); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{})
		})
	}
	get := func(name string, read func() any) {
		mux.HandleFunc("GET "+ControlPath+name, func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, read())
		})
	}
	post("join", func(b controlBody) error { return s.Join(b.GroupID, b.Phone, b.Name) })
	post("leave", func(b controlBody) error { return s.Leave(b.GroupID, b.Phone) })
	post("message", func(b controlBody) error { return s.SendMessage(b.GroupID, b.From, b.Text) })
	post("team-member", func(b controlBody) error {
		return s.AddTeamMember(TeamMember{Name: b.Name, Phone: b.Phone, Email: b.Email, OrgRole: b.Role})
	})
	post("templates", func(b controlBody) error {
		_, err := s.AddTemplate(Template{WABANumber: b.WABANumber, Name: b.Name, Language: b.Language, Category: b.Category,
			Status: b.TemplateStatus, Body: b.Text})
		return err
	})
	post("wallet", func(b controlBody) error {
		if b.Balance == nil {
			return fmt.Errorf("want {\"balance\": a number}")
		}
		s.SetWalletBalance(*b.Balance)
		return nil
	})
	post("fail-next", func(b controlBody) error {
		if b.N < 0 || b.Status < 400 || b.Status > 599 {
			return fmt.Errorf("want n ≥ 0 and a status from 400 to 599, got n %d, status %d", b.N, b.Status)
		}
		s.FailNext(b.N, b.Status)
		return nil
	})
	post("drop-next", func(b controlBody) error {
		if b.N < 0 {
			return fmt.Errorf("want n ≥ 0, got %d", b.N)
		}
		s.DropNext(b.N)
		return nil
	})
	post("latency", func(b controlBody) error {
		d, err := time.ParseDuration(b.Latency)
		if err != nil || d < 0 {
			return fmt.Errorf("latency %q: want a duration such as \"250ms\"", b.Latency)
		}
		s.SetLatency(d)
		return nil
	})
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
	get("groups", func() any { return s.Groups() })
	get("sent", func() any { return s.Sent() })
	get("deliveries", func() any {
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
	mux.HandleFunc(ControlPath, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no control " + r.Method + " " + r.URL.Path})
	})
	return mux
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
