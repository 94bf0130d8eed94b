package webhooks_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/webhooks"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "samples", name))
	require.NoError(t, err)
	return b
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseDocumentedSamples(t *testing.T) {
	newer := webhooks.GroupEvent{OrgID: "org_abc123", IntegrationID: "int_xyz789", GroupID: "grp_01HX9abc123", GroupName: "Q1 Promotions Team"}
	member := func(when string) webhooks.MembershipEvent {
		return webhooks.MembershipEvent{GroupEvent: newer, Phone: webhooks.Phone{Raw: "+919876543210", E164: "+919876543210"}, At: at(when)}
	}
	cases := []struct {
		file     string
		want     webhooks.Event
		dedupKey string
	}{
		{"s4_group_created.json", &webhooks.GroupCreated{GroupEvent: newer,
			InviteLink: "https://chat.whatsapp.com/abc123xyz", CreatedAt: at("2026-01-15T09:30:00.000Z")},
			"GROUP_CREATED|grp_01HX9abc123||2026-01-15T09:30:00Z"},
		{"s4_participant_joined.json", &webhooks.ParticipantJoined{member("2026-01-15T10:00:00.000Z")},
			"GROUP_PARTICIPANT_JOINED|grp_01HX9abc123|+919876543210|2026-01-15T10:00:00Z"},
		{"s4_participant_left.json", &webhooks.ParticipantLeft{member("2026-01-15T11:15:00.000Z")},
			"GROUP_PARTICIPANT_LEFT|grp_01HX9abc123|+919876543210|2026-01-15T11:15:00Z"},
		{"s4_participant_removed.json", &webhooks.ParticipantRemoved{member("2026-01-15T12:00:00.000Z")},
			"GROUP_PARTICIPANT_REMOVED|grp_01HX9abc123|+919876543210|2026-01-15T12:00:00Z"},
		// The older format: no type field, inferred from the timestamp.
		{"s3_group_created.json", &webhooks.GroupCreated{
			GroupEvent: webhooks.GroupEvent{GroupID: "support_group_001", GroupName: "New Support – Jan 2026"},
			InviteLink: "https://chat.whatsapp.com/SAMPLE_GROUP_INVITE", CreatedAt: at("2026-02-10T08:21:35.120Z")},
			"GROUP_CREATED|support_group_001||2026-02-10T08:21:35.12Z"},
		{"s3_participant_joined.json", &webhooks.ParticipantJoined{webhooks.MembershipEvent{
			GroupEvent: webhooks.GroupEvent{GroupID: "support_group_001", GroupName: "New Support – Jan 2026"},
			Phone:      webhooks.Phone{Raw: "919999999999", E164: "+919999999999"}, At: at("2026-02-10T08:25:10.000Z")}},
			"GROUP_PARTICIPANT_JOINED|support_group_001|+919999999999|2026-02-10T08:25:10Z"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			body := sample(t, tc.file)
			ev, err := webhooks.Parse(body)
			require.NoError(t, err)
			assert.JSONEq(t, string(body), string(ev.RawJSON()), "the raw payload is kept")
			assert.Equal(t, tc.dedupKey, ev.DedupKey())
			assert.Equal(t, tc.want.Type(), ev.Type())
			assert.Equal(t, tc.want.Group(), ev.Group())
			assert.True(t, tc.want.Time().Equal(ev.Time()))
			// Compare the typed fields, not the kept raw bytes.
			assert.Equal(t, strip(t, tc.want), strip(t, ev))
		})
	}
}

// strip returns the exported fields of an event as JSON.
func strip(t *testing.T, ev webhooks.Event) string {
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	return string(b)
}

func TestParseGroupMessage(t *testing.T) {
	ev, err := webhooks.Parse(sample(t, "s4_group_message.json"))
	require.NoError(t, err)
	m, ok := ev.(*webhooks.GroupMessageReceived)
	require.True(t, ok, "%T", ev)
	assert.Equal(t, webhooks.TypeGroupMessageReceived, m.Type())
	assert.Equal(t, "120363012345678901", m.To)
	assert.Equal(t, webhooks.Phone{Raw: "919999999999", E164: "+919999999999"}, m.From)
	assert.Equal(t, "wa_message_id", m.MessageID)
	assert.Equal(t, "dt_message_id", m.DTMessageID)
	assert.Equal(t, "John Doe", m.Contact.Name)
	assert.Equal(t, "TEXT", m.Message.Type)
	assert.Equal(t, "Hello everyone", m.Message.Text)
	assert.JSONEq(t, `{"type":"TEXT","text":"Hello everyone","context":{}}`, string(m.Message.Raw))
	assert.Equal(t, "USER", m.LastMessageOrigin)
	assert.Equal(t, "customer_pvgpZUh3wg", m.CustomerID)
	assert.True(t, at("2026-01-15T11:57:57.796Z").Equal(m.Time()))
	assert.Empty(t, m.Group(), "a message carries Meta's group ID, not the API's")
	assert.Equal(t, "WA_GROUP_MESSAGE_RECEIVED|120363012345678901|wa_message_id", m.DedupKey())
}

