package membership_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/doubletick-go/doubletick/membership"
)

// FuzzMergeOrder checks that Member.Merge gives one result for every order
// of the same changes, and that applying a change twice changes nothing.
// Each 3 bytes of the input are one change: its state, and its time in
// seconds (small, so that ties are common); seed picks the shuffle.
func FuzzMergeOrder(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 0, 1}, uint64(1))          // joined and left at the same second
	f.Add([]byte{1, 0, 9, 0, 0, 3, 2, 0, 9}, uint64(2)) // left, joined earlier, removed with the leave
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		states := [...]membership.State{membership.Joined, membership.Left, membership.Removed}
		base := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
		var changes []membership.Change
		for i := 0; i+2 < len(data) && len(changes) < 16; i += 3 {
			changes = append(changes, membership.Change{GroupID: "g", Phone: "+919876543210",
				State: states[int(data[i])%3], At: base.Add(time.Duration(int(data[i+1])<<8|int(data[i+2])) * time.Second)})
		}
		var want membership.Member
		for _, c := range changes {
			want = want.Merge(c)
		}
		rand.New(rand.NewPCG(seed, seed)).Shuffle(len(changes), func(i, j int) { changes[i], changes[j] = changes[j], changes[i] })
		var got membership.Member
		for _, c := range changes {
			got = got.Merge(c).Merge(c)
		}
		if got != want {
			t.Fatalf("order changed the result: %+v, want %+v", got, want)
		}
	})
}
