package doubleticktest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
)

// The template API, as get-templates, create-template, edit-template and
// delete-template document it.
var templateRoutes = []string{doubletick.RouteListTemplates, doubletick.RouteCreateTemplate,
	doubletick.RouteUpdateTemplate, doubletick.RouteDeleteTemplate}

func init() {
	languages := "enum:" + strings.Join(doubletick.TemplateLanguages(), "|")
	category := "enum:MARKETING|UTILITY"
	draft := schema{"name": req("string"), "language": req(languages), "category": req(category),
		"components": {typ: "object", required: true, of: schema{
			"header": {typ: "object", of: schema{"format": req("enum:TEXT|IMAGE|VIDEO|DOCUMENT"), "text": opt("string"), "example": opt("map:string")}},
			"body":   {typ: "object", of: schema{"text": req("string"), "example": opt("map:string")}},
			"footer": {typ: "object", of: schema{"text": req("string")}},
			"buttons": arrayOf(schema{"type": req("enum:QUICK_REPLY|URL|PHONE_NUMBER"), "text": req("string"), "url": opt("string"),
				"example": opt("string"), "phoneNumber": opt("string")}, false)}},
		"wabaNumbers": arrayOf("string", false), "allowCategoryUpdate": opt("boolean")}
	for route, r := range map[string]struct {
		query, body   schema
		multipartFile string
	}{
		doubletick.RouteListTemplates: {query: schema{"status": opt("enum:APPROVED|REJECTED|PENDING|PAUSED|ALL"), "name": opt("string"),
			"language": opt(languages), "category": opt(category), "wabaPhoneNumbers": opt("string"), "allWabaPhoneNumbers": opt("enum:true|false")}},
		doubletick.RouteCreateTemplate: {body: draft},
		doubletick.RouteUpdateTemplate: {body: draft},
		// DeleteTemplateDto's property (its required list says wabaNumber).
		doubletick.RouteDeleteTemplate: {body: schema{"name": req("string"), "wabaPhoneNumber": req("string")}},
	} {
		requests[route] = r
	}
	success := map[int]schema{201: {"success": req("boolean")}}
	component := schema{"type": req("enum:BODY|HEADER|FOOTER|BUTTON"), "format": opt("enum:TEXT|IMAGE|DOCUMENT|VIDEO|LOCATION"),
		"text": opt("string"), "variables": arrayOf(schema{"name": opt("string"), "mediaUrl": opt("string"), "fileName": opt("string")}, false),
		"buttons": arrayOf(schema{"type": req("enum:QUICK_REPLY|URL|PHONE_NUMBER"), "text": req("string"), "url": opt("string"),
			"phoneNumber": opt("string"), "variables": arrayOf(schema{"parameter": req("string")}, false)}, false)}
	responses[doubletick.RouteListTemplates] = map[int]schema{201: {"id": req("number"), "name": req("string"), "language": req(languages),
		"category": req(category), "components": arrayOf(component, true), "status": req("enum:APPROVED|REJECTED|PENDING|PAUSED"),
		"rejectedReason": req("string"), "createdBy": req("string"), "wabaPhoneNumber": req("string")}}
	listAnswers[doubletick.RouteListTemplates] = true
	responses[doubletick.RouteCreateTemplate] = success
	responses[doubletick.RouteUpdateTemplate] = success
	responses[doubletick.RouteDeleteTemplate] = success
	documentedErrors[doubletick.RouteListTemplates] = map[int]string{400: ""}
	documentedErrors[doubletick.RouteCreateTemplate] = map[int]string{400: "", 422: ""}
	documentedErrors[doubletick.RouteUpdateTemplate] = map[int]string{400: "", 404: "", 422: ""}
	documentedErrors[doubletick.RouteDeleteTemplate] = map[int]string{400: "", 422: ""}
	// Guide edit-template-1: {"message": "error_message", "statusCode": 404}.
	errorShapes[doubletick.RouteUpdateTemplate] = map[int]schema{404: {"message": req("string"), "statusCode": req("integer")}}
}

// TestContractTemplates drives the template endpoints through the SDK to
// each answer the fake gives, and checks both sides against the docs.
func TestContractTemplates(t *testing.T) {
	fake := doubleticktest.NewServer(doubleticktest.WithWABANumbers(waba))
	defer fake.Close()
	c, rec := contractClient(t, fake)
	ctx := context.Background()

	all, _, err := c.Templates.List(ctx, nil)
	require.NoError(t, err)
	require.Len(t, all, 3, "the seeded templates, English by default")
	assert.NotEmpty(t, all[0].ID)
	assert.Equal(t, []doubletick.TemplateVariable{{Name: "name"}, {Name: "company"}}, all[0].Components[0].Variables)
	_, _, err = c.Templates.List(ctx, &doubletick.ListTemplatesOptions{Status: "ALL", Language: "hi", Category: doubletick.TemplateUtility,
		WABANumbers: []string{"+" + waba}, AllWABANumbers: true, Name: "welcome"})
	require.NoError(t, err)

	allow := false
	draft := &doubletick.TemplateDraft{Name: "reminder", Language: "hi", Category: doubletick.TemplateUtility, AllowCategoryUpdate: &allow,
		Components: &doubletick.TemplateDefinition{
			Header:  &doubletick.TemplateHeaderDefinition{Format: "TEXT", Text: "Hi {{name}}", Example: map[string]string{"name": "Asha"}},
			Body:    &doubletick.TemplateTextDefinition{Text: "Your call is at {{time}}", Example: map[string]string{"time": "5 pm"}},
			Footer:  &doubletick.TemplateFooterDefinition{Text: "Acme"},
			Buttons: []doubletick.TemplateButtonDefinition{{Type: "URL", Text: "Join", URL: "https://acme.example/{{1}}", Example: "https://acme.example/call"}}},
		WABANumbers: []string{"+" + waba}}
	_, err = c.Templates.Create(ctx, draft)
	require.NoError(t, err)
	_, err = c.Templates.Create(ctx, draft)
	require.Error(t, err, "400: the name is taken in that language")
	_, err = c.Templates.Update(ctx, string(all[2].ID), draft)
	require.NoError(t, err)
	_, err = c.Templates.Update(ctx, "9999", draft)
	require.ErrorIs(t, err, doubletick.ErrNotFound)
	_, err = c.Templates.Delete(ctx, &doubletick.DeleteTemplateRequest{Name: "order_update", WABANumber: waba})
	require.NoError(t, err)
	_, err = c.Templates.Delete(ctx, &doubletick.DeleteTemplateRequest{Name: "order_update", WABANumber: waba})
	require.Error(t, err, "400: gone")

	seen := checkExchanges(t, rec.exchanges)
	want := map[string][]int{doubletick.RouteListTemplates: {201}, doubletick.RouteCreateTemplate: {201, 400},
		doubletick.RouteUpdateTemplate: {201, 404}, doubletick.RouteDeleteTemplate: {201, 400}}
	assert.ElementsMatch(t, templateRoutes, assertStatuses(t, seen, want))
}
