package doubletick

import (
	"context"
	"iter"
	"time"
)

// Route keys of the notes API. DoubleTick limits each to 60 requests a
// minute per organization ([DefaultRouteLimits]).
const (
	RouteCreateNote = "POST /notes"
	RouteListNotes  = "GET /notes"
	RouteGetNote    = "GET /note"
	RouteUpdateNote = "PATCH /notes"
	RouteDeleteNote = "DELETE /notes"
)

var (
	epCreateNote = newEndpoint(RouteCreateNote)
	epListNotes  = newEndpoint(RouteListNotes)
	epGetNote    = newEndpoint(RouteGetNote)
	epUpdateNote = newEndpoint(RouteUpdateNote)
	epDeleteNote = newEndpoint(RouteDeleteNote)
)

// MaxNotesPageSize is the most notes one page of [NotesService.List] holds.
const MaxNotesPageSize = 100

// NotesService keeps CRM notes on chats: a WhatsApp group's, or a
// customer's 1:1 chat. Use it through [Client.Notes].
type NotesService struct {
	client *Client
}

// NoteChat names the chat a note is on: a group by GroupID, or a
// customer's chat by From (the WhatsApp Business number) and To (the
// customer's phone), each with the country code, 10 to 15 characters.
type NoteChat struct {
	GroupID string `json:"groupId,omitempty" url:"groupId,omitempty"`
	From    string `json:"from,omitempty" url:"from,omitempty"`
	To      string `json:"to,omitempty" url:"to,omitempty"`
}

func (c NoteChat) check(v *validator) {
	switch {
	case c.GroupID != "" && (c.From != "" || c.To != ""):
		v.add("groupId", RuleOneOf, "give groupId, or from and to, not both")
	case c.GroupID != "":
		v.id("groupId", c.GroupID)
	case c.From == "" && c.To == "":
		v.add("groupId", RuleRequired, "give groupId, or from and to")
	default:
		v.phone("from", c.From)
		v.phone("to", c.To)
	}
}

// Note is a note on a chat.
type Note struct {
	ID   string `json:"id"`
	Note string `json:"note"`
	// CreatedBy and UpdatedBy are agents' names.
	CreatedBy   string    `json:"createdBy"`
	UpdatedBy   string    `json:"updatedBy"`
	DateCreated time.Time `json:"dateCreated,omitzero"`
	DateUpdated time.Time `json:"dateUpdated,omitzero"`
}

// NoteMention is an agent (or another entity) a note mentions, who is
// notified.
type NoteMention struct {
	// Type is e.g. "USER".
	Type string `json:"type,omitempty"`
	// ID is e.g. "user_mitul00000".
	ID string `json:"id,omitempty"`
}

// CreateNoteRequest is the body of [NotesService.Create].
type CreateNoteRequest struct {
	NoteChat
	// Note is the text. Required; DoubleTick documents no limit.
	Note     string        `json:"note"`
	Entities []NoteMention `json:"entities,omitempty"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *CreateNoteRequest) Validate() error { return validate("CreateNoteRequest", r.check) }

func (r *CreateNoteRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	r.NoteChat.check(v)
	v.text("note", r.Note, true, 0)
}

// Create adds a note to a group's or a customer's chat. A chat that does
// not exist is a 404.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/create-note
func (s *NotesService) Create(ctx context.Context, req *CreateNoteRequest) (*Note, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("NotesService.Create"); err != nil {
		return nil, nil, err
	}
	return call[Note](ctx, s.client, epCreateNote, nil, req)
}

// ListNotesRequest selects a chat's notes, and the page.
type ListNotesRequest struct {
	NoteChat
	// Limit is the page's size, at most [MaxNotesPageSize]; 0 asks for
	// DoubleTick's default, 30.
	Limit int `url:"limit,omitempty"`
	// LastNoteID and LastNoteDate are the cursor of the next page: send
	// both, as [NotePage] gives them.
	LastNoteID   string    `url:"lastNoteId,omitempty"`
	LastNoteDate time.Time `url:"lastNoteDate,omitempty" layout:"2006-01-02T15:04:05.999Z07:00"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *ListNotesRequest) Validate() error { return validate("ListNotesRequest", r.check) }

