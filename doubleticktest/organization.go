package doubleticktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The organization's side of the fake: its channels (list-channel-details,
// update-channel-details), team (get-team, get-team-member-details,
// get-all-roles) and wallet (get-wallet-balanace-for-org), answered as those
// pages under https://docs.doubletick.io/reference/ document them.

// DefaultWABANumber is the number of the fake's one channel when
// [WithWABANumbers] names none. (Without that option a create is accepted
// for any number, as if each had an integration; only this one is listed.)
const DefaultWABANumber = "911111111111"

// channel is a connected channel the fake holds.
type channel struct {
	id, waba, displayName string
	useMetaName           bool
	profile               *channelProfile
	updatedAt             time.Time // the last successful update, zero if none
}

// channelProfile is a channel's business profile; a nil field is null.
type channelProfile struct {
	Websites    []string `json:"websites"`
	Email       *string  `json:"email"`
	Vertical    *string  `json:"vertical"`
	Address     *string  `json:"address"`
	Description *string  `json:"description"`
	About       *string  `json:"about"`
	Logo        *string  `json:"logo"`
}

// TeamMember is an agent of the fake's organization.
type TeamMember struct {
	ID, Name, Phone, Email string
	// OrgRole is e.g. "OWNER", "TEAM_LEAD" or "AGENT".
	OrgRole string
	Owner   bool
	Joined  time.Time
}

// seedOrganization gives a new Server its channels (one per WABA number of
// WithWABANumbers, in the order given, or DefaultWABANumber), a team of an
// owner and an agent, and a wallet of 3000 INR.
func (s *Server) seedOrganization(numbers []string) {
	if len(numbers) == 0 {
		numbers = []string{DefaultWABANumber}
	}
	for i, n := range numbers {
		about := "Welcome to Acme"
		c := &channel{id: fmt.Sprintf("intg_%010d", i+1), waba: phoneDigits(n), displayName: fmt.Sprintf("Acme %d", i+1)}
		if i == 0 {
			c.profile = &channelProfile{Websites: []string{}, About: &about}
		}
		s.channels = append(s.channels, c)
	}
	joined := time.Date(2024, 11, 26, 11, 2, 31, 855_000_000, time.UTC)
	s.team = []TeamMember{
		{ID: "user_owner0001", Name: "Asha Owner", Phone: "919000000001", Email: "owner@example.com", OrgRole: "OWNER", Owner: true, Joined: joined},
		{ID: "user_agent0002", Name: "Ravi Agent", Phone: "919000000002", Email: "ravi@example.com", OrgRole: "AGENT", Joined: joined.Add(24 * time.Hour)},
	}
	if !s.walletSet {
		s.walletCurrency, s.walletBalance = "INR", 3000
	}
}

// WithWalletBalance sets the wallet's balance and currency (default 3000
// INR).
func WithWalletBalance(currency string, balance float64) Option {
	return func(s *Server) {
		if currency == "" {
			s.refuse("WithWalletBalance: the currency is empty")
		}
		s.walletSet, s.walletCurrency, s.walletBalance = true, currency, balance
	}
}

