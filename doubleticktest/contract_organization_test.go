package doubleticktest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

// The organization's endpoints, as list-channel-details,
// update-channel-details, get-team, get-team-member-details, get-all-roles
// and get-wallet-balanace-for-org document them. Their schemas have no
// required lists (roles' names properties that do not exist): a field is
// required here only where the page says it is always present.
var (
	channelProfileDoc = schema{"websites": arrayOf("string", true), "email": req("string|null"), "vertical": req("string|null"),
		"address": req("string|null"), "description": req("string|null"), "about": req("string|null"), "logo": req("string|null")}
	listedChannel = schema{"channelId": opt("string"), "wabaNumber": opt("string|null"), "displayName": opt("string|null"),
		"status": opt("enum:CONNECTED"), "useMetaName": opt("boolean"), "profile": {typ: "object|null", of: channelProfileDoc}}
	reportingManager = schema{"id": opt("string"), "name": opt("string"), "phone": opt("string"), "email": opt("string"), "joinDate": opt("date-time")}
	teamMember       = schema{"id": opt("string"), "name": opt("string"), "phone": opt("string"), "email": opt("string"),
		"joinDate": opt("date-time"), "reportingManager": arrayOf(reportingManager, false), "orgRoleName": opt("string"),
		"orgRoleId": opt("string"), "isOrganizationOwner": opt("boolean")}
	verticals = "enum:Automotive|Beauty, Spa and Salon|Clothing and Apparel|Education|Entertainment|Event Planning and Service|" +
		"Finance and Banking|Food and Grocery|Public Service|Hotel and Lodging|Medical and Health|Non-profit|Professional Services|" +
		"Shopping and Retail|Travel and Transportation|Restaurant|Other"
)

// orgRoutes are the routes TestContractOrganization drives.
var orgRoutes = []string{doubletick.RouteListChannels, doubletick.RouteUpdateChannel, doubletick.RouteListTeam,
	doubletick.RouteGetMember, doubletick.RouteListRoles, doubletick.RouteGetWalletBalance}

func init() {
	withRoles := schema{"wabaRoles": arrayOf(schema{"wabaName": opt("string"), "wabaNumber": opt("string"), "roleName": opt("string")}, false)}
	for k, f := range teamMember {
		withRoles[k] = f
	}
	for route, r := range map[string]struct {
		query, body   schema
		multipartFile string
	}{
		doubletick.RouteListChannels: {query: schema{"wabaNumber": arrayOf("string", false)}},
		doubletick.RouteUpdateChannel: {body: schema{"integrationId": req("string"), "displayName": opt("string"), "address": opt("string"),
			"description": opt("string"), "email": opt("string"), "vertical": opt(verticals), "about": opt("string"),
			"websites": arrayOf("string", false), "logoUrl": opt("string")}},
		doubletick.RouteListTeam:         {},
		doubletick.RouteGetMember:        {query: schema{"agentNumber": req("string")}},
		doubletick.RouteListRoles:        {},
		doubletick.RouteGetWalletBalance: {},
	} {
		requests[route] = r
	}
	for route, answers := range map[string]map[int]schema{
		doubletick.RouteListChannels: {200: {"count": opt("number"), "channels": arrayOf(listedChannel, false)}},
		doubletick.RouteUpdateChannel: {200: {"status": opt("string"), "integrationId": opt("string"), "profile": {typ: "object", of: schema{
			"websites": arrayOf("string", false), "email": opt("string"), "vertical": opt("string"), "address": opt("string"),
			"description": opt("string"), "logo": opt("string"), "about": opt("string"), "orgName": opt("string"),
			"displayName": opt("string"), "useMetaName": opt("boolean")}}}},
		doubletick.RouteListTeam:  {200: {"data": arrayOf(teamMember, false)}},
		doubletick.RouteGetMember: {200: withRoles},
		doubletick.RouteListRoles: {200: {"id": opt("string"), "name": opt("string"), "description": req("string"),
			"type": req("enum:ORG|WHATSAPP"), "permissions": arrayOf(schema{"id": opt("string"), "name": opt("string"), "description": opt("string")}, true),
			"isCustomRole": req("boolean"), "dateCreated": req("date-time"), "dateUpdated": req("date-time")}},
		doubletick.RouteGetWalletBalance: {200: {"currencyCode": opt("string"), "balance": opt("number")}},
	} {
		responses[route] = answers
	}
	listAnswers[doubletick.RouteListRoles] = true
	for route, errs := range map[string]map[int]string{
		doubletick.RouteListChannels: {403: "You don't have the required permissions to perform this action."},
		doubletick.RouteUpdateChannel: {400: "", 403: "You do not have access to this channel", 404: "Integration not found",
			409: "Integration is not connected", 422: "",
			429: "This channel was already updated in the last hour. Please try again after an hour."},
		doubletick.RouteGetMember: {400: "agentNumber must be a valid phone number", 404: "Team member not found", 422: ""},
	} {
		documentedErrors[route] = errs
	}
}

