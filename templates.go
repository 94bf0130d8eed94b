package doubletick

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
)

// Route keys of the template API.
const (
	RouteListTemplates  = "GET /v2/templates"
	RouteCreateTemplate = "POST /template"
	RouteUpdateTemplate = "PATCH /template/{templateId}"
	RouteDeleteTemplate = "DELETE /template"
)

var (
	epListTemplates  = newEndpoint(RouteListTemplates)
	epCreateTemplate = newEndpoint(RouteCreateTemplate)
	epDeleteTemplate = newEndpoint(RouteDeleteTemplate)
)

// Documented limits of templates, in characters.
const (
	MaxTemplateNameLength       = 512
	MaxTemplateHeaderTextLength = 60
	MaxTemplateBodyTextLength   = 1024
	MaxTemplateFooterTextLength = 60
	MaxTemplateButtonTextLength = 25
)

// templateLanguages are the languages of the template API's schemas (the
// list, create and edit pages give the same 69).
var templateLanguages = []string{"af", "sq", "ar", "az", "bn", "bg", "ca", "zh_CN", "zh_HK", "zh_TW", "hr", "cs", "da", "nl",
	"en", "en_GB", "en_US", "et", "fil", "fi", "fr", "ka", "de", "el", "gu", "ha", "he", "hi", "hu", "id", "ga", "it", "ja",
	"kn", "kk", "rw_RW", "ko", "ky_KG", "lo", "lv", "lt", "mk", "ms", "ml", "mr", "nb", "fa", "pl", "pt_BR", "pt_PT", "pa",
	"ro", "ru", "sr", "sk", "sl", "es", "es_AR", "es_ES", "es_MX", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur", "uz"}

// TemplateLanguages returns the 69 languages a template may be made in,
// in a slice of the caller's. The send schemas accept only 6 of them
// ([SendTemplateLanguages]).
func TemplateLanguages() []string { return slices.Clone(templateLanguages) }

// Template categories and statuses, as the template API names them.
const (
	TemplateMarketing = "MARKETING"
	TemplateUtility   = "UTILITY"

	TemplateApproved = "APPROVED"
	TemplateRejected = "REJECTED"
	TemplatePending  = "PENDING"
	TemplatePaused   = "PAUSED"
)

// TemplatesService lists and manages the WhatsApp message templates that
// template sends name: check before a send to a group that the template is
// approved in its language on the group's number. Approval arrives later,
// as a TEMPLATE_UPDATE webhook. Use it through [Client.Templates].
type TemplatesService struct {
	client *Client
}

// TemplateID is a template's ID. The list types it as a number, the guide
// shows a string and the edit path takes a string: it is read from either
// and kept as text.
type TemplateID string

// UnmarshalJSON reads a number or a string.
func (id *TemplateID) UnmarshalJSON(b []byte) error {
	if n := bytes.TrimSpace(b); len(n) > 0 && n[0] != '"' {
		var num json.Number
		if err := json.Unmarshal(n, &num); err != nil {
			return err
		}
		*id = TemplateID(num.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*id = TemplateID(s)
	return nil
}

// Template is a message template, as the list describes it.
type Template struct {
	ID       TemplateID `json:"id"`
	Name     string     `json:"name"`
	Language string     `json:"language"`
	// Category is TemplateMarketing or TemplateUtility.
	Category string `json:"category"`
	// Status is TemplateApproved, TemplateRejected, TemplatePending or
	// TemplatePaused; only an approved template can be sent.
	Status          string              `json:"status"`
	RejectedReason  string              `json:"rejectedReason"`
	CreatedBy       string              `json:"createdBy"`
	WABAPhoneNumber string              `json:"wabaPhoneNumber"`
	Components      []TemplateComponent `json:"components"`
	// Buttons are where the guide puts them, beside the components; the
	// schema puts them in a BUTTON component.
	Buttons []TemplateComponentButton `json:"buttons,omitempty"`
}

// TemplateComponent is one part of a listed template.
type TemplateComponent struct {
	// Type is BODY, HEADER, FOOTER or BUTTON.
	Type string `json:"type"`
	// Format is a HEADER's: TEXT, IMAGE, DOCUMENT, VIDEO or LOCATION.
	Format string `json:"format,omitempty"`
	// Text is a BODY's, a FOOTER's, or a TEXT HEADER's.
	Text string `json:"text,omitempty"`
	// Variables are a HEADER's or a BODY's.
	Variables []TemplateVariable `json:"variables,omitempty"`
	// Buttons are a BUTTON component's.
	Buttons []TemplateComponentButton `json:"buttons,omitempty"`
}

// TemplateVariable is a variable of a template's text, or its media.
type TemplateVariable struct {
	// Name is the variable's name in the text ("name" for {{name}}).
	Name     string `json:"name,omitempty"`
	MediaURL string `json:"mediaUrl,omitempty"`
	FileName string `json:"fileName,omitempty"`
}

// TemplateComponentButton is a button of a listed template.
type TemplateComponentButton struct {
	// Type is QUICK_REPLY, URL or PHONE_NUMBER.
	Type        string                   `json:"type"`
	Text        string                   `json:"text"`
	URL         string                   `json:"url,omitempty"`
	PhoneNumber string                   `json:"phoneNumber,omitempty"`
	Variables   []TemplateButtonVariable `json:"variables,omitempty"`
}

// TemplateButtonVariable is a variable of a URL button.
type TemplateButtonVariable struct {
	Parameter string `json:"parameter"`
}

// ListTemplatesOptions filters [TemplatesService.List]. Nil or the zero
// value asks for DoubleTick's defaults, which its guide says list English
// templates only: set Language for others.
type ListTemplatesOptions struct {
	// Status is TemplateApproved, TemplateRejected, TemplatePending,
	// TemplatePaused or "ALL".
	Status string `url:"status,omitempty"`
	Name   string `url:"name,omitempty"`
	// Language is one of [TemplateLanguages].
	Language string `url:"language,omitempty"`
	// Category is TemplateMarketing or TemplateUtility.
	Category string `url:"category,omitempty"`
	// WABANumbers keeps the templates of these numbers (sent
	// comma-separated, without "+").
	WABANumbers []string `url:"wabaPhoneNumbers,comma,omitempty"`
	// AllWABANumbers asks for the templates of every number.
	AllWABANumbers bool `url:"allWabaPhoneNumbers,omitempty"`
}

// Validate checks o against the documented values; see
// [CreateGroupRequest.Validate]. A nil o asks for the defaults.
func (o *ListTemplatesOptions) Validate() error { return validate("ListTemplatesOptions", o.check) }

func (o *ListTemplatesOptions) check(v *validator) {
	if o == nil {
		return
	}
	if o.Status != "" && !slices.Contains([]string{TemplateApproved, TemplateRejected, TemplatePending, TemplatePaused, "ALL"}, o.Status) {
		v.add("status", RuleOneOf, "must be APPROVED, REJECTED, PENDING, PAUSED or ALL, got %q", o.Status)
	}
	v.text("name", o.Name, false, MaxTemplateNameLength)
	if o.Language != "" && !slices.Contains(templateLanguages, o.Language) {
		v.add("language", RuleOneOf, "must be one of TemplateLanguages(), got %q", o.Language)
	}
	checkCategory(v, o.Category, false)
	for i, n := range o.WABANumbers {
		v.wabaNumber("wabaPhoneNumbers["+strconv.Itoa(i)+"]", n)
	}
}

func checkCategory(v *validator, category string, required bool) {
	switch {
	case category == "" && required:
		v.add("category", RuleRequired, "is required: MARKETING or UTILITY")
	case category != "" && category != TemplateMarketing && category != TemplateUtility:
		v.add("category", RuleOneOf, "must be MARKETING or UTILITY, got %q", category)
	}
}

// List lists message templates. DoubleTick documents no paging: one call
// returns every match.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/get-templates
func (s *TemplatesService) List(ctx context.Context, opts *ListTemplatesOptions) ([]Template, *Response, error) {
	var v validator
	opts.check(&v)
	if err := v.err("TemplatesService.List"); err != nil {
		return nil, nil, err
	}
	var q ListTemplatesOptions
	if opts != nil {
		q = *opts
		q.WABANumbers = wabaDigitsAll(opts.WABANumbers)
	}
	res, resp, err := call[[]Template](ctx, s.client, epListTemplates, &q, nil)
	if err != nil {
		return nil, resp, err
	}
	return *res, resp, nil
}

// TemplateDefinition is the content of a template to create or edit: its
// parts by name, as the create and edit pages take them.
type TemplateDefinition struct {
	Header  *TemplateHeaderDefinition  `json:"header,omitempty"`
	Body    *TemplateTextDefinition    `json:"body,omitempty"`
	Footer  *TemplateFooterDefinition  `json:"footer,omitempty"`
	Buttons []TemplateButtonDefinition `json:"buttons,omitempty"`
}

// TemplateHeaderDefinition is a template's header.
type TemplateHeaderDefinition struct {
	// Format is TEXT, IMAGE, VIDEO or DOCUMENT. Required.
	Format string `json:"format"`
	// Text is a TEXT header's, at most 60 characters.
	Text string `json:"text,omitempty"`
	// Example gives a sample value of each variable of a TEXT header, or,
	// under "link", the sample media of another format.
	Example map[string]string `json:"example,omitempty"`
}

// TemplateTextDefinition is a template's body.
type TemplateTextDefinition struct {
	// Text is at most 1024 characters. Required.
	Text string `json:"text"`
	// Example gives a sample value of each variable of the text.
	Example map[string]string `json:"example,omitempty"`
}

// TemplateFooterDefinition is a template's footer.
type TemplateFooterDefinition struct {
	// Text is at most 60 characters. Required.
	Text string `json:"text"`
}

// TemplateButtonDefinition is a button of a template.
type TemplateButtonDefinition struct {
	// Type is QUICK_REPLY, URL or PHONE_NUMBER. Required.
	Type string `json:"type"`
	// Text is 1 to 25 characters. Required.
	Text        string `json:"text"`
	URL         string `json:"url,omitempty"`
	Example     string `json:"example,omitempty"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
}

// TemplateDraft is a template to submit for review: the body of
// [TemplatesService.Create], and of [TemplatesService.Update], whose page
// takes the same schema, required fields included.
type TemplateDraft struct {
	// Name is 1 to 512 characters. Required.
	Name string `json:"name"`
	// Language is one of [TemplateLanguages]. Required.
	Language string `json:"language"`
	// Category is TemplateMarketing or TemplateUtility. Required.
	Category string `json:"category"`
	// Components is the content. Required.
	Components *TemplateDefinition `json:"components"`
	// WABANumbers are the numbers to create it on, with the country code.
	WABANumbers []string `json:"wabaNumbers,omitempty"`
	// AllowCategoryUpdate lets Meta change the category (DoubleTick's
	// default, true, when nil); without it, a miscategorised template may
	// be rejected.
	AllowCategoryUpdate *bool `json:"allowCategoryUpdate,omitempty"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *TemplateDraft) Validate() error { return validate("TemplateDraft", r.check) }

func (r *TemplateDraft) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	v.text("name", r.Name, true, MaxTemplateNameLength)
	switch {
	case r.Language == "":
		v.add("language", RuleRequired, "is required")
	case !slices.Contains(templateLanguages, r.Language):
		v.add("language", RuleOneOf, "must be one of TemplateLanguages(), got %q", r.Language)
	}
	checkCategory(v, r.Category, true)
	if r.Components == nil {
		v.add("components", RuleRequired, "is required")
	} else {
		r.Components.check(v)
	}
	for i, n := range r.WABANumbers {
		field := "wabaNumbers[" + strconv.Itoa(i) + "]"
		v.wabaNumber(field, n)
		v.phone(field, n)
	}
}

func (d *TemplateDefinition) check(v *validator) {
	if h := d.Header; h != nil {
		if !slices.Contains([]string{"TEXT", "IMAGE", "VIDEO", "DOCUMENT"}, h.Format) {
			v.add("components.header.format", RuleOneOf, "must be TEXT, IMAGE, VIDEO or DOCUMENT, got %q", h.Format)
		}
		v.text("components.header.text", h.Text, h.Format == "TEXT", MaxTemplateHeaderTextLength)
	}
	if d.Body != nil {
		v.text("components.body.text", d.Body.Text, true, MaxTemplateBodyTextLength)
	}
	if d.Footer != nil {
		v.text("components.footer.text", d.Footer.Text, true, MaxTemplateFooterTextLength)
	}
	for i, b := range d.Buttons {
		prefix := "components.buttons[" + strconv.Itoa(i) + "]."
		if !slices.Contains([]string{"QUICK_REPLY", "URL", "PHONE_NUMBER"}, b.Type) {
			v.add(prefix+"type", RuleOneOf, "must be QUICK_REPLY, URL or PHONE_NUMBER, got %q", b.Type)
		}
		v.text(prefix+"text", b.Text, true, MaxTemplateButtonTextLength)
	}
}

// Create submits a template for Meta's review. DoubleTick answers without
// an ID; the template is listed as PENDING until a TEMPLATE_UPDATE webhook
// reports its approval or rejection.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/create-template
func (s *TemplatesService) Create(ctx context.Context, req *TemplateDraft) (*Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("TemplatesService.Create"); err != nil {
		return nil, err
	}
	_, resp, err := call[successFlag](ctx, s.client, epCreateTemplate, nil, req)
	return resp, err
}

// Update edits a template, to fix a rejected one. templateID is the
// [Template.ID] the list gives.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/edit-template
func (s *TemplatesService) Update(ctx context.Context, templateID string, req *TemplateDraft) (*Response, error) {
	var v validator
	v.id("templateId", templateID)
	req.check(&v)
	if err := v.err("TemplatesService.Update"); err != nil {
		return nil, err
	}
	ep := endpoint{method: "PATCH", route: "/template/" + url.PathEscape(templateID), key: RouteUpdateTemplate}
	_, resp, err := call[successFlag](ctx, s.client, ep, nil, req)
	return resp, err
}

// DeleteTemplateRequest is the body of [TemplatesService.Delete].
//
// The page's schema names the number's property wabaPhoneNumber, as its
// guide sends it, and lists "wabaNumber" as required; the SDK sends
// wabaPhoneNumber, the property both document.
type DeleteTemplateRequest struct {
	// Name is the template's. Required.
	Name string `json:"name"`
	// WABANumber is the number it belongs to, with the country code.
	// Required.
	WABANumber string `json:"wabaPhoneNumber"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *DeleteTemplateRequest) Validate() error { return validate("DeleteTemplateRequest", r.check) }

func (r *DeleteTemplateRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	v.text("name", r.Name, true, MaxTemplateNameLength)
	v.wabaNumber("wabaPhoneNumber", r.WABANumber)
}

// Delete deletes a template, by name, from a number. It cannot be
// restored.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/delete-template
func (s *TemplatesService) Delete(ctx context.Context, req *DeleteTemplateRequest) (*Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("TemplatesService.Delete"); err != nil {
		return nil, err
	}
	body := *req
	body.WABANumber = wabaDigits(req.WABANumber)
	_, resp, err := call[successFlag](ctx, s.client, epDeleteTemplate, nil, &body)
	return resp, err
}