// AddTeamMember adds an agent to the fake's team; its phone, digits with
// the country code, must be new.
func (s *Server) AddTeamMember(m TeamMember) error {
	m.Phone = phoneDigits(m.Phone)
	if !isDigits(m.Phone) || len(m.Phone) < 7 || len(m.Phone) > 15 || m.Name == "" {
		return fmt.Errorf("a team member needs a name and a phone of 7 to 15 digits, got %q and %q", m.Name, m.Phone)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.teamMember(m.Phone) != nil {
		return fmt.Errorf("a team member has the phone %s already", m.Phone)
	}
	if m.ID == "" {
		m.ID = fmt.Sprintf("user_%08d", len(s.team)+1)
	}
	if m.OrgRole == "" {
		m.OrgRole = "AGENT"
	}
	if m.Joined.IsZero() {
		m.Joined = s.now().UTC()
	}
	s.team = append(s.team, m)
	return nil
}

// SetWalletBalance sets the wallet's balance, in its currency.
func (s *Server) SetWalletBalance(balance float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.walletBalance = balance
}

// channelOf returns the channel of a WABA number (digits), or nil. The
// caller holds s.mu.
func (s *Server) channelOf(waba string) *channel {
	if i := slices.IndexFunc(s.channels, func(c *channel) bool { return c.waba == waba }); i >= 0 {
		return s.channels[i]
	}
	return nil
}

// teamMember returns the team member whose phone (digits) is phone, or
// nil. The caller holds s.mu.
func (s *Server) teamMember(phone string) *TeamMember {
	if i := slices.IndexFunc(s.team, func(m TeamMember) bool { return m.Phone == phone }); i >= 0 {
		return &s.team[i]
	}
	return nil
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// listed is a channel as the list answers it.
func (c *channel) listed() map[string]any {
	var profile any
	if c.profile != nil {
		profile = c.profile
	}
	return map[string]any{"channelId": c.id, "wabaNumber": c.waba, "displayName": c.displayName,
		"status": "CONNECTED", "useMetaName": c.useMetaName, "profile": profile}
}

// handleListChannels answers list-channel-details: every channel with its
// count, or those of the wabaNumber values given (repeated), without it.
func (s *Server) handleListChannels(w http.ResponseWriter, r *http.Request) {
	numbers := r.URL.Query()["wabaNumber"]
	if len(numbers) > 50 {
		writeInvalid(w, "wabaNumber must contain no more than 50 elements")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, c := range s.channels {
		// A "+" sent unencoded reaches NestJS as a space: either way the
		// digits are compared.
		if len(numbers) == 0 || slices.ContainsFunc(numbers, func(n string) bool { return phoneDigits(n) == c.waba }) {
			out = append(out, c.listed())
		}
	}
	if len(numbers) > 0 {
		writeJSON(w, http.StatusOK, map[string]any{"channels": out})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "channels": out})
}

// The verticals update-channel-details accepts.
var docVerticals = []string{"Automotive", "Beauty, Spa and Salon", "Clothing and Apparel", "Education",
	"Entertainment", "Event Planning and Service", "Finance and Banking", "Food and Grocery", "Public Service",
	"Hotel and Lodging", "Medical and Health", "Non-profit", "Professional Services", "Shopping and Retail",
	"Travel and Transportation", "Restaurant", "Other"}

// handleUpdateChannel answers update-channel-details for a JSON body:
// 400 for a body the schema refuses, 404 for an unknown integrationId, 429
// for a channel updated successfully within the hour, else 200 with the
// re-synced profile.
func (s *Server) handleUpdateChannel(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	c := checks{b: b}
	id := c.str("integrationId", true, 0)
	fields := map[string]string{}
	for name, max := range map[string]int{"displayName": 256, "address": 256, "description": 512, "email": 128, "about": 139, "logoUrl": 2048} {
		if v := c.str(name, false, max); v != "" {
			fields[name] = v
		}
	}
	vertical := c.oneOf("vertical", docVerticals...)
	if e, ok := fields["email"]; ok {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			c.msgs = append(c.msgs, "email must be an email")
		}
	}
	if a, ok := fields["about"]; ok && (strings.ContainsAny(a, "~*_") || strings.Contains(a, "```")) {
		c.msgs = append(c.msgs, "about must not contain ~, ```, * or _")
	}
	if u, ok := fields["logoUrl"]; ok && !isURL(u) {
		c.msgs = append(c.msgs, "logoUrl must be a URL address")
	}
	websites, hasWebsites := c.strs("websites", 2, 256)
	for _, u := range websites {
		if !isURL(u) {
			c.msgs = append(c.msgs, "each value in websites must be a URL address")
		}
	}
	if len(fields) == 0 && vertical == "" && !hasWebsites && len(c.msgs) == 0 {
		c.msgs = append(c.msgs, "At least one updatable field is required")
	}
	if len(c.msgs) > 0 {
		writeInvalid(w, c.msgs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.channels, func(ch *channel) bool { return ch.id == id })
	if i < 0 {
		writeError(w, http.StatusNotFound, "Integration not found")
		return
	}
	ch, now := s.channels[i], s.now()
	if !ch.updatedAt.IsZero() && now.Sub(ch.updatedAt) < time.Hour {
		writeError(w, http.StatusTooManyRequests, "This channel was already updated in the last hour. Please try again after an hour.")
		return
	}
	ch.updatedAt = now
	if ch.profile == nil {
		ch.profile = &channelProfile{Websites: []string{}}
	}
	p := ch.profile
	set := func(dst **string, name string) {
		if v, ok := fields[name]; ok {
			*dst = &v
		}
	}
	set(&p.Email, "email")
	set(&p.Address, "address")
	set(&p.Description, "description")
	set(&p.About, "about")
	set(&p.Logo, "logoUrl")
	if vertical != "" {
		p.Vertical = &vertical
	}
	if hasWebsites {
		p.Websites = websites
	}
	if v, ok := fields["displayName"]; ok {
		ch.displayName = v
	}
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "SUCCESS", "integrationId": ch.id, "profile": map[string]any{
		"websites": p.Websites, "email": deref(p.Email), "vertical": deref(p.Vertical), "address": deref(p.Address),
		"description": deref(p.Description), "logo": deref(p.Logo), "about": deref(p.About), "orgName": "Acme Inc",
		"displayName": ch.displayName, "useMetaName": ch.useMetaName,
	}})
}