func (r *ListNotesRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	r.NoteChat.check(v)
	if r.Limit < 0 || r.Limit > MaxNotesPageSize {
		v.add("limit", RuleLength, "must be 1 to %d, or 0 for the default, got %d", MaxNotesPageSize, r.Limit)
	}
	if (r.LastNoteID == "") != r.LastNoteDate.IsZero() {
		v.add("lastNoteId", RuleRequired, "lastNoteId and lastNoteDate go together: send both, as the page before gave them")
	}
}

// NotePage is one page of a chat's notes, newest first.
type NotePage struct {
	Notes   []Note `json:"notes"`
	HasMore bool   `json:"hasMore"`
	// LastNoteID and LastNoteDate are the next page's cursor.
	LastNoteID   string    `json:"lastNoteId"`
	LastNoteDate time.Time `json:"lastNoteDate,omitzero"`
	TotalCount   int       `json:"totalCount"`
}

// List returns one page of a chat's notes. Use [NotesService.All] to go
// through every page.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/list-notes
func (s *NotesService) List(ctx context.Context, req *ListNotesRequest) (*NotePage, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("NotesService.List"); err != nil {
		return nil, nil, err
	}
	return call[NotePage](ctx, s.client, epListNotes, req, nil)
}

// All returns every note of a chat from req's cursor on, fetching pages
// as the loop asks for them; see [GroupsService.All].
//
// DoubleTick API docs: https://docs.doubletick.io/reference/list-notes
func (s *NotesService) All(ctx context.Context, req *ListNotesRequest) iter.Seq2[*Note, error] {
	return paginate(ctx, RouteListNotes, req, func(r *ListNotesRequest) ([]Note, bool, ListNotesRequest, error) {
		page, _, err := s.List(ctx, r)
		if err != nil {
			return nil, false, ListNotesRequest{}, err
		}
		next := *r
		next.LastNoteID, next.LastNoteDate = page.LastNoteID, page.LastNoteDate
		return page.Notes, page.HasMore, next, nil
	})
}

// Get returns a note.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/get-note
func (s *NotesService) Get(ctx context.Context, noteID string) (*Note, *Response, error) {
	var v validator
	v.id("id", noteID)
	if err := v.err("NotesService.Get"); err != nil {
		return nil, nil, err
	}
	return call[Note](ctx, s.client, epGetNote, struct {
		ID string `url:"id"`
	}{noteID}, nil)
}

// UpdateNoteRequest is the body of [NotesService.Update].
type UpdateNoteRequest struct {
	// Note is the new text. Required.
	Note string `json:"note"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *UpdateNoteRequest) Validate() error { return validate("UpdateNoteRequest", r.check) }

func (r *UpdateNoteRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	v.text("note", r.Note, true, 0)
}

// Update replaces a note's text.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/update-note
func (s *NotesService) Update(ctx context.Context, noteID string, req *UpdateNoteRequest) (*Note, *Response, error) {
	var v validator
	v.id("id", noteID)
	req.check(&v)
	if err := v.err("NotesService.Update"); err != nil {
		return nil, nil, err
	}
	return call[Note](ctx, s.client, epUpdateNote, nil, struct {
		ID   string `json:"id"`
		Note string `json:"note"`
	}{noteID, req.Note})
}

// Delete deletes a note.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/delete-note
func (s *NotesService) Delete(ctx context.Context, noteID string) (*Response, error) {
	var v validator
	v.id("id", noteID)
	if err := v.err("NotesService.Delete"); err != nil {
		return nil, err
	}
	_, resp, err := call[emptyObject](ctx, s.client, epDeleteNote, nil, struct {
		ID string `json:"id"`
	}{noteID})
	return resp, err
}
