package main

// Serving many DoubleTick organisations from one process: one receiver
// path per organisation, one inbox, one membership store whose groups are
// kept apart per organisation.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/webhooks"
)

// parseOrgs reads -orgs: organisation IDs separated by commas.
func parseOrgs(list string) ([]string, error) {
	if list == "" {
		return nil, nil
	}
	var ids []string
	seen := map[string]bool{}
	for id := range strings.SplitSeq(list, ",") {
		id = strings.TrimSpace(id)
		switch {
		case !webhooks.ValidOrgID(id):
			return nil, fmt.Errorf("-orgs: %q cannot name an organisation: use 1 to 64 letters, digits, '.', '_' or '-'", id)
		case seen[id]:
			return nil, fmt.Errorf("-orgs: %s is given twice", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	return ids, nil
}

// orgVar is the name of the environment variable name holds for
// organisation org: name_ORG, the ID in upper case with '-' and '.' as '_'
// (DOUBLETICK_WEBHOOK_SECRET_ACME_EU for acme-eu).
func orgVar(name, org string) string {
	if org == "" {
		return name
	}
	return name + "_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(org))
}

// orgStore keeps one organisation's groups in a store shared by many:
// each integration chooses its groups' IDs, so two organisations may use
// the same one. The store sees "org/groupID"; its user sees groupID.
type orgStore struct {
	store membership.Store
	org   string
}

// storeFor returns store as organisation org sees it; store itself for ""
// (a receiver of one organisation).
func storeFor(store membership.Store, org string) membership.Store {
	if org == "" {
		return store
	}
	return orgStore{store, org}
}

func (s orgStore) group(id string) string { return s.org + "/" + id }

func (s orgStore) ungroup(id string) string { return strings.TrimPrefix(id, s.org+"/") }

// Apply applies c to the organisation's group.
func (s orgStore) Apply(ctx context.Context, c membership.Change, at time.Time) (membership.AuditEntry, bool, error) {
	c.GroupID = s.group(c.GroupID)
	e, ok, err := s.store.Apply(ctx, c, at)
	e.GroupID = s.ungroup(e.GroupID)
	return e, ok, err
}

// Member returns a participant of the organisation's group.
func (s orgStore) Member(ctx context.Context, groupID, phone string) (membership.Member, bool, error) {
	m, ok, err := s.store.Member(ctx, s.group(groupID), phone)
	m.GroupID = s.ungroup(m.GroupID)
	return m, ok, err
}

// Members returns the participants of the organisation's group.
func (s orgStore) Members(ctx context.Context, groupID string) ([]membership.Member, error) {
	ms, err := s.store.Members(ctx, s.group(groupID))
	for i := range ms {
		ms[i].GroupID = s.ungroup(ms[i].GroupID)
	}
	return ms, err
}

// Audit returns the audit log of the organisation's group.
func (s orgStore) Audit(ctx context.Context, groupID string) ([]membership.AuditEntry, error) {
	es, err := s.store.Audit(ctx, s.group(groupID))
	for i := range es {
		es[i].GroupID = s.ungroup(es[i].GroupID)
	}
	return es, err
}
