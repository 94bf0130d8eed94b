package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/cmd/doubletick/internal/bulk"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// groupsCSV writes dir/groups.csv, an import file of n groups with
// groupIds row-1…row-n and subjects "<subject> 1"…, or every subject empty
// (a bad row) when subject is "".
func groupsCSV(t testing.TB, dir string, n int, subject string) string {
	t.Helper()
	path := filepath.Join(dir, "groups.csv")
	f, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "wabaNumber,subject,description,joinApprovalMode,groupId")
	for i := 1; i <= n; i++ {
		s := ""
		if subject != "" {
			s = fmt.Sprintf("%s %d", subject, i)
		}
		fmt.Fprintf(w, "911111111111,%s,Support for customer %d,auto_approve,row-%d\n", s, i, i)
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	return path
}

func TestImportReportsEveryBadRowAndSendsNothing(t *testing.T) {
	c := newCLI(t)
	path := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(path, []byte("\uFEFFwabaNumber,subject,groupId\r\n"+
		"911111111111,Fine,g1\r\n"+
		"911111111111,,g2\r\n"+
		"abc,Bad number,g3\r\n"+
		"911111111111,Dup,g1\r\n"), 0o600))
	r := c.run(t, "groups", "import", path)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "line 3: subject: is required")
	assert.Contains(t, r.stderr, "line 4: wabaNumber: must be digits")
	assert.Contains(t, r.stderr, `line 5: groupId: "g1" is also the groupId of line 2`)
	assert.Contains(t, r.stderr, "3 problem(s) in 4 rows; nothing was sent")
	assert.Zero(t, c.srv.Requests())

	require.NoError(t, os.WriteFile(path, []byte("wabaNumber,subject\n911111111111,x\n"), 0o600))
	r = c.run(t, "groups", "import", path)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "line 1: missing column groupId")

	empty := filepath.Join(t.TempDir(), "empty.csv")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	r = c.run(t, "groups", "import", empty)
	assert.Equal(t, exitUsage, r.code, "an empty file is bad input")
	assert.Contains(t, r.stderr, "the file is empty")

	// A file that failed its check leaves no journal of this run behind.
	for _, f := range []string{path, empty} {
		left, _ := filepath.Glob(f + ".journal*")
		assert.Empty(t, left, f)
	}
	assert.Zero(t, c.srv.Requests())
}

func TestImportCreatesRowsAndWritesFailures(t *testing.T) {
	c := newCLI(t, doubleticktest.WithCreationDelay(0), doubleticktest.WithWABANumbers("911111111111"))
	path := filepath.Join(t.TempDir(), "customers.csv")
	require.NoError(t, os.WriteFile(path, []byte("wabaNumber,subject,groupId\n"+
		"911111111111,A,a\n922222222222,B,b\n911111111111,C,c\n"), 0o600))

	out := c.ok(t, "groups", "import", path, "--check")
	assert.Contains(t, out, "3 rows, all good; nothing sent")
	assert.Zero(t, c.srv.Requests())

	r := c.run(t, "groups", "import", path, "--rate", "1000", "--json")
	assert.Equal(t, exitAPI, r.code, "a refused row fails the import")
	var sum importSummary
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &sum))
	assert.Equal(t, 3, sum.Rows)
	assert.Equal(t, 2, sum.Created)
	assert.Equal(t, 1, sum.Failed)
	assert.Len(t, c.srv.Groups(), 2)
	assert.Contains(t, r.stderr, "progress: 3/3 done", "not a terminal: plain progress lines")

	failures, err := os.ReadFile(sum.FailuresFile)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(filepath.Dir(path), "customers.failures.csv"), sum.FailuresFile)
	info, err := os.Stat(sum.FailuresFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "phones and names: the owner's only")
	lines := strings.Split(strings.TrimSpace(string(failures)), "\n")
	require.Len(t, lines, 2)
	assert.True(t, strings.HasPrefix(lines[1], "922222222222,B,,,b,"), lines[1])

	// Fixed in the failures file, which imports as it is.
	require.NoError(t, os.WriteFile(sum.FailuresFile, bytes.Replace(failures, []byte("922222222222"), []byte("911111111111"), 1), 0o600))
	out = c.ok(t, "groups", "import", sum.FailuresFile, "--rate", "1000")
	assert.Contains(t, out, "1 rows: 1 created")
	assert.Len(t, c.srv.Groups(), 3)
}

