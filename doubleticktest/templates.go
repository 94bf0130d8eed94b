package doubleticktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The template API (get-templates, create-template, edit-template,
// delete-template under https://docs.doubletick.io/reference/), answered as
// its pages document: the list and every write answer 201.

// Template is a message template the fake holds.
type Template struct {
	// ID is given by the fake, counting from 1.
	ID         int
	WABANumber string // digits
	Name       string
	Language   string
	// Category is MARKETING or UTILITY.
	Category string
	// Status is APPROVED, REJECTED, PENDING or PAUSED.
	Status         string
	RejectedReason string
	// Body is the body's text; {{name}} marks a variable.
	Body string
}

// docTemplateLanguages are the template API's 69 languages.
var docTemplateLanguages = []string{"af", "sq", "ar", "az", "bn", "bg", "ca", "zh_CN", "zh_HK", "zh_TW", "hr", "cs", "da",
	"nl", "en", "en_GB", "en_US", "et", "fil", "fi", "fr", "ka", "de", "el", "gu", "ha", "he", "hi", "hu", "id", "ga", "it",
	"ja", "kn", "kk", "rw_RW", "ko", "ky_KG", "lo", "lv", "lt", "mk", "ms", "ml", "mr", "nb", "fa", "pl", "pt_BR", "pt_PT",
	"pa", "ro", "ru", "sr", "sk", "sl", "es", "es_AR", "es_ES", "es_MX", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur", "uz"}

// seedTemplates gives each channel three English templates: one approved,
// one pending review and one rejected.
func (s *Server) seedTemplates() {
	for _, c := range s.channels {
		s.templates = append(s.templates,
			&Template{WABANumber: c.waba, Name: "welcome", Language: "en", Category: "UTILITY", Status: "APPROVED",
				Body: "Hi {{name}}, welcome to {{company}}!"},
			&Template{WABANumber: c.waba, Name: "order_update", Language: "en", Category: "UTILITY", Status: "PENDING",
				Body: "Your order {{order_id}} is on its way."},
			&Template{WABANumber: c.waba, Name: "promo_offer", Language: "en", Category: "MARKETING", Status: "REJECTED",
				RejectedReason: "The template was rejected for promotional content that does not match its declared category.",
				Body:           "Get {{discount}} off today!"})
	}
	for i, t := range s.templates {
		t.ID = i + 1
	}
}

// AddTemplate adds a template to the fake, as if made in DoubleTick's
// dashboard, and returns its ID. Its number must be one of the fake's
// channels; the status defaults to APPROVED.
func (s *Server) AddTemplate(t Template) (int, error) {
	t.WABANumber = phoneDigits(t.WABANumber)
	if t.Status == "" {
		t.Status = "APPROVED"
	}
	if t.Category == "" {
		t.Category = "UTILITY"
	}
	switch {
	case t.Name == "" || !slices.Contains(docTemplateLanguages, t.Language):
		return 0, fmt.Errorf("a template needs a name and one of the template languages, got %q and %q", t.Name, t.Language)
	case !slices.Contains([]string{"APPROVED", "REJECTED", "PENDING", "PAUSED"}, t.Status):
		return 0, fmt.Errorf("status %q: want APPROVED, REJECTED, PENDING or PAUSED", t.Status)
	case t.Category != "MARKETING" && t.Category != "UTILITY":
		return 0, fmt.Errorf("category %q: want MARKETING or UTILITY", t.Category)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.channelOf(t.WABANumber) == nil {
		return 0, fmt.Errorf("%q is not one of the fake's WABA numbers", t.WABANumber)
	}
	if s.findTemplate(t.WABANumber, t.Name, t.Language) != nil {
		return 0, fmt.Errorf("%s already has a template %q in %s", t.WABANumber, t.Name, t.Language)
	}
	t.ID = len(s.templates) + 1 // IDs are never reused: a deleted template keeps its slot
	s.templates = append(s.templates, &t)
	return t.ID, nil
}

// Templates returns the templates the fake holds.
func (s *Server) Templates() []Template {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Template{}
	for _, t := range s.templates {
		if t.Status != "" {
			out = append(out, *t)
		}
	}
	return out
}

// findTemplate returns the live template of a number, name and language.
func (s *Server) findTemplate(waba, name, language string) *Template {
	for _, t := range s.templates {
		if t.Status != "" && t.WABANumber == waba && t.Name == name && t.Language == language {
			return t
		}
	}
	return nil
}

// templateJSON is a template as get-templates lists it.
func templateJSON(t *Template) map[string]any {
	var vars []map[string]string
	rest := t.Body
	for {
		i := strings.Index(rest, "{{")
		j := strings.Index(rest[max(i, 0):], "}}")
		if i < 0 || j < 0 {
			break
		}
		vars = append(vars, map[string]string{"name": rest[i+2 : i+j]})
		rest = rest[i+j+2:]
	}
	body := map[string]any{"type": "BODY", "text": t.Body}
	if len(vars) > 0 {
		body["variables"] = vars
	}
	return map[string]any{"id": t.ID, "name": t.Name, "language": t.Language, "category": t.Category,
		"components": []any{body, map[string]any{"type": "FOOTER", "text": "powered by doubletick.io"}},
		"status":     t.Status, "rejectedReason": t.RejectedReason, "createdBy": "Asha Owner", "wabaPhoneNumber": t.WABANumber}
}

// handleListTemplates answers get-templates: 201 with an array. Its guide
// says language "defaults to be en": without one, English templates only.
func (s *Server) handleListTemplates(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var c checks
	status, language, category := q.Get("status"), q.Get("language"), q.Get("category")
	c.enum("status", status, false, "APPROVED", "REJECTED", "PENDING", "PAUSED", "ALL")
	c.enum("language", language, false, docTemplateLanguages...)
	if language == "" {
		language = "en"
	}
	c.enum("category", category, false, "MARKETING", "UTILITY")
	if all := q.Get("allWabaPhoneNumbers"); all != "" && all != "true" && all != "false" {
		c.msgs = append(c.msgs, "allWabaPhoneNumbers must be a boolean value")
	}
	if !c.okIncorrectPayload(w) {
		return
	}
	var numbers []string
	if q.Get("allWabaPhoneNumbers") != "true" {
		numbers = commaList(q.Get("wabaPhoneNumbers"), phoneDigits)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, t := range s.templates {
		switch {
		case t.Status == "", status != "" && status != "ALL" && t.Status != status, t.Language != language,
			category != "" && t.Category != category, q.Get("name") != "" && t.Name != q.Get("name"),
			numbers != nil && !slices.Contains(numbers, t.WABANumber):
			continue
		}
		out = append(out, templateJSON(t))
	}
	writeJSON(w, http.StatusCreated, out)
}

// checkTemplateBody checks a create or edit body against
// CreateTemplateViaPublicAPIDto and returns the template it describes.
func checkTemplateBody(b body) (*Template, []string) {
	c := checks{b: b}
	t := &Template{Name: c.str("name", true, 512), Status: "PENDING"}
	t.Language = c.str("language", true, 0)
	c.enum("language", t.Language, false, docTemplateLanguages...)
	t.Category = c.str("category", true, 0)
	c.enum("category", t.Category, false, "MARKETING", "UTILITY")
	var comp struct {
		Header *struct {
			Format string `json:"format"`
			Text   string `json:"text"`
		} `json:"header"`
		Body *struct {
			Text *string `json:"text"`
		} `json:"body"`
		Footer *struct {
			Text *string `json:"text"`
		} `json:"footer"`
		Buttons []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"buttons"`
	}
	raw, ok := b["components"]
	switch {
	case !ok || string(raw) == "null":
		c.msgs = append(c.msgs, "components should not be empty")
	case json.Unmarshal(raw, &comp) != nil:
		c.msgs = append(c.msgs, "components must be an object")
	default:
		if h := comp.Header; h != nil {
			c.enum("components.header.format", h.Format, true, "TEXT", "IMAGE", "VIDEO", "DOCUMENT")
			if len([]rune(h.Text)) > 60 {
				c.msgs = append(c.msgs, "components.header.text must be shorter than or equal to 60 characters")
			}
		}
		if comp.Body != nil {
			if comp.Body.Text == nil {
				c.msgs = append(c.msgs, "components.body.text must be a string")
			} else if len([]rune(*comp.Body.Text)) > 1024 {
				c.msgs = append(c.msgs, "components.body.text must be shorter than or equal to 1024 characters")
			} else {
				t.Body = *comp.Body.Text
			}
		}
		if comp.Footer != nil && (comp.Footer.Text == nil || len([]rune(*comp.Footer.Text)) > 60) {
			c.msgs = append(c.msgs, "components.footer.text must be shorter than or equal to 60 characters")
		}
		for _, btn := range comp.Buttons {
			c.enum("components.buttons.type", btn.Type, true, "QUICK_REPLY", "URL", "PHONE_NUMBER")
			if n := len([]rune(btn.Text)); n < 1 || n > 25 {
				c.msgs = append(c.msgs, "components.buttons.text must be longer than or equal to 1 and shorter than or equal to 25 characters")
			}
		}
	}
	return t, c.msgs
}

// handleCreateTemplate answers create-template: 201 {"success": true}, the
// template pending review on each number given (or every channel).
func (s *Server) handleCreateTemplate(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	t, msgs := checkTemplateBody(b)
	numbers, _ := (&checks{b: b}).strs("wabaNumbers", 0, 15)
	if len(msgs) > 0 {
		writeError(w, http.StatusBadRequest, strings.Join(msgs, "; "))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(numbers) == 0 {
		for _, c := range s.channels {
			numbers = append(numbers, c.waba)
		}
	}
	for i, n := range numbers {
		n = phoneDigits(n)
		if s.channelOf(n) == nil {
			writeError(w, http.StatusBadRequest, "No integration found for the WABA number "+n)
			return
		}
		if s.findTemplate(n, t.Name, t.Language) != nil {
			writeError(w, http.StatusBadRequest, "Template "+t.Name+" already exists in "+t.Language)
			return
		}
		numbers[i] = n
	}
	for _, n := range numbers {
		cp := *t
		cp.WABANumber, cp.ID = n, len(s.templates)+1
		s.templates = append(s.templates, &cp)
		s.emitTemplateStatus(&cp, "")
	}
	writeJSON(w, http.StatusCreated, map[string]any{"success": true})
}

// handleEditTemplate answers edit-template: the template goes back to
// review. An unknown ID is 404 in the guide's shape ({message,
// statusCode}).
func (s *Server) handleEditTemplate(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	edited, msgs := checkTemplateBody(b)
	if len(msgs) > 0 {
		writeError(w, http.StatusBadRequest, strings.Join(msgs, "; "))
		return
	}
	id, err := strconv.Atoi(r.PathValue("templateId"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || id < 1 || id > len(s.templates) || s.templates[id-1].Status == "" {
		writeBareError(w, http.StatusNotFound, "Template not found")
		return
	}
	t := s.templates[id-1]
	old := t.Status
	t.Name, t.Language, t.Category, t.Body, t.Status, t.RejectedReason = edited.Name, edited.Language, edited.Category, edited.Body, "PENDING", ""
	s.emitTemplateStatus(t, old)
	writeJSON(w, http.StatusCreated, map[string]any{"success": true})
}

// handleDeleteTemplate answers delete-template: every language of the name
// on the number. It reads the number from wabaPhoneNumber, the property
// the page and its guide document (its schema's required list says
// wabaNumber, which it also reads).
func (s *Server) handleDeleteTemplate(w http.ResponseWriter, r *http.Request) {
	b, ok := decodeRequest(w, r)
	if !ok {
		return
	}
	c := checks{b: b}
	name := c.str("name", true, 0)
	waba := c.str("wabaPhoneNumber", false, 0)
	if waba == "" {
		waba = c.str("wabaNumber", false, 0)
	}
	if waba == "" {
		c.msgs = append(c.msgs, "wabaNumber should not be empty")
	}
	if !c.okIncorrectPayload(w) {
		return
	}
	waba = phoneDigits(waba)
	s.mu.Lock()
	defer s.mu.Unlock()
	deleted := 0
	for _, t := range s.templates {
		if t.Status != "" && t.WABANumber == waba && t.Name == name {
			t.Status = "" // deleted; the ID is not reused
			deleted++
		}
	}
	if deleted == 0 {
		writeError(w, http.StatusBadRequest, "Template "+name+" not found")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"success": true})
}
