package webhooks_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// TestSignedJSONReplayedAsFormIsRefused replays a genuinely signed JSON
// message whose text reads like form data with a form Content-Type: the
// handler must not read it as a REMOVED event.
func TestSignedJSONReplayedAsFormIsRefused(t *testing.T) {
	key := []byte("gateway-signing-key")
	v, err := webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, key)
	require.NoError(t, err)
	var events atomic.Int32
	h, err := webhooks.NewHandler(v, webhooks.OnEvent(func(context.Context, webhooks.Event) error {
		events.Add(1)
		return nil
	}))
	require.NoError(t, err)
	body := []byte(`{"to":"120363012345678901","from":"919999999999","messageId":"m1","receivedAt":"2026-01-15T11:57:57.796Z",` +
		`"type":"wa_group","dtCustomerId":"c1","message":{"type":"TEXT","text":"hi&event=GROUP_PARTICIPANT_REMOVED&orgId=o&integrationId=i` +
		`&groupId=victim&groupName=x&customerPhone=%2B15550001111&participantRemovedAt=2026-01-15T12:00:00.000Z&x="}}`)

	replay := post(t, body, webhookstest.HMAC("X-Signature", webhooks.Hex, key),
		webhookstest.Header("Content-Type", "application/x-www-form-urlencoded"))
	assert.Equal(t, 415, serve(t, h, replay).Code)
	assert.Zero(t, events.Load(), "nothing ran")

	genuine := post(t, body, webhookstest.HMAC("X-Signature", webhooks.Hex, key))
	assert.Equal(t, 200, serve(t, h, genuine).Code)
	assert.Equal(t, int32(1), events.Load())
}

// TestDeepFormNestingIsRefusedCheaply parses a 4 MB form key nested a
// million levels deep in a child process, so that a fatal stack overflow
// fails this test instead of killing the run.
func TestDeepFormNestingIsRefusedCheaply(t *testing.T) {
	if os.Getenv("WEBHOOKS_DEEP_FORM_CHILD") == "1" {
		body := "a" + strings.Repeat("[b]", 1_400_000) + "=1"
		_, err := webhooks.ParseContent("application/x-www-form-urlencoded", []byte(body))
		if !assert.ErrorIs(t, err, webhooks.ErrMalformedPayload) {
			os.Exit(3)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeepFormNestingIsRefusedCheaply$", "-test.count=1")
	cmd.Env = append(os.Environ(), "WEBHOOKS_DEEP_FORM_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child: %s", out)
}

func TestFormLimits(t *testing.T) {
	ok := "a" + strings.Repeat("[b]", webhooks.MaxFormDepth-1) + "=1&event=GROUP_X"
	_, err := webhooks.ParseContent("application/x-www-form-urlencoded", []byte(ok))
	assert.NoError(t, err, "%d levels are allowed", webhooks.MaxFormDepth)

	for name, body := range map[string]string{
		"too deep":     "a" + strings.Repeat("[b]", webhooks.MaxFormDepth) + "=1",
		"too many":     strings.Repeat("k=v&", webhooks.MaxFormFields) + "last=1",
		"long key":     strings.Repeat("k", webhooks.MaxFormKeyLength+1) + "=1",
		"repeated key": "event=GROUP_CREATED&event=GROUP_PARTICIPANT_LEFT",
		"sparse list":  "message[contacts][1][name][first_name]=x",
		"list index":   "message[contacts][01][name][first_name]=x",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := webhooks.ParseContent("application/x-www-form-urlencoded", []byte(body))
			assert.ErrorIs(t, err, webhooks.ErrMalformedPayload)
		})
	}
}

