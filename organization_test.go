package doubletick_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
)

func fieldNames(t *testing.T, err error) []string {
	t.Helper()
	var verr *doubletick.ValidationError
	require.ErrorAs(t, err, &verr)
	var names []string
	for _, f := range verr.Fields {
		names = append(names, f.Field+":"+string(f.Rule))
	}
	return names
}

func TestChannelRequestsAreCheckedBeforeSending(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("%s %s was sent", r.Method, r.URL.Path)
	})
	ctx := context.Background()
	many := make([]string, 51)
	for i := range many {
		many[i] = "911111111111"
	}
	many[3] = "91-111"
	_, _, err := c.Channels.List(ctx, &doubletick.ListChannelsOptions{WABANumbers: many})
	assert.Equal(t, []string{"wabaNumber:length", "wabaNumber[3]:digits"}, fieldNames(t, err))

	_, _, err = c.Channels.Update(ctx, &doubletick.UpdateChannelRequest{IntegrationID: "intg_1"})
	assert.Equal(t, []string{"request:required"}, fieldNames(t, err), "at least one field to update")
	_, _, err = c.Channels.Update(ctx, &doubletick.UpdateChannelRequest{
		About: "*bold* " + strings.Repeat("a", 140), Email: "not an email", Vertical: "Gaming",
		Websites: []string{"https://a.example", "b.example", "https://c.example"}, LogoURL: "logo.png",
	})
	assert.Equal(t, []string{"integrationId:required", "email:format", "vertical:one_of", "about:max_length", "about:format",
		"websites:length", "websites[1]:format", "logoUrl:format"}, fieldNames(t, err), "every violation at once")
	// Never stricter than the docs: the limits themselves pass.
	ok := &doubletick.UpdateChannelRequest{IntegrationID: "intg_1", About: strings.Repeat("a", 139),
		DisplayName: strings.Repeat("d", 256), Websites: []string{"https://" + strings.Repeat("w", 240) + ".example"}}
	assert.NoError(t, ok.Validate())
	_, _, err = c.Team.Get(ctx, "+91 900")
	assert.Equal(t, []string{"agentNumber:digits"}, fieldNames(t, err))
}

// One successful update per channel per hour: a 429 of that route is not
// retried (no wait within a call outlasts it), while a 429 elsewhere is.
func TestA429OfTheChannelUpdateIsNotRetried(t *testing.T) {
	var updates, lists atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			updates.Add(1)
		} else {
			lists.Add(1)
		}
		respond(429, `{"statusCode":429,"message":"This channel was already updated in the last hour. Please try again after an hour.","error":"Too Many Requests"}`)(w, r)
	}, doubletick.WithMaxAttempts(3), doubletick.WithBackoff(func(int) time.Duration { return time.Millisecond }))
	_, _, err := c.Channels.Update(context.Background(), &doubletick.UpdateChannelRequest{IntegrationID: "intg_1", About: "x"})
	require.ErrorIs(t, err, doubletick.ErrRateLimited)
	assert.Contains(t, err.Error(), "already updated in the last hour")
	assert.Equal(t, int32(1), updates.Load())
	_, _, err = c.Channels.List(context.Background(), nil)
	require.ErrorIs(t, err, doubletick.ErrRateLimited)
	assert.Equal(t, int32(3), lists.Load(), "other routes' 429s are retried")
}

func TestWalletBalanceReadsANumberOrAString(t *testing.T) {
	for body, want := range map[string]float64{
		`{"currencyCode":"INR","balance":10.34577189385891}`: 10.34577189385891, // guide
		`{"currencyCode":"INR","balance":"3000"}`:            3000,              // the schema's example
		`{"currencyCode":"INR","balance":null}`:              0,
	} {
		c := newTestClient(t, respond(200, body))
		b, _, err := c.Wallet.Get(context.Background())
		require.NoError(t, err, body)
		assert.Equal(t, want, b.Balance, body)
		assert.Equal(t, "INR", b.CurrencyCode)
	}
	c := newTestClient(t, respond(201, `{"currencyCode":"INR","balance":"lots"}`))
	_, _, err := c.Wallet.Get(context.Background())
	var derr *doubletick.DecodeError
	require.ErrorAs(t, err, &derr)
	assert.Contains(t, err.Error(), `balance "lots" is not a number`)
}