// isURL reports whether s is an absolute http(s) URL.
func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// strs reads an optional array of strings of at most max items, each at most
// maxLen characters; ok reports whether it was given.
func (c *checks) strs(name string, max, maxLen int) (vals []string, ok bool) {
	raw, present := c.b[name]
	if !present || string(raw) == "null" {
		return nil, false
	}
	if err := json.Unmarshal(raw, &vals); err != nil {
		c.msgs = append(c.msgs, "each value in "+name+" must be a string", name+" must be an array")
		return nil, false
	}
	if max > 0 && len(vals) > max {
		c.msgs = append(c.msgs, fmt.Sprintf("%s must contain no more than %d elements", name, max))
	}
	for _, v := range vals {
		if maxLen > 0 && utf8.RuneCountInString(v) > maxLen {
			c.msgs = append(c.msgs, fmt.Sprintf("each value in %s must be shorter than or equal to %d characters", name, maxLen))
			break
		}
	}
	return vals, true
}

// memberJSON is a team member as get-team lists it.
func memberJSON(m TeamMember) map[string]any {
	role := m.OrgRole
	return map[string]any{"id": m.ID, "name": m.Name, "phone": m.Phone, "email": m.Email,
		"joinDate": m.Joined.UTC().Format("2006-01-02T15:04:05.000Z07:00"), "reportingManager": []any{},
		"orgRoleName": role, "orgRoleId": "role_" + strings.ToLower(role), "isOrganizationOwner": m.Owner}
}

// handleTeam answers get-team.
func (s *Server) handleTeam(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data := make([]map[string]any, 0, len(s.team))
	for _, m := range s.team {
		data = append(data, memberJSON(m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

// handleTeamMember answers get-team-member-details: the member and a role on
// each of the fake's WABA numbers.
func (s *Server) handleTeamMember(w http.ResponseWriter, r *http.Request) {
	number := phoneDigits(r.URL.Query().Get("agentNumber"))
	if !isDigits(number) || len(number) < 7 || len(number) > 15 {
		writeError(w, http.StatusBadRequest, "agentNumber must be a valid phone number")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.teamMember(number)
	if m == nil {
		writeError(w, http.StatusNotFound, "Team member not found")
		return
	}
	out := memberJSON(*m)
	roles := []map[string]any{}
	for _, c := range s.channels {
		roles = append(roles, map[string]any{"wabaName": c.displayName, "wabaNumber": c.waba, "roleName": m.OrgRole})
	}
	out["wabaRoles"] = roles
	writeJSON(w, http.StatusOK, out)
}

// handleRoles answers get-all-roles with the roles of the fake's team.
func (s *Server) handleRoles(w http.ResponseWriter, _ *http.Request) {
	created := "2023-08-25T13:14:26.037Z"
	role := func(name, typ, desc string) map[string]any {
		return map[string]any{"id": "role_" + strings.ToLower(name), "name": name, "description": desc, "type": typ,
			"permissions":  []map[string]any{{"id": "perm_chat", "name": "CHAT", "description": "Reply to chats"}},
			"isCustomRole": false, "dateCreated": created, "dateUpdated": created}
	}
	writeJSON(w, http.StatusOK, []map[string]any{
		role("OWNER", "ORG", "Owns the organization"), role("TEAM_LEAD", "ORG", "Leads a team"),
		role("AGENT", "WHATSAPP", "Answers chats on a WhatsApp number"),
	})
}

// handleWallet answers get-wallet-balanace-for-org: balance a number, as
// the schema types it.
func (s *Server) handleWallet(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"currencyCode": s.walletCurrency, "balance": s.walletBalance})
}