// TestFormValuesKeepTheirDocumentedType sends strings that read like other
// JSON values: they stay strings.
func TestFormValuesKeepTheirDocumentedType(t *testing.T) {
	for _, name := range []string{"true", "false", "null", "42", "[1,2]", `{"a":1}`, " true "} {
		form := url.Values{"event": {"GROUP_CREATED"}, "orgId": {"o"}, "integrationId": {"i"}, "groupId": {"g"},
			"groupName": {name}, "groupCreatedAt": {"2026-01-15T09:30:00.000Z"}}
		ev, err := webhooks.ParseContent("application/x-www-form-urlencoded", []byte(form.Encode()))
		require.NoError(t, err, name)
		assert.Equal(t, name, ev.(*webhooks.GroupCreated).GroupName)
	}

	msg := url.Values{"type": {"wa_group"}, "to": {"120363012345678901"}, "from": {"919999999999"}, "messageId": {"m1"},
		"receivedAt": {"2026-01-15T11:57:57.796Z"}, "dtCustomerId": {"c1"}, "isAgentOffline": {"true"},
		"message[type]": {"LOCATION"}, "message[latitude]": {"19.082502"}, "message[longitude]": {"72.7163737"},
		"message[name]": {"[1,2]"}, "message[address]": {"null"}, "dtPairedTemplateId": {"123"}}
	ev, err := webhooks.ParseContent("application/x-www-form-urlencoded", []byte(msg.Encode()))
	require.NoError(t, err)
	m := ev.(*webhooks.GroupMessageReceived)
	assert.True(t, m.IsAgentOffline, "a documented boolean is converted")
	assert.InDelta(t, 19.082502, m.Message.Latitude, 1e-9, "a documented number is converted")
	assert.Equal(t, "[1,2]", m.Message.Name)
	assert.Equal(t, "null", m.Message.Address)
	assert.Equal(t, webhooks.TemplateID("123"), m.DTPairedTemplateID)

	msg.Set("isAgentOffline", "yes")
	_, err = webhooks.ParseContent("application/x-www-form-urlencoded", []byte(msg.Encode()))
	var fe *webhooks.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "isAgentOffline", fe.Field)
	msg.Set("isAgentOffline", "false")
	msg.Set("message[latitude]", `"19"`)
	_, err = webhooks.ParseContent("application/x-www-form-urlencoded", []byte(msg.Encode()))
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "message.latitude", fe.Field)
}

func TestFormListsAndAbsentNulls(t *testing.T) {
	form := url.Values{"type": {"wa_group"}, "to": {"120363012345678901"}, "from": {"919999999999"}, "messageId": {"m1"},
		"receivedAt": {"2026-01-15T11:57:57.796Z"}, "dtCustomerId": {"c1"}, "message[type]": {"CONTACTS"},
		"message[contacts][0][name][formatted_name]": {"Ann Lee"},
		"message[contacts][0][phones][0][phone]":     {"+15550001111"},
		"message[contacts][0][phones][1][phone]":     {"+15550002222"},
		"message[contacts][1][name][first_name]":     {"Bo"},
	}
	ev, err := webhooks.ParseContent("application/x-www-form-urlencoded", []byte(form.Encode()))
	require.NoError(t, err)
	m := ev.(*webhooks.GroupMessageReceived)
	require.Len(t, m.Message.Contacts, 2)
	assert.Equal(t, "Ann Lee", m.Message.Contacts[0].Name.FormattedName)
	require.Len(t, m.Message.Contacts[0].Phones, 2)
	assert.Equal(t, "+15550002222", m.Message.Contacts[0].Phones[1].Phone)
	assert.Equal(t, "Bo", m.Message.Contacts[1].Name.FirstName)
	assert.Empty(t, m.DTLastMessageID, "absent is null")

	created := url.Values{"event": {"GROUP_CREATED"}, "orgId": {"o"}, "integrationId": {"i"}, "groupCreatedAt": {"2026-01-15T09:30:00.000Z"}}
	ev, err = webhooks.ParseContent("application/x-www-form-urlencoded", []byte(created.Encode()))
	require.NoError(t, err, "groupId, groupName and inviteLink are null by their absence")
	assert.Empty(t, ev.Group())
}