// TestContractOrganization drives the channel, team and wallet endpoints
// through the SDK to each answer the fake gives them, checks both sides
// against the docs, and that the SDK decodes every success.
func TestContractOrganization(t *testing.T) {
	fake := doubleticktest.NewServer(doubleticktest.WithWABANumbers(waba, "+919999999999"), doubleticktest.WithClock(tick()))
	defer fake.Close()
	c, rec := contractClient(t, fake)
	ctx := context.Background()

	all, _, err := c.Channels.List(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, 2, all.Count)
	require.Len(t, all.Channels, 2)
	assert.Equal(t, waba, all.Channels[0].WABANumber)
	assert.NotNil(t, all.Channels[0].Profile)
	assert.Nil(t, all.Channels[1].Profile, "a channel without a business profile: null")
	some, _, err := c.Channels.List(ctx, &doubletick.ListChannelsOptions{WABANumbers: []string{"+" + waba, "919999999999"}})
	require.NoError(t, err)
	assert.Len(t, some.Channels, 2)
	assert.Zero(t, some.Count, "no count when filtered")

	up := &doubletick.UpdateChannelRequest{IntegrationID: all.Channels[1].ChannelID, DisplayName: "Acme Sales", Email: "sales@acme.example",
		Vertical: "Shopping and Retail", Websites: []string{"https://acme.example"}, LogoURL: "https://acme.example/logo.png"}
	res, _, err := c.Channels.Update(ctx, up)
	require.NoError(t, err)
	assert.Equal(t, "sales@acme.example", res.Profile.Email)
	_, _, err = c.Channels.Update(ctx, up)
	require.ErrorIs(t, err, doubletick.ErrRateLimited, "one update per channel per hour")
	_, _, err = c.Channels.Update(ctx, &doubletick.UpdateChannelRequest{IntegrationID: "intg_9999999999", About: "x"})
	require.ErrorIs(t, err, doubletick.ErrNotFound)

	team, _, err := c.Team.List(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, team)
	m, _, err := c.Team.Get(ctx, team[0].Phone)
	require.NoError(t, err)
	assert.Len(t, m.WABARoles, 2)
	_, _, err = c.Team.Get(ctx, "15550000000")
	require.ErrorIs(t, err, doubletick.ErrNotFound)
	roles, _, err := c.Team.ListRoles(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, roles)
	b, _, err := c.Wallet.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, "INR", b.CurrencyCode)

	seen := checkExchanges(t, rec.exchanges)
	want := map[string][]int{
		doubletick.RouteListChannels: {200}, doubletick.RouteUpdateChannel: {200, 404, 429}, doubletick.RouteListTeam: {200},
		doubletick.RouteGetMember: {200, 404}, doubletick.RouteListRoles: {200}, doubletick.RouteGetWalletBalance: {200},
	}
	assert.ElementsMatch(t, orgRoutes, assertStatuses(t, seen, want))
}