// createCounter sits in front of the fake and records, per groupId, the
// statuses of the create requests: 200 for a group created, 422 for a
// groupId the fake already had (a create sent twice), 429 for one refused
// past the rate limit, 502 for one whose sender was killed.
type createCounter struct {
	mu       sync.Mutex
	statuses map[string][]int
}

func (cc *createCounter) handler(target string) http.Handler {
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/whatsapp/wa-group/create" {
			proxy.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // the sender went away before it finished sending
		}
		var req struct {
			GroupID string `json:"groupId"`
		}
		_ = json.Unmarshal(body, &req)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w}
		proxy.ServeHTTP(rec, r)
		cc.mu.Lock()
		defer cc.mu.Unlock()
		cc.statuses[req.GroupID] = append(cc.statuses[req.GroupID], rec.status)
	})
}

// count counts the groupIds with a 200, and the requests with status.
func (cc *createCounter) count(status int) (created, n int) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for _, statuses := range cc.statuses {
		for _, s := range statuses {
			if s == http.StatusOK {
				created++
			}
			if s == status {
				n++
			}
		}
	}
	return created, n
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// buildCLI builds the command into dir.
func buildCLI(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "doubletick")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// importRig is a fake DoubleTick behind a createCounter, the command built,
// and an import file.
type importRig struct {
	srv       *doubleticktest.Server
	counter   *createCounter
	bin, path string
	url       string
}

func newImportRig(t *testing.T, rows int, opts ...doubleticktest.Option) *importRig {
	t.Helper()
	r := &importRig{srv: doubleticktest.NewServer(opts...), counter: &createCounter{statuses: map[string][]int{}}}
	t.Cleanup(r.srv.Close)
	front := httptest.NewServer(r.counter.handler(r.srv.URL))
	t.Cleanup(front.Close)
	dir := t.TempDir()
	r.bin, r.path, r.url = buildCLI(t, dir), groupsCSV(t, dir, rows, "Customer"), front.URL
	return r
}

// command is "doubletick groups import FILE args...", with the fake's key
// and address in its environment.
func (r *importRig) command(args ...string) *exec.Cmd {
	cmd := exec.Command(r.bin, append([]string{"groups", "import", r.path}, args...)...)
	cmd.Env = append(os.Environ(), envAPIKey+"="+doubleticktest.APIKey, envBaseURL+"="+r.url)
	return cmd
}