// TestFormJSONText: a field documented as an object or a list may come as
// one form field of JSON text, as form encoders often send nested values;
// it reads as the same event as its bracket form. Text of another type is
// refused, naming the field, and strings stay strings.
func TestFormJSONText(t *testing.T) {
	base := func() url.Values {
		return url.Values{"type": {"wa_group"}, "to": {"120363012345678901"}, "from": {"919999999999"}, "messageId": {"m1"},
			"receivedAt": {"2026-01-15T11:57:57.796Z"}, "dtCustomerId": {"c1"}}
	}
	parse := func(form url.Values) (*webhooks.GroupMessageReceived, error) {
		ev, err := webhooks.ParseContent("application/x-www-form-urlencoded", []byte(form.Encode()))
		if err != nil {
			return nil, err
		}
		return ev.(*webhooks.GroupMessageReceived), nil
	}

	brackets := base()
	brackets.Set("message[type]", "CONTACTS")
	brackets.Set("message[context][id]", "wamid.1")
	brackets.Set("message[contacts][0][name][formatted_name]", "Ann Lee")
	brackets.Set("message[contacts][0][phones][0][phone]", "+15550001111")
	want, err := parse(brackets)
	require.NoError(t, err)

	for name, fields := range map[string]map[string]string{
		"whole message": {"message": `{"type":"CONTACTS","context":{"id":"wamid.1"},"contacts":[{"name":{"formatted_name":"Ann Lee"},"phones":[{"phone":"+15550001111"}]}]}`},
		"a list": {"message[type]": "CONTACTS", "message[context][id]": "wamid.1",
			"message[contacts]": ` [{"name":{"formatted_name":"Ann Lee"},"phones":[{"phone":"+15550001111"}]}]`},
		"a list item": {"message[type]": "CONTACTS", "message[context]": `{"id":"wamid.1"}`,
			"message[contacts][0]": `{"name":{"formatted_name":"Ann Lee"},"phones":[{"phone":"+15550001111"}]}`},
		"nested in brackets": {"message[type]": "CONTACTS", "message[context][id]": "wamid.1",
			"message[contacts][0][name]":   `{"formatted_name":"Ann Lee"}`,
			"message[contacts][0][phones]": `[{"phone":"+15550001111"}]`},
	} {
		t.Run(name, func(t *testing.T) {
			form := base()
			for k, v := range fields {
				form.Set(k, v)
			}
			got, err := parse(form)
			require.NoError(t, err)
			assert.Equal(t, want.Message.Contacts, got.Message.Contacts)
			assert.Equal(t, want.Message.Context, got.Message.Context)
			assert.Equal(t, want.DedupKey(), got.DedupKey())
		})
	}

	for name, tc := range map[string]struct{ key, value, field string }{
		"a list as an object":        {"message[contacts]", `{"0":{}}`, "message.contacts"},
		"an object as a list":        {"message[context]", `[{"id":"x"}]`, "message.context"},
		"an object as a string":      {"message", `TEXT`, "message"},
		"broken JSON":                {"message", `{"type":"TEXT"`, "message"},
		"a number as a string field": {"message", `{"type":"TEXT","text":42}`, ""}, // the JSON parser names /message/text
		"a repeated key in the text": {"message", `{"type":"TEXT","type":"IMAGE"}`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			form := base()
			form.Set("message[type]", "TEXT")
			if tc.key == "message" {
				form.Del("message[type]")
			}
			form.Set(tc.key, tc.value)
			_, err := parse(form)
			require.ErrorIs(t, err, webhooks.ErrMalformedPayload)
			var fe *webhooks.FieldError
			if tc.field != "" && assert.ErrorAs(t, err, &fe) {
				assert.Equal(t, tc.field, fe.Field)
			}
		})
	}

	// A string field stays a string, whatever JSON it reads as.
	form := base()
	form.Set("message[type]", "TEXT")
	form.Set("message[text]", `{"a":1}`)
	got, err := parse(form)
	require.NoError(t, err)
	assert.Equal(t, `{"a":1}`, got.Message.Text)
}

// TestJSONKeysMatchExactlyAndOnce: a repeated key, or a key that differs
// only in case, must not change what the event says.
func TestJSONKeysMatchExactlyAndOnce(t *testing.T) {
	joined := string(sample(t, "s4_participant_joined.json"))
	for name, body := range map[string]string{
		"repeated event":         strings.Replace(joined, `"event"`, `"event": "GROUP_PARTICIPANT_LEFT", "event"`, 1),
		"repeated group":         strings.Replace(joined, `"groupId"`, `"groupId": "other", "groupId"`, 1),
		"repeated nested":        `{"hello":{"a":1,"a":2}}`,
		"repeated message field": strings.Replace(string(sample(t, "s4_group_message.json")), `"text"`, `"text": "x", "text"`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := webhooks.Parse([]byte(body))
			assert.ErrorIs(t, err, webhooks.ErrMalformedPayload)
		})
	}

	// Keys in another case are not the documented fields.
	body := strings.Replace(joined, "{", `{"Event":"GROUP_PARTICIPANT_LEFT","GroupID":"forged","CUSTOMERPHONE":"+15550009999",`, 1)
	ev, err := webhooks.Parse([]byte(body))
	require.NoError(t, err)
	j, ok := ev.(*webhooks.ParticipantJoined)
	require.True(t, ok, "%T", ev)
	assert.Equal(t, "grp_01HX9abc123", j.GroupID)
	assert.Equal(t, "+919876543210", j.Phone.E164)
	assert.False(t, j.At.IsZero())

	_, err = webhooks.Parse([]byte(`{"Event":"GROUP_CREATED","GroupId":"g","groupCreatedAt":"2026-01-15T09:30:00.000Z"}`))
	assert.ErrorIs(t, err, webhooks.ErrMalformedPayload, "only the exact names count: the older format needs groupId")
}