func TestTemplateDraftsAreCheckedBeforeSending(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("%s %s was sent", r.Method, r.URL.Path)
	})
	bad := &doubletick.TemplateDraft{Language: "klingon", Category: "PROMO", WABANumbers: []string{"+91"},
		Components: &doubletick.TemplateDefinition{
			Header:  &doubletick.TemplateHeaderDefinition{Format: "TEXT", Text: strings.Repeat("h", 61)},
			Body:    &doubletick.TemplateTextDefinition{},
			Buttons: []doubletick.TemplateButtonDefinition{{Type: "CALL", Text: strings.Repeat("b", 26)}}}}
	_, err := c.Templates.Create(context.Background(), bad)
	assert.Equal(t, []string{"name:required", "language:one_of", "category:one_of", "components.header.text:max_length",
		"components.body.text:required", "components.buttons[0].type:one_of", "components.buttons[0].text:max_length",
		"wabaNumbers[0]:length"}, fieldNames(t, err))
	_, err = c.Templates.Update(context.Background(), "", &doubletick.TemplateDraft{Name: "n", Language: "hi", Category: "UTILITY",
		Components: &doubletick.TemplateDefinition{Body: &doubletick.TemplateTextDefinition{Text: strings.Repeat("b", 1024)}}})
	assert.Equal(t, []string{"templateId:required"}, fieldNames(t, err), "the body is at its limits, not over them")
	_, _, err = c.Templates.List(context.Background(), &doubletick.ListTemplatesOptions{Status: "LIVE", Language: "xx"})
	assert.Equal(t, []string{"status:one_of", "language:one_of"}, fieldNames(t, err))
	_, err = c.Templates.Delete(context.Background(), &doubletick.DeleteTemplateRequest{})
	assert.Equal(t, []string{"name:required", "wabaPhoneNumber:required"}, fieldNames(t, err))
}

// A template's ID is a number in the list's schema and a string in its
// guide: both are read.
func TestTemplateIDsReadAsNumbersOrStrings(t *testing.T) {
	c := newTestClient(t, respond(201, `[{"id":1234,"name":"a"},{"id":"template_id","name":"b"}]`))
	list, _, err := c.Templates.List(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, doubletick.TemplateID("1234"), list[0].ID)
	assert.Equal(t, doubletick.TemplateID("template_id"), list[1].ID)
}

// A 429 on a notes route pauses that route for every caller of the Client,
// and no other route.
func TestA429OnNotesPausesTheNotesRouteOnly(t *testing.T) {
	var notes, groups atomic.Int32
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/notes") {
			notes.Add(1)
			respond(429, `{"statusCode":429,"message":"Too Many Requests"}`, "Retry-After", "30")(w, r)
			return
		}
		groups.Add(1)
		respond(200, `{"groupId":"vip","subject":"VIP"}`)(w, r)
	}, doubletick.WithRateLimit(doubletick.DefaultRateLimit()))
	req := &doubletick.CreateNoteRequest{NoteChat: doubletick.NoteChat{GroupID: "vip"}, Note: "n"}
	_, _, err := c.Notes.Create(context.Background(), req)
	require.ErrorIs(t, err, doubletick.ErrRateLimited)

	// Within a deadline shorter than the pause, the notes route refuses
	// without sending; the group route is not paused.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err = c.Notes.Create(ctx, req)
	require.Error(t, err)
	assert.Equal(t, int32(1), notes.Load(), "the paused route sent nothing more")
	_, _, err = c.Groups.Get(ctx, "vip")
	require.NoError(t, err)
	assert.Equal(t, int32(1), groups.Load())
}