// start starts the command, its output going to the buffer returned.
func (r *importRig) start(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := r.command(args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	return cmd, out
}

// TestImportKilledHalfWayResumes is the import as a support engineer lives
// it: 1,000 rows, the server answering 429 past its limit, the process
// SIGKILLed half-way and started again. Every row is created, none twice.
func TestImportKilledHalfWayResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and imports 1,000 rows at 100/s")
	}
	const rows, perSecond = 1000, 50
	// The server's limit, in fixed windows, is a fifth above the rate the
	// import is configured with: the client's limiter keeps it under that,
	// and a 429 forced at the restart shows the import absorbing one. (At
	// exactly the server's limit, fixed windows that a paced client
	// straddles answer 429 about every other second, and each
	// Retry-After: 1 costs a second.)
	rig := newImportRig(t, rows, doubleticktest.WithServerRateLimit(doubletick.RouteCreateGroup, perSecond*6/5, time.Second))
	srv, counter := rig.srv, rig.counter
	args := []string{"--rate", fmt.Sprint(perSecond), "--in-doubt-wait", "3s"}

	began := time.Now()
	first, firstOut := rig.start(t, args...)
	require.Eventually(t, func() bool {
		created, _ := counter.count(0)
		return created >= rows/2
	}, 60*time.Second, time.Millisecond, "half the rows")
	srv.FailNext(1, http.StatusTooManyRequests)
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()
	killedAt, _ := counter.count(0)
	t.Logf("killed after %d creates; its output:\n%s", killedAt, lastLines(firstOut.String(), 3))

	second, secondOut := rig.start(t, args...)
	err := second.Wait()
	elapsed := time.Since(began)
	require.NoError(t, err, "the resumed import: %s", secondOut.String())
	t.Logf("resumed import: %s", lastLines(secondOut.String(), 2))

	assert.Len(t, srv.Groups(), rows, "every row created")
	counter.mu.Lock()
	requests := 0
	for id, statuses := range counter.statuses {
		requests += len(statuses)
		created := 0
		for _, s := range statuses {
			switch s {
			case http.StatusOK:
				created++
			case http.StatusTooManyRequests, http.StatusBadGateway:
			default:
				t.Errorf("%s: a create answered %d (all: %v)", id, s, statuses)
			}
		}
		assert.Equal(t, 1, created, "%s created %d times (all: %v)", id, created, statuses)
	}
	assert.Len(t, counter.statuses, rows)
	counter.mu.Unlock()
	_, limited := counter.count(http.StatusTooManyRequests)
	assert.Positive(t, limited, "the server answered 429s, and the import absorbed them")
	ideal := time.Duration(rows) * time.Second / perSecond
	t.Logf("%d rows in %s (rows ÷ rate = %s, ratio %.3f); %d create requests, %d answered 429",
		rows, elapsed.Round(time.Millisecond), ideal, ideal.Seconds()/elapsed.Seconds(), requests, limited)
	// The client's limiter paces it: faster than the rate is a bug on any
	// machine. Slower is a bug only on a quiet one (the soak run).
	assert.Greater(t, elapsed, ideal*9/10, "faster than the configured rate")
	if os.Getenv("DOUBLETICK_SOAK") != "" {
		assert.Less(t, elapsed, ideal*11/10, "more than 10%% slower than rows ÷ rate")
	}
}

// TestImportAtTheServersLimit paces an import at exactly the server's limit,
// counted in fixed windows (the soak run only: 20 s). A token bucket at
// that pace lets one request too many into a window now and then; the
// first 429 lowers the pace a little, and the import then runs without
// another. Before the pace adapted, one window in two answered 429 and the
// import ran at 0.53 of its rate.
func TestImportAtTheServersLimit(t *testing.T) {
	if os.Getenv("DOUBLETICK_SOAK") == "" {
		t.Skip("set DOUBLETICK_SOAK=1: imports 1,000 rows at 50/s")
	}
	const rows, perSecond = 1000, 50
	rig := newImportRig(t, rows, doubleticktest.WithServerRateLimit(doubletick.RouteCreateGroup, perSecond, time.Second))
	out, err := rig.command("--rate", fmt.Sprint(perSecond), "--json").Output()
	require.NoError(t, err)
	var sum importSummary
	require.NoError(t, json.Unmarshal(out, &sum))
	_, limited := rig.counter.count(http.StatusTooManyRequests)
	t.Logf("at the server's limit: %d rows in %.2fs, %.3f of the rate; %d 429s; pace lowered %d time(s) to %.2f/s",
		rows, sum.Seconds, sum.GroupsPerSec/perSecond, limited, sum.PaceLowered, sum.Pace)
	assert.Equal(t, rows, sum.Created)
	assert.Len(t, rig.srv.Groups(), rows)
	assert.LessOrEqual(t, sum.PaceLowered, 2)
	assert.GreaterOrEqual(t, sum.GroupsPerSec/perSecond, 0.9)
}

