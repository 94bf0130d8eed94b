package doubletick

import (
	"context"
	"iter"
	"time"

	"github.com/doubletick-go/doubletick/internal/phone"
)

// ParticipantsService lists and removes the members of WhatsApp groups. Use
// it through [Client.Participants]. There is no API to add a participant:
// people join through the group's invite link.
type ParticipantsService struct {
	client *Client
}

// Participant is a present or past member of a group.
type Participant struct {
	// Name is the participant's name, "" when unknown.
	Name string `json:"name"`
	// PhoneNumber is the participant's number as the API sent it.
	PhoneNumber string `json:"phoneNumber"`
	// DateJoined, DateLeft and DateRemoved are zero when the API has none,
	// and then absent from the JSON this type marshals to.
	DateJoined  time.Time `json:"dateJoined,omitzero"`
	DateLeft    time.Time `json:"dateLeft,omitzero"`
	DateRemoved time.Time `json:"dateRemoved,omitzero"`
}

// IsCurrent reports whether p is a member now: it has not left or been
// removed since it last joined.
func (p *Participant) IsCurrent() bool {
	exit := p.DateLeft
	if p.DateRemoved.After(exit) {
		exit = p.DateRemoved
	}
	return exit.IsZero() || p.DateJoined.After(exit)
}

// ListParticipantsOptions selects a page of [ParticipantsService.List]. The
// zero value asks for the first page.
type ListParticipantsOptions struct {
	// LastPhoneNumber is the cursor of the previous page.
	LastPhoneNumber string `url:"lastPhoneNumber,omitempty"`
	// OlderThan returns only participants who joined before it.
	OlderThan time.Time `url:"olderThanTimestamp,omitempty" layout:"2006-01-02T15:04:05.999999999Z07:00"`
}

// ParticipantPage is one page of participants.
type ParticipantPage struct {
	Participants []Participant `json:"participants"`
	// HasMore reports whether another page follows.
	HasMore bool `json:"hasMore"`
	// LastPhoneNumber and OlderThan are the cursors of the next page.
	LastPhoneNumber string    `json:"lastPhoneNumber"`
	OlderThan       time.Time `json:"olderThanTimestamp,omitzero"`
}

// List returns one page of a group's participants, past members included
// (see [Participant.IsCurrent]). Use [ParticipantsService.All] to go through
// every page.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/getwhatsappgroupparticipants
func (s *ParticipantsService) List(ctx context.Context, groupID string, opts *ListParticipantsOptions) (*ParticipantPage, *Response, error) {
	var v validator
	v.id("groupId", groupID)
	if err := v.err("ParticipantsService.List"); err != nil {
		return nil, nil, err
	}
	if opts == nil {
		opts = &ListParticipantsOptions{}
	}
	return call[ParticipantPage](ctx, s.client, epListParticipants, struct {
		groupQuery
		ListParticipantsOptions
	}{groupQuery{groupID}, *opts}, nil)
}

// All returns every participant of a group from opts on, fetching pages as
// the loop asks for them; see [GroupsService.All].
//
// DoubleTick API docs: https://docs.doubletick.io/reference/getwhatsappgroupparticipants
func (s *ParticipantsService) All(ctx context.Context, groupID string, opts *ListParticipantsOptions) iter.Seq2[*Participant, error] {
	return paginate(ctx, RouteListParticipants, opts, func(o *ListParticipantsOptions) ([]Participant, bool, ListParticipantsOptions, error) {
		page, _, err := s.List(ctx, groupID, o)
		if err != nil {
			return nil, false, ListParticipantsOptions{}, err
		}
		return page.Participants, page.HasMore, ListParticipantsOptions{LastPhoneNumber: page.LastPhoneNumber, OlderThan: page.OlderThan}, nil
	})
}

// RemoveParticipantResult is DoubleTick's answer to
// [ParticipantsService.Remove].
type RemoveParticipantResult struct {
	MessagingProduct string `json:"messaging_product"`
	// RequestID is WhatsApp's ID of the removal request.
	RequestID string `json:"request_id"`
}

// Remove removes a participant from a group. phone may be written with or
// without "+", and with spaces or dashes; it is sent in the documented
// "+<digits>" form. GROUP_PARTICIPANT_REMOVED follows by webhook.
//
// DELETE is repeatable, so a removal whose answer was lost is retried; if the
// first attempt had succeeded, the retry answers 404 ([ErrNotFound]).
//
// DoubleTick API docs: https://docs.doubletick.io/reference/removewhatsappgroupparticipant
func (s *ParticipantsService) Remove(ctx context.Context, groupID, phoneNumber string) (*RemoveParticipantResult, *Response, error) {
	var v validator
	v.id("groupId", groupID)
	e164, ok := phone.E164(phoneNumber)
	if !ok {
		v.add("participantPhone", RuleDigits, "must be a phone number with its country code, 8 to 15 digits, e.g. +15551230000")
	}
	if err := v.err("ParticipantsService.Remove"); err != nil {
		return nil, nil, err
	}
	return call[RemoveParticipantResult](ctx, s.client, epRemoveParticipant, struct {
		groupQuery
		Phone string `url:"participantPhone"`
	}{groupQuery{groupID}, e164}, nil)
}