func TestRequiredFieldsAreRequired(t *testing.T) {
	joined := string(sample(t, "s4_participant_joined.json"))
	message := string(sample(t, "s4_group_message.json"))
	cases := map[string]struct{ body, field string }{
		"no phone":   {strings.Replace(joined, `"customerPhone": "+919876543210",`, "", 1), "customerPhone"},
		"null phone": {strings.Replace(joined, `"+919876543210"`, "null", 1), "customerPhone"},
		"no time": {strings.Replace(joined, `,
  "participantJoinedAt": "2026-01-15T10:00:00.000Z"`, "", 1), "participantJoinedAt"},
		"no orgId":             {strings.Replace(joined, `"orgId": "org_abc123",`, "", 1), "orgId"},
		"no groupId":           {strings.Replace(joined, `"groupId": "grp_01HX9abc123",`, "", 1), "groupId"},
		"no groupName":         {strings.Replace(joined, `"groupName": "Q1 Promotions Team",`, "", 1), "groupName"},
		"created, no time":     {`{"event":"GROUP_CREATED","orgId":"o","integrationId":"i","groupId":null,"groupName":null,"inviteLink":null}`, "groupCreatedAt"},
		"created, no link":     {`{"event":"GROUP_CREATED","orgId":"o","integrationId":"i","groupId":null,"groupName":null,"groupCreatedAt":"2026-01-15T09:30:00.000Z"}`, "inviteLink"},
		"message, no from":     {strings.Replace(message, `"from": "919999999999",`, "", 1), "from"},
		"message, no type":     {strings.Replace(message, `"type": "TEXT",`, "", 1), "message.type"},
		"message, no received": {strings.Replace(message, `"receivedAt": "2026-01-15T11:57:57.796Z",`, "", 1), "receivedAt"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, joined, tc.body)
			_, err := webhooks.Parse([]byte(tc.body))
			var fe *webhooks.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
			assert.ErrorIs(t, err, webhooks.ErrMalformedPayload)
		})
	}
}

// TestDedupKeysOfNullGroupsDiffer: two creations whose group IDs are both
// still null are two events, not one.
func TestDedupKeysOfNullGroupsDiffer(t *testing.T) {
	a := `{"event":"GROUP_CREATED","orgId":"o","integrationId":"i","groupId":null,"groupName":"Alpha","inviteLink":null,"groupCreatedAt":"2026-01-15T09:30:00.000Z"}`
	b := strings.Replace(a, "Alpha", "Beta", 1)
	ea, err := webhooks.Parse([]byte(a))
	require.NoError(t, err)
	eb, err := webhooks.Parse([]byte(b))
	require.NoError(t, err)
	assert.NotEqual(t, ea.DedupKey(), eb.DedupKey())
	again, err := webhooks.Parse([]byte(a))
	require.NoError(t, err)
	assert.Equal(t, ea.DedupKey(), again.DedupKey(), "a redelivery keeps its key")
}