func TestParseTypeSources(t *testing.T) {
	cases := map[string]webhooks.Type{
		// eventType names the type in the older format.
		`{"eventType":"GROUP_PARTICIPANT_LEFT","groupId":"g","customerPhone":"919999999999","participantLeftAt":"2026-02-10T08:25:10.000Z"}`: webhooks.TypeParticipantLeft,
		// The older LEFT and REMOVED samples are lost; they are inferred like JOINED.
		`{"groupId":"g","customerPhone":"919999999999","participantLeftAt":"2026-02-10T08:25:10.000Z"}`:    webhooks.TypeParticipantLeft,
		`{"groupId":"g","customerPhone":"919999999999","participantRemovedAt":"2026-02-10T08:25:10.000Z"}`: webhooks.TypeParticipantRemoved,
		// event wins over inference.
		`{"event":"GROUP_PARTICIPANT_REMOVED","orgId":"o","integrationId":"i","groupId":"g","groupName":null,"customerPhone":"+919999999999","participantRemovedAt":"2026-02-10T08:25:10.000Z","participantLeftAt":"2026-02-10T08:25:10.000Z"}`: webhooks.TypeParticipantRemoved,
	}
	for body, want := range cases {
		ev, err := webhooks.Parse([]byte(body))
		require.NoError(t, err, body)
		assert.Equal(t, want, ev.Type(), body)
	}
}

func TestParseNullsAndUnknowns(t *testing.T) {
	ev, err := webhooks.Parse([]byte(`{"event":"GROUP_CREATED","orgId":"o","integrationId":"i","groupId":null,"groupName":null,"inviteLink":null,"groupCreatedAt":"2026-01-15T09:30:00.000Z","brandNew":{"x":1}}`))
	require.NoError(t, err)
	gc := ev.(*webhooks.GroupCreated)
	assert.Empty(t, gc.GroupID)
	assert.Empty(t, gc.GroupName)
	assert.Empty(t, gc.InviteLink)
	assert.Contains(t, string(gc.RawJSON()), `"brandNew":{"x":1}`, "unknown fields stay reachable")

	ev, err = webhooks.Parse([]byte(`{"event":"GROUP_SETTINGS_UPDATED","groupId":"g1","subject":"new"}`))
	require.NoError(t, err, "a new event type is not an error")
	u, ok := ev.(*webhooks.Unknown)
	require.True(t, ok)
	assert.Equal(t, webhooks.Type("GROUP_SETTINGS_UPDATED"), u.Type())
	assert.Equal(t, "g1", u.Group())
	assert.JSONEq(t, `{"event":"GROUP_SETTINGS_UPDATED","groupId":"g1","subject":"new"}`, string(u.RawJSON()))
	assert.True(t, strings.HasPrefix(u.DedupKey(), "unknown|GROUP_SETTINGS_UPDATED|"))

	ev, err = webhooks.Parse([]byte(`{"hello":"world"}`))
	require.NoError(t, err)
	assert.Equal(t, webhooks.Type(""), ev.Type())
}

func TestParseFormData(t *testing.T) {
	form := url.Values{
		"event": {"GROUP_PARTICIPANT_JOINED"}, "orgId": {"org_abc123"}, "integrationId": {"int_xyz789"},
		"groupId": {"grp_01HX9abc123"}, "groupName": {"Q1 Promotions Team"},
		"customerPhone": {"+919876543210"}, "participantJoinedAt": {"2026-01-15T10:00:00.000Z"},
	}
	fromForm, err := webhooks.ParseContent("application/x-www-form-urlencoded", []byte(form.Encode()))
	require.NoError(t, err)
	fromJSON, err := webhooks.Parse(sample(t, "s4_participant_joined.json"))
	require.NoError(t, err)
	assert.Equal(t, strip(t, fromJSON), strip(t, fromForm))
	assert.Equal(t, fromJSON.DedupKey(), fromForm.DedupKey())

	sniffed, err := webhooks.ParseContent("", []byte(form.Encode()))
	require.NoError(t, err)
	assert.Equal(t, webhooks.TypeParticipantJoined, sniffed.Type())
	_, err = webhooks.Parse([]byte(form.Encode()))
	assert.ErrorIs(t, err, webhooks.ErrMalformedPayload, "Parse reads JSON only")

	msg := url.Values{"type": {"wa_group"}, "to": {"120363012345678901"}, "from": {"919999999999"}, "messageId": {"m1"},
		"receivedAt": {"2026-01-15T11:57:57.796Z"}, "contact[name]": {"John Doe"}, "message[type]": {"TEXT"},
		"message[text]": {"Hi"}, "isAgentOffline": {"false"}, "dtCustomerId": {"c1"}}
	ev, err := webhooks.ParseContent("application/x-www-form-urlencoded; charset=utf-8", []byte(msg.Encode()))
	require.NoError(t, err)
	m := ev.(*webhooks.GroupMessageReceived)
	assert.Equal(t, "John Doe", m.Contact.Name)
	assert.Equal(t, "Hi", m.Message.Text)

	var mp strings.Builder
	mp.WriteString("--XYZ\r\nContent-Disposition: form-data; name=\"event\"\r\n\r\nGROUP_CREATED\r\n")
	mp.WriteString("--XYZ\r\nContent-Disposition: form-data; name=\"groupId\"\r\n\r\ng9\r\n")
	mp.WriteString("--XYZ\r\nContent-Disposition: form-data; name=\"orgId\"\r\n\r\no\r\n")
	mp.WriteString("--XYZ\r\nContent-Disposition: form-data; name=\"integrationId\"\r\n\r\ni\r\n")
	mp.WriteString("--XYZ\r\nContent-Disposition: form-data; name=\"groupName\"\r\n\r\nG\r\n")
	mp.WriteString("--XYZ\r\nContent-Disposition: form-data; name=\"groupCreatedAt\"\r\n\r\n2026-01-15T09:30:00.000Z\r\n--XYZ--\r\n")
	ev, err = webhooks.ParseContent(`multipart/form-data; boundary=XYZ`, []byte(mp.String()))
	require.NoError(t, err)
	assert.Equal(t, "g9", ev.Group())
	assert.Equal(t, webhooks.TypeGroupCreated, ev.Type())
}

