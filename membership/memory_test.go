package membership_test

import (
	"testing"

	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/membership/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() membership.Store {
		s := membership.NewMemoryStore()
		return func() membership.Store { return s }
	})
}
