package doubletick

import (
	"context"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Route keys of the channel API.
const (
	RouteListChannels  = "GET /organization/channel/profile"
	RouteUpdateChannel = "PATCH /organization/channel/profile"
)

var (
	epListChannels  = newEndpoint(RouteListChannels)
	epUpdateChannel = newEndpoint(RouteUpdateChannel)
)

// Documented limits of the channel API.
const (
	// MaxChannelFilterNumbers is how many WABA numbers one
	// [ChannelsService.List] may filter on.
	MaxChannelFilterNumbers = 50
	MaxChannelDisplayName   = 256
	MaxChannelAddress       = 256
	MaxChannelDescription   = 512
	MaxChannelEmail         = 128
	MaxChannelAbout         = 139
	MaxChannelWebsites      = 2
	MaxChannelWebsiteLength = 256
	MaxChannelLogoURLLength = 2048
)

// ChannelsService lists the WhatsApp numbers (channels) connected to the API
// key's organization and updates their business profiles. Use it through
// [Client.Channels].
type ChannelsService struct {
	client *Client
}

// Channel is a connected WhatsApp channel.
type Channel struct {
	// ChannelID identifies the channel ("intg_0000000001"); it is the
	// IntegrationID of [UpdateChannelRequest].
	ChannelID string `json:"channelId"`
	// WABANumber is the channel's WhatsApp Business number, digits without
	// "+": the number group create and sends take. "" when DoubleTick has
	// none (it is nullable).
	WABANumber string `json:"wabaNumber"`
	// DisplayName is the name WhatsApp users see; "" when unset.
	DisplayName string `json:"displayName"`
	// Status is "CONNECTED", the one value documented.
	Status string `json:"status"`
	// UseMetaName reports whether the name registered with Meta is shown.
	UseMetaName bool `json:"useMetaName"`
	// Profile is the channel's business profile, nil when it has none.
	Profile *ChannelProfile `json:"profile"`
}

// ChannelProfile is a channel's WhatsApp business profile. DoubleTick sends
// every field, null when unset; null reads as "".
type ChannelProfile struct {
	Websites    []string `json:"websites"`
	Email       string   `json:"email"`
	Vertical    string   `json:"vertical"`
	Address     string   `json:"address"`
	Description string   `json:"description"`
	About       string   `json:"about"`
	// Logo is the URL of the stored logo.
	Logo string `json:"logo"`
	// OrgName, DisplayName and UseMetaName come in the answer of
	// [ChannelsService.Update] only.
	OrgName     string `json:"orgName,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	UseMetaName bool   `json:"useMetaName,omitempty"`
}

// ChannelList is the answer of [ChannelsService.List].
type ChannelList struct {
	// Count is the number of channels; DoubleTick sends it only when the
	// list is not filtered by number (0 then).
	Count    int       `json:"count"`
	Channels []Channel `json:"channels"`
}

// ListChannelsOptions filters [ChannelsService.List]. Nil or the zero value
// lists every channel of the key.
type ListChannelsOptions struct {
	// WABANumbers keeps the channels of these numbers only, at most
	// [MaxChannelFilterNumbers]; each with or without "+". They are sent
	// as a repeated wabaNumber, without "+".
	WABANumbers []string `url:"wabaNumber,omitempty"`
}

// Validate checks o against the documented rules; see
// [CreateGroupRequest.Validate]. A nil o lists every channel.
func (o *ListChannelsOptions) Validate() error { return validate("ListChannelsOptions", o.check) }

func (o *ListChannelsOptions) check(v *validator) {
	if o == nil {
		return
	}
	if n := len(o.WABANumbers); n > MaxChannelFilterNumbers {
		v.add("wabaNumber", RuleLength, "at most %d numbers, got %d", MaxChannelFilterNumbers, n)
	}
	for i, n := range o.WABANumbers {
		v.wabaNumber("wabaNumber["+strconv.Itoa(i)+"]", n)
	}
}

// List lists the WhatsApp channels connected to the key's organization: the
// way to find the WABA numbers [GroupsService.Create] and the sends take,
// and a check of an API key that changes nothing.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/list-channel-details
func (s *ChannelsService) List(ctx context.Context, opts *ListChannelsOptions) (*ChannelList, *Response, error) {
	var v validator
	opts.check(&v)
	if err := v.err("ChannelsService.List"); err != nil {
		return nil, nil, err
	}
	var q ListChannelsOptions
	if opts != nil {
		q.WABANumbers = wabaDigitsAll(opts.WABANumbers)
	}
	return call[ChannelList](ctx, s.client, epListChannels, &q, nil)
}

// ChannelVerticals are the business categories DoubleTick accepts in
// [UpdateChannelRequest.Vertical].
func ChannelVerticals() []string { return slices.Clone(channelVerticals) }

var channelVerticals = []string{"Automotive", "Beauty, Spa and Salon", "Clothing and Apparel", "Education",
	"Entertainment", "Event Planning and Service", "Finance and Banking", "Food and Grocery", "Public Service",
	"Hotel and Lodging", "Medical and Health", "Non-profit", "Professional Services", "Shopping and Retail",
	"Travel and Transportation", "Restaurant", "Other"}

// UpdateChannelRequest is the body of [ChannelsService.Update]: the channel,
// and the profile fields to change (empty ones are left as they are; at
// least one is required). The logo is given as a public https URL of a JPG
// or PNG (square, at most 640×640 px and 800 KB); the SDK does not send the
// page's multipart form with the image itself.
type UpdateChannelRequest struct {
	// IntegrationID is the channel's [Channel.ChannelID]. Required.
	IntegrationID string   `json:"integrationId"`
	DisplayName   string   `json:"displayName,omitempty"`
	Address       string   `json:"address,omitempty"`
	Description   string   `json:"description,omitempty"`
	Email         string   `json:"email,omitempty"`
	Vertical      string   `json:"vertical,omitempty"`
	About         string   `json:"about,omitempty"`
	Websites      []string `json:"websites,omitempty"`
	LogoURL       string   `json:"logoUrl,omitempty"`
}

// Validate checks r against the documented rules; see
// [CreateGroupRequest.Validate].
func (r *UpdateChannelRequest) Validate() error { return validate("UpdateChannelRequest", r.check) }

func (r *UpdateChannelRequest) check(v *validator) {
	if !v.present(r == nil) {
		return
	}
	v.id("integrationId", r.IntegrationID)
	v.text("displayName", r.DisplayName, false, MaxChannelDisplayName)
	v.text("address", r.Address, false, MaxChannelAddress)
	v.text("description", r.Description, false, MaxChannelDescription)
	v.text("email", r.Email, false, MaxChannelEmail)
	if a, err := mail.ParseAddress(r.Email); r.Email != "" && (err != nil || a.Address != r.Email) {
		v.add("email", RuleFormat, "must be an email address, got %q", r.Email)
	}
	if r.Vertical != "" && !slices.Contains(channelVerticals, r.Vertical) {
		v.add("vertical", RuleOneOf, "must be one of ChannelVerticals(), got %q", r.Vertical)
	}
	v.text("about", r.About, false, MaxChannelAbout)
	if strings.ContainsAny(r.About, "~*_") || strings.Contains(r.About, "```") {
		v.add("about", RuleFormat, "must not contain ~, ```, * or _")
	}
	if n := len(r.Websites); n > MaxChannelWebsites {
		v.add("websites", RuleLength, "at most %d websites, got %d", MaxChannelWebsites, n)
	}
	for i, w := range r.Websites {
		field := "websites[" + strconv.Itoa(i) + "]"
		v.text(field, w, true, MaxChannelWebsiteLength)
		if w != "" && !isAbsoluteURL(w) {
			v.add(field, RuleFormat, "must be an absolute URL, got %q", w)
		}
	}
	v.text("logoUrl", r.LogoURL, false, MaxChannelLogoURLLength)
	if r.LogoURL != "" && !isAbsoluteURL(r.LogoURL) {
		v.add("logoUrl", RuleFormat, "must be an absolute URL, got %q", r.LogoURL)
	}
	if r.DisplayName == "" && r.Address == "" && r.Description == "" && r.Email == "" && r.Vertical == "" &&
		r.About == "" && len(r.Websites) == 0 && r.LogoURL == "" {
		v.add("request", RuleRequired, "at least one profile field to update is required")
	}
}

// ChannelUpdate is the answer of [ChannelsService.Update]: the channel's
// profile as DoubleTick re-synced it.
type ChannelUpdate struct {
	// Status is "SUCCESS".
	Status        string         `json:"status"`
	IntegrationID string         `json:"integrationId"`
	Profile       ChannelProfile `json:"profile"`
}

// Update changes a channel's business profile.
//
// DoubleTick limits it to 60 requests an hour per organization, which the
// route's default limit keeps to (see [DefaultRouteLimits]), and to one
// successful update per channel per hour: a second update of a channel
// within the hour is answered 429 "This channel was already updated in the
// last hour", which no retry within a call can outlast, so the Client does
// not retry a 429 of this route.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/update-channel-details
func (s *ChannelsService) Update(ctx context.Context, req *UpdateChannelRequest) (*ChannelUpdate, *Response, error) {
	var v validator
	req.check(&v)
	if err := v.err("ChannelsService.Update"); err != nil {
		return nil, nil, err
	}
	return call[ChannelUpdate](ctx, s.client, epUpdateChannel, nil, req)
}

// isAbsoluteURL reports whether s is a URL with a scheme and a host.
func isAbsoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}
