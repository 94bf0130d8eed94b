package webhookstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick/webhooks"
)

// payloads build a realistic payload of each typed event: the values of
// DoubleTick's documented samples, its time at, and IDs made from at, so
// that two payloads made at different times are two events.
var payloads = map[webhooks.Type]func(at, id string) map[string]any{
	webhooks.TypeGroupCreated: func(at, _ string) map[string]any {
		return group(webhooks.TypeGroupCreated, map[string]any{"inviteLink": "https://chat.whatsapp.com/abc123xyz", "groupCreatedAt": at})
	},
	webhooks.TypeParticipantJoined: func(at, _ string) map[string]any {
		return group(webhooks.TypeParticipantJoined, map[string]any{"customerPhone": "+919876543210", "participantJoinedAt": at})
	},
	webhooks.TypeParticipantLeft: func(at, _ string) map[string]any {
		return group(webhooks.TypeParticipantLeft, map[string]any{"customerPhone": "+919876543210", "participantLeftAt": at})
	},
	webhooks.TypeParticipantRemoved: func(at, _ string) map[string]any {
		return group(webhooks.TypeParticipantRemoved, map[string]any{"customerPhone": "+919876543210", "participantRemovedAt": at})
	},
	webhooks.TypeGroupMessageReceived: func(at, id string) map[string]any {
		return map[string]any{"type": "wa_group", "to": "120363012345678901", "from": "919876543210",
			"messageId": "wamid." + id, "dtMessageId": "dt_" + id, "receivedAt": at, "contact": map[string]any{"name": "John Doe"},
			"integrationType": "WHATSAPP", "message": map[string]any{"type": "TEXT", "text": "Hello everyone"},
			"dtLastMessageId": nil, "lastMessageOrigin": "CUSTOMER", "isAgentOffline": false,
			"customerId": "customer_pvgpZUh3wg", "dtCustomerId": "customer_pvgpZUh3wg"}
	},
	webhooks.TypeMessageStatusUpdate: func(at, id string) map[string]any {
		return map[string]any{"messageId": "dt_" + id, "to": "919999999999", "wabaNumber": "+919000000000", "status": "SENT",
			"statusTimestamp": at, "customerName": "John Doe", "dtCustomerId": "customer_pvgpZUh3wg", "sentBy": "agent_01HX9abc123",
			"assignedTo": "agent_01HX9abc123", "message": map[string]any{"type": "TEXT", "text": "Hello"}}
	},
	webhooks.TypeTemplateUpdate: func(string, string) map[string]any {
		return map[string]any{"event": "TEMPLATE_STATUS_UPDATE", "wabaPhoneNumber": "+919000000000", "templateName": "order_confirmation",
			"templateLanguage": "en", "newStatus": "APPROVED", "oldStatus": "PENDING", "rejectedReason": "",
			"agentName": "James Smith", "agentNumber": "+919111222333"}
	},
	webhooks.TypeCustomerNoteCreated: func(at, id string) map[string]any { return note("created", at, id) },
	webhooks.TypeCustomerNoteUpdated: func(at, id string) map[string]any { return note("updated", at, id) },
	webhooks.TypeCustomerNoteDeleted: func(at, id string) map[string]any { return note("deleted", at, id) },
	webhooks.TypeChatAssignedToAgent: func(string, string) map[string]any {
		return map[string]any{"chatId": "chat_abc123", "assignedUserId": "user_xyz789", "assignedUserName": "John Doe",
			"assignedUserPhone": "+919876543210", "assignedUserEmail": "john@company.com", "assignedUserOrgRole": "Sales Manager",
			"assignedUserWabaRole": "Agent", "assignedUserWabaNumber": "+919000000000", "customerPhone": "+919111222333",
			"dtCustomerId": "customer_pvgpZUh3wg", "message": map[string]any{"text": "John Doe assigned conversation to self"}}
	},
	webhooks.TypeChatUnassigned: func(string, string) map[string]any {
		return map[string]any{"chatId": "chat_abc123", "customerPhone": "+919111222333", "wabaNumber": "+919000000000",
			"dtCustomerId": "customer_pvgpZUh3wg"}
	},
	webhooks.TypeConversationOpened: func(string, string) map[string]any {
		return conversation("conversationOpened")
	},
	webhooks.TypeCloseConversation: func(string, string) map[string]any {
		return conversation("closeConversation")
	},
	webhooks.TypeConversationCostDeducted: func(_, id string) map[string]any {
		return map[string]any{"conversationId": "conv_" + id, "customerName": "James Smith", "customerPhone": "+919876543210",
			"wabaNumber": "+919000000000", "conversationType": "USER_INITIATED", "countryCode": "IN", "cost": 0.0058}
	},
	webhooks.TypeSLAEscalated: func(string, string) map[string]any {
		return map[string]any{"customerPhone": "+919876543210", "wabaNumber": "+919000000000", "slaName": "Standard Response SLA",
			"responseTime": 900, "escalationLevel": 1, "eventType": "ON_SLA_ESCALATED_PUBLIC"}
	},
}

