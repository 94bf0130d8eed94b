package webhooks

// One Handler for many DoubleTick organisations: each request names the
// organisation it is addressed to, and is verified with that
// organisation's credential alone.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
)

// Org is one DoubleTick organisation a Handler made by [NewOrgHandler]
// receives webhooks for. Each organisation registers its own webhooks in
// DoubleTick, with its own receiver URL and credential.
type Org struct {
	// ID names the organisation in your system: 1 to 64 ASCII letters,
	// digits, '.', '_' or '-' (see [ValidOrgID]). It is stored with each
	// delivery the inbox keeps, so keep it stable.
	ID string
	// Verifier checks the deliveries addressed to this organisation, with
	// its credential only. Required.
	Verifier Verifier
	// Format is the body format its webhooks were registered with; "" is
	// the Handler's ([WithBodyFormat]; JSON by default).
	Format BodyFormat
}

// ErrUnknownOrg matches the error of a request, or of a stored delivery,
// addressed to an organisation the Handler does not serve (any longer).
var ErrUnknownOrg = errors.New("webhooks: unknown organisation")

// ValidOrgID reports whether id can name an organisation: 1 to 64 ASCII
// letters, digits, '.', '_' or '-'. Such an ID is safe in a URL path, a
// log line, a metric label and a dedup key's namespace ("/" never occurs
// in it).
func ValidOrgID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !orgIDByte[id[i]] {
			return false
		}
	}
	return true
}

// orgIDByte says which bytes an organisation ID may hold.
var orgIDByte = func() (t [256]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	return t
}()

// checkOrg says what is wrong with org, if anything.
func checkOrg(org Org) error {
	switch {
	case !ValidOrgID(org.ID):
		return fmt.Errorf("webhooks: organisation ID %q: need 1 to 64 letters, digits, '.', '_' or '-'", org.ID)
	case org.Verifier == nil:
		return fmt.Errorf("webhooks: organisation %s: nil Verifier; every webhook must be verified", org.ID)
	case org.Format != "" && org.Format != BodyJSON && org.Format != BodyFormData:
		return fmt.Errorf("webhooks: organisation %s: unknown format %q, want %q or %q", org.ID, org.Format, BodyJSON, BodyFormData)
	}
	return nil
}

// OrgLookup finds the organisations a Handler serves, by ID. It is asked
// for each request before its body is read, and by [Handler.Dispatch] for
// each stored delivery the inbox runs, so it must be fast (keep the
// organisations in memory, or cache them) and safe for concurrent use.
type OrgLookup interface {
	// LookupOrg returns the organisation named id, or an error matching
	// [ErrUnknownOrg] when there is none. Any other error is a failure of
	// the lookup: the request is answered 500, the stored delivery is
	// tried again.
	LookupOrg(ctx context.Context, id string) (Org, error)
}

// OrgLookupFunc is an [OrgLookup] made of a function, such as one that
// reads your database through a cache.
type OrgLookupFunc func(ctx context.Context, id string) (Org, error)

// LookupOrg calls f.
func (f OrgLookupFunc) LookupOrg(ctx context.Context, id string) (Org, error) { return f(ctx, id) }

// Orgs is an in-memory [OrgLookup] whose organisations may be added,
// changed and removed while the Handler serves. The zero value is empty
// and ready to use; it is safe for concurrent use. (A plain map behind a
// read lock: with 1,000 organisations, on the request path, where the map
// is cold in the cache, its lookup took half the time of sync.Map's.)
type Orgs struct {
	mu sync.RWMutex
	m  map[string]Org
}

// Set adds org, or replaces the organisation of the same ID (a rotated
// credential takes effect with the next request).
func (o *Orgs) Set(org Org) error {
	if err := checkOrg(org); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string]Org{}
	}
	o.m[org.ID] = org
	return nil
}

// Remove removes the organisation named id and reports whether it was
// there. Requests addressed to it are answered 404 from then on, and its
// deliveries still stored in an inbox become dead letters that say so.
func (o *Orgs) Remove(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.m[id]
	delete(o.m, id)
	return ok
}

// LookupOrg returns the organisation named id.
func (o *Orgs) LookupOrg(_ context.Context, id string) (Org, error) {
	o.mu.RLock()
	org, ok := o.m[id]
	o.mu.RUnlock()
	if !ok {
		return Org{}, ErrUnknownOrg
	}
	return org, nil
}

// IDs returns the IDs of the organisations, sorted.
func (o *Orgs) IDs() []string {
	o.mu.RLock()
	ids := make([]string, 0, len(o.m))
	for id := range o.m {
		ids = append(ids, id)
	}
	o.mu.RUnlock()
	sort.Strings(ids)
	return ids
}

