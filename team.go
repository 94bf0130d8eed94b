package doubletick

import (
	"context"
	"time"
)

// Route keys of the team directory.
const (
	RouteListTeam  = "GET /team"
	RouteGetMember = "GET /team/member"
	RouteListRoles = "GET /roles"
)

var (
	epListTeam  = newEndpoint(RouteListTeam)
	epGetMember = newEndpoint(RouteGetMember)
	epListRoles = newEndpoint(RouteListRoles)
)

// TeamService reads the organization's team: its agents and their roles,
// for mapping a CRM's record owners to the agent phone numbers that
// DoubleTick's assign calls take. Use it through [Client.Team].
type TeamService struct {
	client *Client
}

// TeamMember is an agent of the organization.
type TeamMember struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
	// Email is "" when DoubleTick has none (the guide shows null).
	Email               string             `json:"email"`
	JoinDate            time.Time          `json:"joinDate,omitzero"`
	ReportingManager    []ReportingManager `json:"reportingManager"`
	OrgRoleName         string             `json:"orgRoleName"`
	OrgRoleID           string             `json:"orgRoleId"`
	IsOrganizationOwner bool               `json:"isOrganizationOwner"`
	// WABARoles are the member's roles on each WhatsApp number; only
	// [TeamService.Get] returns them.
	WABARoles []WABARole `json:"wabaRoles,omitempty"`
}

// ReportingManager is an agent a team member reports to.
type ReportingManager struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Phone    string    `json:"phone"`
	Email    string    `json:"email"`
	JoinDate time.Time `json:"joinDate,omitzero"`
}

// WABARole is a team member's role on one WhatsApp number.
type WABARole struct {
	WABAName   string `json:"wabaName"`
	WABANumber string `json:"wabaNumber"`
	RoleName   string `json:"roleName"`
}

// teamList is the answer of GET /team.
type teamList struct {
	Data []TeamMember `json:"data"`
}

// List lists the organization's team members. DoubleTick documents no
// paging: one call returns them all.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/get-team
func (s *TeamService) List(ctx context.Context) ([]TeamMember, *Response, error) {
	res, resp, err := call[teamList](ctx, s.client, epListTeam, nil, nil)
	if err != nil {
		return nil, resp, err
	}
	return res.Data, resp, nil
}

// Get returns the team member whose phone number is agentNumber (digits
// with the country code, a leading "+" allowed), with their role on each
// WhatsApp number. An unknown number is a 404: the error matches
// [ErrNotFound].
//
// DoubleTick API docs: https://docs.doubletick.io/reference/get-team-member-details
func (s *TeamService) Get(ctx context.Context, agentNumber string) (*TeamMember, *Response, error) {
	var v validator
	v.wabaNumber("agentNumber", agentNumber)
	if err := v.err("TeamService.Get"); err != nil {
		return nil, nil, err
	}
	return call[TeamMember](ctx, s.client, epGetMember, struct {
		AgentNumber string `url:"agentNumber"`
	}{wabaDigits(agentNumber)}, nil)
}

// Role is a role team members can have, with its permissions.
type Role struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description"`
	// Type is "ORG" or "WHATSAPP".
	Type         string       `json:"type"`
	Permissions  []Permission `json:"permissions"`
	IsCustomRole bool         `json:"isCustomRole"`
	DateCreated  time.Time    `json:"dateCreated,omitzero"`
	DateUpdated  time.Time    `json:"dateUpdated,omitzero"`
}

// Permission is one permission of a [Role].
type Permission struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// ListRoles lists the organization's roles.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/get-all-roles
func (s *TeamService) ListRoles(ctx context.Context) ([]Role, *Response, error) {
	res, resp, err := call[[]Role](ctx, s.client, epListRoles, nil, nil)
	if err != nil {
		return nil, resp, err
	}
	return *res, resp, nil
}