// TestEveryDocumentedMessageFieldIsTyped decodes a message with every base
// field and each content type's fields.
func TestEveryDocumentedMessageFieldIsTyped(t *testing.T) {
	base := `"to":"120363012345678901","from":"919999999999","messageId":"wa1","dtMessageId":"dt1",` +
		`"receivedAt":"2026-01-15T11:57:57.796Z","contact":{"name":"John"},"integrationType":"WHATSAPP","type":"wa_group",` +
		`"dtLastMessageId":"dt0","lastMessageOrigin":"CUSTOMER","isAgentOffline":true,"customerId":"c1","dtCustomerId":"c1",` +
		`"callbackData":"cb","dtPairedTemplateId":123,"dtPairedTemplateName":"order_confirmation","dtPairedTemplateLanguage":"en",` +
		`"dtPairedMessageMetadata":{"k":"v"},"userId":"u","parentUserId":"pu","username":"un","metaBusinessPortfolioId":"mbp"`
	parse := func(message string) *webhooks.GroupMessageReceived {
		t.Helper()
		ev, err := webhooks.Parse([]byte(`{` + base + `,"message":` + message + `}`))
		require.NoError(t, err)
		return ev.(*webhooks.GroupMessageReceived)
	}
	m := parse(`{"type":"TEXT","text":"hi","context":{"from":"919999999998","id":"dt-prev"}}`)
	assert.Equal(t, "dt0", m.DTLastMessageID)
	assert.Equal(t, "CUSTOMER", m.LastMessageOrigin)
	assert.True(t, m.IsAgentOffline)
	assert.Equal(t, "cb", m.CallbackData)
	assert.Equal(t, webhooks.TemplateID("123"), m.DTPairedTemplateID)
	assert.Equal(t, "order_confirmation", m.DTPairedTemplateName)
	assert.Equal(t, "en", m.DTPairedTemplateLanguage)
	assert.JSONEq(t, `{"k":"v"}`, string(m.DTPairedMessageMetadata))
	assert.Equal(t, []string{"u", "pu", "un", "mbp"}, []string{m.UserID, m.ParentUserID, m.Username, m.MetaBusinessPortfolioID})
	assert.Equal(t, "WHATSAPP", m.IntegrationType)
	assert.Equal(t, webhooks.MessageContext{From: "919999999998", ID: "dt-prev"}, m.Message.Context)

	m = parse(`{"type":"DOCUMENT","url":"https://x/y.pdf","fileName":"y.pdf","caption":"c","context":{}}`)
	assert.Equal(t, []string{"https://x/y.pdf", "y.pdf", "c"}, []string{m.Message.URL, m.Message.FileName, m.Message.Caption})
	m = parse(`{"type":"LOCATION","latitude":19.082502,"longitude":72.7163737,"name":"Office","address":"Mumbai","context":{}}`)
	assert.Equal(t, []any{19.082502, 72.7163737, "Office", "Mumbai"}, []any{m.Message.Latitude, m.Message.Longitude, m.Message.Name, m.Message.Address})
	m = parse(`{"type":"BUTTON","text":"Yes","payload":"confirm","id":"b1","context":{}}`)
	assert.Equal(t, []string{"Yes", "confirm", "b1"}, []string{m.Message.Text, m.Message.Payload, m.Message.ID})
	m = parse(`{"type":"FLOW","flowResponse":[{"id":"q1","value":"a"},{"id":"q2","value":["x","y"]}],"context":{}}`)
	require.Len(t, m.Message.FlowResponse, 2)
	assert.JSONEq(t, `["x","y"]`, string(m.Message.FlowResponse[1].Value))
	m = parse(`{"type":"CONTACTS","contacts":[{"name":{"formatted_name":"A B","first_name":"A","last_name":"B"},` +
		`"phones":[{"phone":"+15550001111","type":"CELL"}],"emails":[{"email":"a@b.c","type":"WORK"}]}]}`)
	require.Len(t, m.Message.Contacts, 1)
	assert.Equal(t, "a@b.c", m.Message.Contacts[0].Emails[0].Email)
	m = parse(`{"type":"STICKER","url":"https://x/s.webp","context":{},"brandNew":1}`)
	assert.Contains(t, string(m.Message.Raw), "brandNew", "unknown fields stay reachable")

	ev, err := webhooks.Parse([]byte(`{` + strings.Replace(base, `:123,`, `:"tpl-9",`, 1) + `,"dtPairedMessageMetadata":null,"message":{"type":"TEXT","text":"x"}}`))
	assert.ErrorIs(t, err, webhooks.ErrMalformedPayload, "dtPairedMessageMetadata twice")
	assert.Nil(t, ev)
	ev, err = webhooks.Parse([]byte(`{` + strings.Replace(strings.Replace(base, `:123,`, `:"tpl-9",`, 1), `{"k":"v"}`, "null", 1) + `,"message":{"type":"TEXT","text":"x"}}`))
	require.NoError(t, err)
	assert.Equal(t, webhooks.TemplateID("tpl-9"), ev.(*webhooks.GroupMessageReceived).DTPairedTemplateID)
	assert.Nil(t, ev.(*webhooks.GroupMessageReceived).DTPairedMessageMetadata, "null is nil")
}