// DefaultOrgPathValue is the path wildcard a Handler made by
// [NewOrgHandler] reads the organisation's ID from, unless told otherwise
// by [WithOrgFrom]: register it at a ServeMux pattern such as
// "POST /hooks/{org}".
const DefaultOrgPathValue = "org"

// WithOrgFrom sets how a Handler made by [NewOrgHandler] finds the ID of
// the organisation a request is addressed to, before its body is read (by
// default, r.PathValue([DefaultOrgPathValue])). An ID of "" is answered
// 404. Give each organisation a receiver URL of its own, as DoubleTick's
// webhook settings allow: no header DoubleTick documents names the
// organisation, and only the group events' bodies carry DoubleTick's
// orgId, which is read after the credential is checked.
func WithOrgFrom(id func(r *http.Request) string) HandlerOption {
	return func(h *Handler) error {
		if id == nil {
			return errors.New("webhooks: WithOrgFrom: nil function")
		}
		h.orgID = id
		return nil
	}
}

// NewOrgHandler returns a Handler that serves many organisations: each
// request is addressed to one (by its path, see [WithOrgFrom]), found in
// orgs, and verified with that organisation's Verifier and body format
// alone, so that one organisation's credential never verifies a delivery
// addressed to another. A request for an organisation orgs does not know is
// answered 404 before its body is read. The callbacks are shared: each
// learns its event's organisation from its context ([OrgFromContext]), and
// the events of two organisations never share a dedup key (see
// [Delivery.DedupKey]).
//
// WithPathType paths may be ServeMux patterns, such as
// "/hooks/{org}/status": a request routed by that pattern is decoded as its
// type.
func NewOrgHandler(orgs OrgLookup, opts ...HandlerOption) (*Handler, error) {
	if orgs == nil {
		return nil, errors.New("webhooks: NewOrgHandler: nil OrgLookup")
	}
	h := newHandler()
	h.orgs = orgs
	h.orgID = func(r *http.Request) string { return r.PathValue(DefaultOrgPathValue) }
	return h.apply(opts)
}

// orgContextKey is the context key of an organisation's ID.
type orgContextKey struct{}

// ContextWithOrg returns a copy of ctx that names the organisation id, as
// a Handler made by [NewOrgHandler] gives its callbacks; [Handler.Dispatch]
// runs an event for the organisation its context names.
func ContextWithOrg(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, orgContextKey{}, id)
}

// OrgFromContext returns the ID of the organisation a callback's event was
// addressed to, "" for a Handler of one organisation ([NewHandler]).
func OrgFromContext(ctx context.Context) string {
	id, _ := ctx.Value(orgContextKey{}).(string)
	return id
}

// OrgDedupKey is key in the namespace of the organisation org: "org/key",
// or key as it is when org is "" (one organisation) or key is "" (never
// deduplicated). An organisation's ID holds no "/", so two organisations'
// keys never meet.
func OrgDedupKey(org, key string) string {
	if org == "" || key == "" {
		return key
	}
	return org + "/" + key
}

// resolveOrg finds the organisation r is addressed to, for a Handler of
// many; the zero Org for a Handler of one.
func (h *Handler) resolveOrg(r *http.Request) (Org, *Refusal) {
	if h.orgs == nil {
		return Org{Verifier: h.verifier, Format: h.format}, nil
	}
	id := h.orgID(r)
	if !ValidOrgID(id) {
		return Org{}, refusal(http.StatusNotFound, fmt.Errorf("%w: no valid organisation ID in the request", ErrUnknownOrg))
	}
	org, err := h.orgs.LookupOrg(r.Context(), id)
	switch {
	case errors.Is(err, ErrUnknownOrg):
		return Org{}, refusal(http.StatusNotFound, fmt.Errorf("%w: %s", ErrUnknownOrg, id))
	case err != nil:
		return Org{}, refusal(http.StatusInternalServerError, fmt.Errorf("looking up organisation %s: %w", id, err))
	case org.Verifier == nil:
		return Org{}, refusal(http.StatusInternalServerError, fmt.Errorf("organisation %s has no Verifier", id))
	}
	org.ID = id
	if org.Format == "" {
		org.Format = h.format
	}
	return org, nil
}

// checkDispatchOrg makes sure an event dispatched by a Handler of many
// organisations names one it serves.
func (h *Handler) checkDispatchOrg(ctx context.Context) error {
	if h.orgs == nil {
		return nil
	}
	id := OrgFromContext(ctx)
	if id == "" {
		return fmt.Errorf("%w: the context names none (ContextWithOrg)", ErrUnknownOrg)
	}
	if _, err := h.orgs.LookupOrg(ctx, id); err != nil {
		if errors.Is(err, ErrUnknownOrg) {
			return fmt.Errorf("%w: %s is no longer served", ErrUnknownOrg, id)
		}
		return fmt.Errorf("webhooks: looking up organisation %s: %w", id, err)
	}
	return nil
}