func group(t webhooks.Type, fields map[string]any) map[string]any {
	p := map[string]any{"event": string(t), "orgId": "org_abc123", "integrationId": "int_xyz789",
		"groupId": "grp_01HX9abc123", "groupName": "Q1 Promotions Team"}
	maps.Copy(p, fields)
	return p
}

func note(verb, at, id string) map[string]any {
	return map[string]any{"event": "note-" + verb, "noteId": "note_" + id, "wabaNumber": "+919000000000",
		"customerPhone": "+919876543210", "customerName": "John Doe", "note": "Customer prefers Hindi. @David please follow up.",
		verb + "ByAgent": "James Smith", verb + "ByAgentNumber": "+919111222333", verb + "At": at, "dtCustomerId": "customer_pvgpZUh3wg"}
}

func conversation(flag string) map[string]any {
	return map[string]any{"customerName": "Rohan Mehta", "customerPhone": "+919111222333", "from": "+919111222333",
		"to": "+919000000000", "dtCustomerId": "customer_pvgpZUh3wg", flag: true}
}

// PayloadTypes returns the types [Payload] makes, sorted.
func PayloadTypes() []webhooks.Type {
	return slices.Sorted(maps.Keys(payloads))
}

// Payload returns a realistic payload of an event of type t, as DoubleTick
// would send it (the newer format for group events): the values of its
// documented samples, at as the event's time, and IDs made from at, so
// that payloads made at different times are different events. Change its
// fields to test other values. Encode it with [Encode].
func Payload(t webhooks.Type, at time.Time) (map[string]any, error) {
	build, ok := payloads[t]
	if !ok {
		return nil, fmt.Errorf("webhookstest: no payload for %q; want one of %s", t, typeList(PayloadTypes()))
	}
	return build(at.UTC().Format(time.RFC3339Nano), strconv.FormatInt(at.UnixNano(), 36)), nil
}

func typeList(types []webhooks.Type) string {
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// Encode returns payload as a body of format f and its Content-Type: JSON,
// or for webhooks.BodyFormData URL-encoded form data as package webhooks
// reads it (nested keys as a[b], list items as a[0], a null field left
// out, booleans and numbers as their JSON text; DoubleTick does not
// document its encoding).
func Encode(f webhooks.BodyFormat, payload map[string]any) (body []byte, contentType string, err error) {
	if f == webhooks.BodyFormData {
		form := url.Values{}
		if err := flatten(form, "", payload); err != nil {
			return nil, "", err
		}
		return []byte(form.Encode()), "application/x-www-form-urlencoded", nil
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, "", fmt.Errorf("webhookstest: %w", err)
	}
	return b, "application/json", nil
}

func flatten(form url.Values, prefix string, v map[string]any) error {
	for k, val := range v {
		if err := flattenValue(form, prefix, k, val); err != nil {
			return err
		}
	}
	return nil
}

func flattenValue(form url.Values, prefix, k string, val any) error {
	key := k
	if prefix != "" {
		key = prefix + "[" + k + "]"
	}
	switch x := val.(type) {
	case map[string]any:
		return flatten(form, key, x)
	case []any:
		for i, item := range x {
			if err := flattenValue(form, key, strconv.Itoa(i), item); err != nil {
				return err
			}
		}
	case nil:
	case string:
		form.Set(key, x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Errorf("webhookstest: %s: %w", key, err)
		}
		form.Set(key, string(b))
	}
	return nil
}
