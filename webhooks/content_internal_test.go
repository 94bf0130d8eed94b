package webhooks

import (
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
	assert.Equal(t, []string{"groupId", "groupName", "inviteLink"}, formNulls)
}
