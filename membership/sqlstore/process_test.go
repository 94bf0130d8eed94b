package sqlstore_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/membership"
	"github.com/doubletick-go/doubletick/membership/sqlstore"
	"github.com/doubletick-go/doubletick/membership/storetest"
)

// The environment of an applier process, set by TestAcrossProcesses.
const (
	envDialect = "DOUBLETICK_APPLIER_DIALECT"
	envDSN     = "DOUBLETICK_APPLIER_DSN"
	envSeed    = "DOUBLETICK_APPLIER_SEED"
	envShard   = "DOUBLETICK_APPLIER_SHARD"
)

const (
	processes       = 4
	processedEvents = 10_000
)

// TestAcrossProcesses replays 10,000 events, duplicated and shuffled, through
// 4 operating-system processes sharing one database, each applying every
// fourth delivery, and checks the result against the ordered,
// de-duplicated stream.
func TestAcrossProcesses(t *testing.T) {
	for _, tc := range databases {
		t.Run(tc.name, func(t *testing.T) {
			dsn := tc.empty(t)
			store := openStore(t, tc.dialect, dsn)
			seed := uint64(time.Now().UnixNano())
			cmds := make([]*exec.Cmd, processes)
			outs := make([]bytes.Buffer, processes)
			for k := range cmds {
				cmds[k] = exec.Command(os.Args[0], "-test.run=^TestApplierProcess$", "-test.count=1")
				cmds[k].Env = append(os.Environ(), envDialect+"="+strconv.Itoa(int(tc.dialect)), envDSN+"="+dsn,
					envSeed+"="+strconv.FormatUint(seed, 10), envShard+"="+strconv.Itoa(k))
				cmds[k].Stdout, cmds[k].Stderr = &outs[k], &outs[k]
				require.NoError(t, cmds[k].Start())
			}
			for k, cmd := range cmds {
				require.NoError(t, cmd.Wait(), "process %d: %s", k, &outs[k])
				require.Contains(t, outs[k].String(), fmt.Sprintf("process %d:", k), "the applier ran")
			}
			r := storetest.NewReplay(seed, processedEvents)
			r.Check(t, store)
			t.Logf("%d deliveries of %d events through %d processes (seed %d)", len(r.Deliveries), r.Events(), processes, seed)
		})
	}
}

// TestApplierProcess is one applier of TestAcrossProcesses; run alone, it
// does nothing.
func TestApplierProcess(t *testing.T) {
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		t.Skip("run by TestAcrossProcesses")
	}
	dialect, _ := strconv.Atoi(os.Getenv(envDialect))
	seed, _ := strconv.ParseUint(os.Getenv(envSeed), 10, 64)
	shard, _ := strconv.Atoi(os.Getenv(envShard))
	tracker, err := membership.NewTracker(openStore(t, sqlstore.Dialect(dialect), dsn))
	require.NoError(t, err)
	r := storetest.NewReplay(seed, processedEvents)
	applied, duplicates, err := r.Apply(context.Background(), tracker, shard, processes)
	require.NoError(t, err)
	assert.Positive(t, applied)
	fmt.Printf("process %d: %d applied, %d duplicates\n", shard, applied, duplicates)
}
