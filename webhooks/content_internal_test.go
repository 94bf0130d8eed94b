package webhooks

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The form parser's schema is derived from the event types: every
// non-string field DoubleTick documents, and the lifecycle fields documented
// as "string | null".
func TestFormSchemaComesFromTheEventTypes(t *testing.T) {
	assert.Equal(t, map[string]formKind{
		"isAgentOffline":            formBool,
		"message.latitude":          formNumber,
		"message.longitude":         formNumber,
		"message.contacts":          formArray,
		"message.contacts.*.phones": formArray,
		"message.contacts.*.emails": formArray,
		"message.flowResponse":      formArray,
		// The other families' numbers and flags.
		"cost":               formNumber,
		"escalationLevel":    formNumber,
		"responseTime":       formNumber,
		"conversationOpened": formBool,
		"closeConversation":  formBool,
		// Objects: the documented nested types, list items included.
		"contact":                     formObject,
		"message":                     formObject,
		"message.context":             formObject,
		"message.contacts.*":          formObject,
		"message.contacts.*.name":     formObject,
		"message.contacts.*.phones.*": formObject,
		"message.contacts.*.emails.*": formObject,
		"message.flowResponse.*":      formObject,
	}, formSchema)
	lifecycle := []string{"groupId", "groupName", "inviteLink"}
	assert.Equal(t, map[Type][]string{TypeGroupCreated: lifecycle, TypeParticipantJoined: lifecycle,
		TypeParticipantLeft: lifecycle, TypeParticipantRemoved: lifecycle, TypeTemplateUpdate: {"oldStatus"}}, formNulls)
}

// One schema serves every type, so two types may not type one field
// differently: the derivation refuses it rather than read one type's form
// data by the other's kinds.
func TestFormSchemaRefusesAFieldOfTwoKinds(t *testing.T) {
	type a struct {
		Level int `json:"level"`
	}
	type b struct {
		Level bool `json:"level"`
	}
	assert.PanicsWithValue(t, "webhooks: form field level is of two kinds", func() {
		deriveFormSchema(map[Type]reflect.Type{"A": reflect.TypeFor[a](), "B": reflect.TypeFor[b]()})
	})
}