// TestImportInterruptedStopsCleanly is Ctrl-C during an import: it sends
// nothing more, records the requests in flight (none is left in doubt),
// says how to go on, and going on creates the rest.
func TestImportInterruptedStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	rig := newImportRig(t, 400)
	srv, counter := rig.srv, rig.counter

	first, out := rig.start(t, "--rate", "200")
	require.Eventually(t, func() bool {
		created, _ := counter.count(0)
		return created >= 50
	}, 30*time.Second, time.Millisecond)
	require.NoError(t, first.Process.Signal(os.Interrupt))
	err := first.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, out.String())
	assert.Equal(t, exitInterrupted, exit.ExitCode(), "130, as shells expect of Ctrl-C")
	assert.Contains(t, out.String(), "stopped: interrupted; run the same command again to go on")
	assert.Regexp(t, `\d+ created \(0 before this run\), 0 failed, 0 in doubt`, out.String())
	stoppedAt, _ := counter.count(0)
	assert.Less(t, stoppedAt, 400)

	second, err := rig.command("--rate", "200").CombinedOutput()
	require.NoError(t, err, "%s", second)
	assert.Contains(t, string(second), fmt.Sprintf("400 created (%d before this run)", stoppedAt))
	assert.Len(t, srv.Groups(), 400)
	counter.mu.Lock()
	defer counter.mu.Unlock()
	for id, statuses := range counter.statuses {
		assert.Equal(t, []int{http.StatusOK}, statuses, id)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestImportMemoryIsFlatInTheRows checks a file of a million rows, and one
// of a million bad rows (the soak run only), in the memory of a file of ten
// thousand.
func TestImportMemoryIsFlatInTheRows(t *testing.T) {
	if os.Getenv("DOUBLETICK_SOAK") == "" {
		t.Skip("set DOUBLETICK_SOAK=1: writes 1,000,000-row files")
	}
	dir := t.TempDir()
	bin := buildCLI(t, dir)
	peak := func(name string, rows int, subject string) (kib int64) {
		sub := filepath.Join(dir, name)
		require.NoError(t, os.Mkdir(sub, 0o700))
		path := groupsCSV(t, sub, rows, subject)
		cmd := exec.Command(bin, "groups", "import", path, "--check")
		cmd.Stdout = io.Discard
		err := cmd.Run()
		if subject == "" {
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit)
			require.Equal(t, exitUsage, exit.ExitCode())
		} else {
			require.NoError(t, err)
		}
		return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	}
	small := peak("small", 10_000, "Customer")
	large := peak("large", 1_000_000, "Customer")
	bad := peak("bad", 1_000_000, "")
	t.Logf("peak RSS checking and journaling 10,000 rows: %d KiB; 1,000,000 rows: %d KiB (%.2fx); 1,000,000 bad rows: %d KiB (%.2fx)",
		small, large, float64(large)/float64(small), bad, float64(bad)/float64(small))
	assert.Less(t, large, small+32<<10, "100 times the rows may not cost 32 MiB more")
	assert.Less(t, bad, small+32<<10, "a million problems are reported, not kept")
}

func TestProgressDrawsABarOnATerminalAndLinesElsewhere(t *testing.T) {
	before := bulk.Counts{Pending: 90, Created: 10}

	var bar bytes.Buffer
	p := newProgress(&bar, true, before, atPace(1))
	p.update(bulk.Counts{Pending: 40, Created: 58, Failed: 2})
	p.finish()
	assert.Contains(t, bar.String(), "creating groups (2 failed), 40s left", "40 rows at the pace of 1/s")
	assert.Regexp(t, `\(0/90, [\d.]+ groups/\w+\)`, bar.String(), "this run's count and its rate")
	assert.NotRegexp(t, `\[\d+s:\d+s\]`, bar.String(), "no estimate from the rate so far")
	assert.Regexp(t, `\nprogress: 60/100 done .*\n$`, bar.String(), "stopped short: the bar is not filled, a line says where it stands")

	bar.Reset()
	p = newProgress(&bar, true, before, atPace(1))
	p.update(bulk.Counts{Created: 100})
	p.finish()
	assert.Regexp(t, `100% \|█+\| \(90/90, `, bar.String())

	var lines bytes.Buffer
	p = newProgress(&lines, false, before, atPace(1))
	p.update(bulk.Counts{Pending: 40, Created: 58, Failed: 2})
	p.finish()
	assert.Regexp(t, `^progress: 60/100 done \(58 created, 2 failed, 0 being sent or in doubt\), [\d.]+ groups/s so far, 40s left\n$`, lines.String())
}

