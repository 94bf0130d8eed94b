package membership

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// MemoryStore is a [Store] in memory, for tests and for a single process
// that can rebuild its record with [Tracker.Reconcile] after a restart. It
// is safe for concurrent use; its audit log grows with every distinct
// change.
type MemoryStore struct {
	mu      sync.Mutex
	members map[string]map[string]Member // by group, then phone
	seen    map[changeKey]struct{}
	audit   map[string][]AuditEntry // by group
	seq     int64
}

type changeKey struct {
	group, phone string
	state        State
	at           int64
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		members: make(map[string]map[string]Member),
		seen:    make(map[changeKey]struct{}),
		audit:   make(map[string][]AuditEntry),
	}
}

// Apply records and merges c; see [Store].
func (s *MemoryStore) Apply(ctx context.Context, c Change, appliedAt time.Time) (AuditEntry, bool, error) {
	if err := ctx.Err(); err != nil {
		return AuditEntry{}, false, err
	}
	if err := c.Validate(); err != nil {
		return AuditEntry{}, false, err
	}
	c.At = c.At.UTC()
	ck := changeKey{c.GroupID, c.Phone, c.State, c.At.UnixNano()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.seen[ck]; dup {
		return AuditEntry{}, false, nil
	}
	s.seen[ck] = struct{}{}
	group := s.members[c.GroupID]
	if group == nil {
		group = make(map[string]Member)
		s.members[c.GroupID] = group
	}
	before := group[c.Phone]
	after := before.Merge(c)
	group[c.Phone] = after
	s.seq++
	e := AuditEntry{Seq: s.seq, Change: c, Before: before.State, After: after.State, AppliedAt: appliedAt}
	s.audit[c.GroupID] = append(s.audit[c.GroupID], e)
	return e, true, nil
}

// Member returns one participant; see [Store].
func (s *MemoryStore) Member(ctx context.Context, groupID, phone string) (Member, bool, error) {
	if err := ctx.Err(); err != nil {
		return Member{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.members[groupID][phone]
	return m, ok, nil
}

// Members returns a group's participants sorted by phone; see [Store].
func (s *MemoryStore) Members(ctx context.Context, groupID string) ([]Member, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	ms := make([]Member, 0, len(s.members[groupID]))
	for _, m := range s.members[groupID] {
		ms = append(ms, m)
	}
	s.mu.Unlock()
	slices.SortFunc(ms, func(a, b Member) int { return cmp.Compare(a.Phone, b.Phone) })
	return ms, nil
}

// Audit returns a group's audit log; see [Store].
func (s *MemoryStore) Audit(ctx context.Context, groupID string) ([]AuditEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.audit[groupID]), nil
}