func TestNoteAndChatRequestsAreCheckedBeforeSending(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("%s %s was sent", r.Method, r.URL.Path)
	})
	ctx := context.Background()
	_, _, err := c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: doubletick.NoteChat{GroupID: "g", To: "+919876543210"}})
	assert.Equal(t, []string{"groupId:one_of", "note:required"}, fieldNames(t, err))
	_, _, err = c.Notes.Create(ctx, &doubletick.CreateNoteRequest{NoteChat: doubletick.NoteChat{From: "+91111", To: "+919876543210"}, Note: "n"})
	assert.Equal(t, []string{"from:length"}, fieldNames(t, err))
	_, _, err = c.Notes.List(ctx, &doubletick.ListNotesRequest{NoteChat: doubletick.NoteChat{GroupID: "g"}, Limit: 101, LastNoteID: "x"})
	assert.Equal(t, []string{"limit:length", "lastNoteId:required"}, fieldNames(t, err))
	_, _, err = c.Notes.Update(ctx, "", &doubletick.UpdateNoteRequest{Note: " "})
	assert.Equal(t, []string{"id:required", "note:required"}, fieldNames(t, err))

	_, _, err = c.Chats.Assign(ctx, &doubletick.AssignChatRequest{ChatRef: doubletick.ChatRef{GroupID: "g", CustomerPhoneNumber: "919876543210"},
		AssignedUserPhoneNumber: "123456"})
	assert.Equal(t, []string{"groupId:one_of", "assignedUserPhoneNumber:length"}, fieldNames(t, err))
	_, _, err = c.Chats.Assign(ctx, &doubletick.AssignChatRequest{ChatRef: doubletick.ChatRef{GroupID: "g", WABANumber: "911111111111"},
		AssignedUserPhoneNumber: "1234567"})
	assert.Equal(t, []string{"wabaNumber:one_of"}, fieldNames(t, err), "7 characters is the documented minimum")
	_, err = c.Chats.RemoveAssignment(ctx, &doubletick.RemoveChatAssignmentRequest{})
	assert.Equal(t, []string{"groupId:required"}, fieldNames(t, err))
	_, _, err = c.Chats.List(ctx, &doubletick.ListChatsOptions{Limit: 101, Status: "closed", Unassigned: true, AssignedUserPhone: "919000000002",
		NextChatTimestamp: 1711929600000})
	assert.Equal(t, []string{"limit:length", "status:one_of", "assignedUserPhone:one_of", "nextChatId:required"}, fieldNames(t, err))
}

func TestCustomerRequestsAreCheckedBeforeSending(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("%s %s was sent", r.Method, r.URL.Path)
	})
	ctx := context.Background()
	_, _, err := c.Customers.Get(ctx, &doubletick.GetCustomerRequest{WABANumber: "91x"})
	assert.Equal(t, []string{"phoneNumber:required", "wabaNumber:digits"}, fieldNames(t, err))
	eleven := []string{"+919800000001", "919800000002", "919800000003", "919800000004", "919800000005", "919800000006",
		"919800000007", "919800000008", "919800000009", "919800000010", "91 98"}
	_, _, err = c.Customers.Delete(ctx, &doubletick.DeleteCustomersRequest{PhoneNumbers: eleven})
	assert.Equal(t, []string{"phoneNumbers:length", "phoneNumbers[10]:digits"}, fieldNames(t, err), "at most 10, all violations at once")
	assert.NoError(t, (&doubletick.DeleteCustomersRequest{PhoneNumbers: eleven[:10]}).Validate(), "10 is the documented maximum")
	_, _, err = c.Customers.AssignTags(ctx, &doubletick.AssignCustomerTagsRequest{Phone: "", Tags: []string{" "},
		CustomFields: []doubletick.CustomerField{{Value: "v"}}})
	assert.Equal(t, []string{"phone:required", "tags[0]:required", "customFields[0].name:required"}, fieldNames(t, err))
	_, _, err = c.Customers.RemoveTags(ctx, &doubletick.RemoveCustomerTagsRequest{Phone: "919999999999"})
	assert.Equal(t, []string{"tags:required"}, fieldNames(t, err))
	_, _, err = c.Customers.Assign(ctx, &doubletick.AssignCustomerRequest{CustomerPhoneNumber: "123456", AssignedUserPhoneNumber: "1234567",
		WABANumber: "1234567890123456"})
	assert.Equal(t, []string{"customerPhoneNumber:length", "wabaNumber:length"}, fieldNames(t, err))
	_, err = c.Customers.CreateBlock(ctx, "+91999")
	assert.Equal(t, []string{"phone:length"}, fieldNames(t, err))
	_, err = c.Customers.DeleteBlock(ctx, "")
	assert.Equal(t, []string{"phone:required"}, fieldNames(t, err))
}