// atPace is the time a pace of perSecond, its bucket empty, takes for n rows.
func atPace(perSecond float64) func(int) time.Duration {
	return func(n int) time.Duration { return time.Duration(float64(n) / perSecond * float64(time.Second)) }
}

// The time left follows the pace the limiter allows, not the rate so far
// (a burst of 60 made 72 rows in 12 s look like 6/s, and 128 rows 21 s
// away, when 2 minutes were left); and while rows are in doubt it is never
// below the wait before they are sent again.
func TestProgressTimeLeftIsTrue(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var lines bytes.Buffer
	p := newProgress(&lines, false, bulk.Counts{Pending: 200}, atPace(1))
	p.start, p.now = now.Add(-12*time.Second), func() time.Time { return now }
	p.line(now)
	p.last = bulk.Counts{Pending: 128, Created: 72}
	p.line(now)
	assert.Contains(t, lines.String(), "72/200 done")
	assert.Contains(t, lines.String(), "6.0 groups/s so far, 2m8s left")

	lines.Reset()
	p.inDoubt(1, now.Add(95*time.Second))
	p.last = bulk.Counts{Sending: 1, Created: 199}
	p.line(now)
	assert.Contains(t, lines.String(), "1m36s left", "the wait of the row in doubt, then its send")
}

func TestPacerResumeSendsNoFreshBurst(t *testing.T) {
	p, err := bulk.NewPacer(doubletick.RateLimit{Rate: 1, Burst: 60})
	require.NoError(t, err)
	assert.Zero(t, p.TimeFor(60), "a first run: a full bucket")
	p, err = bulk.NewPacer(doubletick.RateLimit{Rate: 1, Burst: 60})
	require.NoError(t, err)
	p.Resume(time.Now().Add(-10 * time.Second))
	assert.InDelta(t, 50, p.TimeFor(60).Seconds(), 1.5, "10 s after the last send: 10 tokens, the other 50 at 1/s")
	p, err = bulk.NewPacer(doubletick.RateLimit{Rate: 1, Burst: 60})
	require.NoError(t, err)
	p.Resume(time.Now().Add(-time.Hour))
	assert.Zero(t, p.TimeFor(60), "long after: a full bucket again")
}

func TestProgressSaysWhatRowsInDoubtWaitFor(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var lines bytes.Buffer
	p := newProgress(&lines, false, bulk.Counts{Sending: 2}, atPace(1))
	p.now = func() time.Time { return now }
	p.lastLine = time.Time{}
	p.inDoubt(2, now.Add(95*time.Second))
	assert.Regexp(t, `^waiting: 2 row\(s\) in doubt .*sent again in 1m35s \(--in-doubt-wait after it was sent\)\n$`, lines.String())
	p.inDoubt(2, now.Add(90*time.Second))
	assert.Equal(t, 1, strings.Count(lines.String(), "\n"), "no more than a line every few seconds")
	now = now.Add(progressEvery)
	p.inDoubt(1, now.Add(88*time.Second))
	assert.Contains(t, lines.String(), "waiting: 1 row(s) in doubt")
	assert.Contains(t, lines.String(), "sent again in 1m28s")

	var bar bytes.Buffer
	p = newProgress(&bar, true, bulk.Counts{Sending: 2}, atPace(1))
	p.now = func() time.Time { return now }
	p.inDoubt(2, now.Add(30*time.Second))
	p.update(bulk.Counts{Sending: 2})
	assert.Contains(t, bar.String(), "2 row(s) in doubt: looking up their groups, sent again if not found in 30s")
}