func TestParseRejectsMalformedBodies(t *testing.T) {
	cases := map[string]struct{ contentType, body string }{
		"empty":                {"", ""},
		"blank":                {"", "  \n"},
		"truncated":            {"", `{"event":"GROUP_CREATED","groupId":"g`},
		"not an object":        {"application/json", `["GROUP_CREATED"]`},
		"phone is a number":    {"", `{"event":"GROUP_PARTICIPANT_JOINED","customerPhone":919999999999}`},
		"bad timestamp":        {"", `{"event":"GROUP_CREATED","groupCreatedAt":"yesterday"}`},
		"group id is a number": {"", `{"event":"GROUP_CREATED","groupId":42}`},
		"bad form":             {"application/x-www-form-urlencoded", "a=%zz"},
		"bad form key":         {"application/x-www-form-urlencoded", "message[text=1"},
		"form clash":           {"application/x-www-form-urlencoded", "message=1&message[text]=2"},
		"bad multipart":        {"multipart/form-data; boundary=XYZ", "--XYZ\r\nno end"},
		"json literal":         {"application/json", `null`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ev, err := webhooks.ParseContent(tc.contentType, []byte(tc.body))
			assert.ErrorIs(t, err, webhooks.ErrMalformedPayload)
			assert.Nil(t, ev)
		})
	}
}

// Two different events never share a dedup key, whatever their fields hold:
// a "|" in a group ID once made these two one key, and the second was
// absorbed as a redelivery of the first.
func TestDedupKeysOfDifferentEventsDiffer(t *testing.T) {
	at := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	joined := func(group, phone string) webhooks.Event {
		return &webhooks.ParticipantJoined{MembershipEvent: webhooks.MembershipEvent{
			GroupEvent: webhooks.GroupEvent{GroupID: group}, Phone: webhooks.Phone{Raw: phone}, At: at}}
	}
	pairs := [][2]webhooks.Event{
		{joined("a|b", "c"), joined("a", "b|c")},
		{joined(`a\`, "|b"), joined(`a\|`, "b")},
		{joined("g", `x\|y`), joined("g", `x\\|y`)},
		{&webhooks.GroupMessageReceived{To: "1", MessageID: "dt|m"}, &webhooks.GroupMessageReceived{To: "1", DTMessageID: "m"}},
		{&webhooks.GroupMessageReceived{To: "1|2", MessageID: "m"}, &webhooks.GroupMessageReceived{To: "1", MessageID: "2|m"}},
	}
	for _, p := range pairs {
		assert.NotEqual(t, p[0].DedupKey(), p[1].DedupKey())
	}
	// A key without the separator in any field reads as before.
	assert.Equal(t, "GROUP_PARTICIPANT_JOINED|g|+91|2026-01-15T10:00:00Z", joined("g", "+91").DedupKey())
}

func TestRegistrationTypesAreTheDocumentedOnes(t *testing.T) {
	types := webhooks.RegistrationTypes()
	assert.Len(t, types, 30, "the register-webhook page's enum")
	assert.Contains(t, types, webhooks.TypeMessageStatusUpdate)
	assert.NotContains(t, types, webhooks.TypeGroupCreated, "group events are the dashboard's")
	assert.NotContains(t, types, webhooks.TypeSLAEscalated)
	types[0] = "CHANGED"
	assert.Equal(t, webhooks.TypeMessageReceived, webhooks.RegistrationTypes()[0], "a copy each time")
}
