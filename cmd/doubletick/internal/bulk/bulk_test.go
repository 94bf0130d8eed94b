package bulk

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/doubleticktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "groups.csv")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func openJournal(t *testing.T, csvPath string) *Journal {
	t.Helper()
	j, err := OpenJournal(context.Background(), csvPath+".journal")
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	return j
}

// collect returns a Load report function and the problems it collected.
func collect() (func(error), *[]string) {
	var got []string
	return func(err error) { got = append(got, err.Error()) }, &got
}

func ignore(error) {}

func TestLoadReportsEveryBadRowWithLineAndField(t *testing.T) {
	// A BOM, CRLF line ends, columns in another order, a quoted field over
	// two lines (so record and line numbers differ), and bad rows.
	content := "\uFEFFgroupId,subject,wabaNumber,joinApprovalMode,description\r\n" +
		"g1,VIP,911111111111,auto_approve,\"two\r\nlines\"\r\n" +
		"g2,,911111111111,,\r\n" + // line 4: no subject
		"g3,Ok,91-111,sometimes,\r\n" + // line 5: not digits, bad mode
		",Ok,911111111111,,\r\n" + // line 6: no groupId
		"g1,Again,911111111111,,\r\n" + // line 7: groupId of line 2
		"g8,Ok,911111111111\r\n" + // line 8: three fields
		"g9," + strings.Repeat("s", 129) + ",911111111111,,\r\n" // line 9: long subject
	path := writeFile(t, content)
	j := openJournal(t, path)

	report, problems := collect()
	res, err := j.Load(context.Background(), path, report)
	require.NoError(t, err)
	assert.Equal(t, 7, res.Rows)
	got := *problems
	assert.Equal(t, len(got), res.Problems)
	for _, want := range []string{
		"line 4: subject:",
		"line 5: wabaNumber:",
		"line 5: joinApprovalMode:",
		"line 6: groupId: required",
		`line 7: groupId: "g1" is also the groupId of line 2`,
		"line 8: has 3 fields, the header has 5",
		"line 9: subject:",
	} {
		assert.True(t, containsPrefix(got, want), "want a problem starting %q in %q", want, got)
	}
	assert.Len(t, got, 7, "each problem of the bad rows: %q", got)

	// Nothing was loaded: nothing can be sent.
	c, err := j.Counts(context.Background())
	require.NoError(t, err)
	assert.Zero(t, c.Total())
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func TestLoadRefusesABadHeader(t *testing.T) {
	for name, tc := range map[string]struct{ header, want string }{
		"missing":  {"wabaNumber,description", "missing column subject, groupId"},
		"unknown":  {"wabaNumber,subject,groupId,descripton", `unknown column "descripton"`},
		"repeated": {"wabaNumber,subject,groupId,subject", "column named twice subject"},
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, tc.header+"\n")
			_, err := openJournal(t, path).Load(context.Background(), path, ignore)
			var herr *HeaderError
			require.ErrorAs(t, err, &herr)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "line 1:")
		})
	}
	path := writeFile(t, "")
	_, err := openJournal(t, path).Load(context.Background(), path, ignore)
	assert.ErrorContains(t, err, "empty")
}

func TestFailuresFileImportsAgain(t *testing.T) {
	var buf bytes.Buffer
	fw, err := NewFailuresWriter(&buf)
	require.NoError(t, err)
	require.NoError(t, fw.Write(doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "a, \"quoted\"", GroupID: "g1"}, "400: no"))
	require.NoError(t, fw.Flush())

	path := writeFile(t, buf.String())
	res, err := openJournal(t, path).Load(context.Background(), path, ignore)
	require.NoError(t, err)
	assert.Zero(t, res.Problems)
	assert.Equal(t, 1, res.Rows)
}

func TestFailuresFileNeutralisesFormulasAndReadsThemBack(t *testing.T) {
	subjects := []string{`=HYPERLINK("http://x.example","click")`, "+91 VIP", "-VIP-", "@SUM(A1)", "\tTab", "\rCR", "'quoted", "''two", "plain = fine"}
	var buf bytes.Buffer
	fw, err := NewFailuresWriter(&buf)
	require.NoError(t, err)
	for i, subject := range subjects {
		require.NoError(t, fw.Write(doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: subject, GroupID: fmt.Sprint("g", i)}, "=1+1"))
	}
	require.NoError(t, fw.Flush())

	records, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	require.NoError(t, err)
	for _, rec := range records[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula", cell)
			}
		}
	}

	rd, err := NewReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	var got []string
	for {
		row, problems, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		assert.Empty(t, problems)
		got = append(got, row.Request.Subject)
	}
	assert.Equal(t, subjects, got, "read back unchanged")

	// A file of one's own, without the error column, is read as written.
	rd, err = NewReader(strings.NewReader("wabaNumber,subject,groupId\n911111111111,'quoted,g1\n"))
	require.NoError(t, err)
	row, _, err := rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "'quoted", row.Request.Subject)
}

func TestLoadKeepsTheJournalOfTheSameFile(t *testing.T) {
	ctx := context.Background()
	path := writeFile(t, "wabaNumber,subject,groupId\n911111111111,A,g1\n911111111111,B,g2\n")
	j := openJournal(t, path)
	_, err := j.Load(ctx, path, ignore)
	require.NoError(t, err)
	require.NoError(t, j.mark(ctx, 2, StateCreated, ""))

	res, err := j.Load(ctx, path, ignore)
	require.NoError(t, err)
	assert.True(t, res.Reused)
	c, err := j.Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, Counts{Pending: 1, Created: 1}, c, "the journal's states survive")

	// The file changed after a row was sent: refused, nothing replaced.
	require.NoError(t, os.WriteFile(path, []byte("wabaNumber,subject,groupId\n911111111111,A2,g1\n"), 0o600))
	_, err = j.Load(ctx, path, ignore)
	var changed *ChangedFileError
	require.ErrorAs(t, err, &changed)
	assert.Equal(t, 1, changed.Sent)
}

func TestLoadReplacesAChangedFileWhileNothingWasSent(t *testing.T) {
	ctx := context.Background()
	path := writeFile(t, "wabaNumber,subject,groupId\n911111111111,A,g1\n")
	j := openJournal(t, path)
	_, err := j.Load(ctx, path, ignore)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte("wabaNumber,subject,groupId\n911111111111,A,g1\n911111111111,B,g2\n"), 0o600))
	res, err := j.Load(ctx, path, ignore)
	require.NoError(t, err)
	assert.False(t, res.Reused)
	c, err := j.Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Pending)
}

func TestOpenJournalUsesThePathAsWritten(t *testing.T) {
	// '#' ends a URI filename's path and "%41" writes "A": unescaped, the
	// journal would be created as "a " or "50Aoff.journal".
	for _, name := range []string{"a #1.journal", "50%41off.journal"} {
		path := filepath.Join(t.TempDir(), name)
		j, err := OpenJournal(context.Background(), path)
		require.NoError(t, err)
		require.NoError(t, j.Close())
		assert.FileExists(t, path)
	}
}

func TestTheJournalIsTheOwnersOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "import.journal")
	j, err := OpenJournal(context.Background(), path)
	require.NoError(t, err)
	require.NoError(t, j.Close())
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestOneImportPerJournal(t *testing.T) {
	path := writeFile(t, "wabaNumber,subject,groupId\n")
	openJournal(t, path)
	_, err := OpenJournal(context.Background(), path+".journal")
	assert.ErrorIs(t, err, ErrJournalInUse)
}

// rows writes an import file of n rows, groupIds g1…gn.
func rows(t *testing.T, n int) string {
	var b strings.Builder
	b.WriteString("wabaNumber,subject,description,joinApprovalMode,groupId\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "911111111111,Group %d,,auto_approve,g%d\n", i, i)
	}
	return writeFile(t, b.String())
}

func load(t *testing.T, path string) *Journal {
	t.Helper()
	j := openJournal(t, path)
	res, err := j.Load(context.Background(), path, ignore)
	require.NoError(t, err)
	require.Zero(t, res.Problems)
	return j
}

func TestRunCreatesEveryRowAndAbsorbs429s(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0))
	t.Cleanup(srv.Close)
	c, err := srv.NewClient(doubletick.WithoutRateLimit(), doubletick.WithMaxAttempts(1))
	require.NoError(t, err)
	srv.FailNext(3, http.StatusTooManyRequests) // each attempt fails once: the runner sends again

	path := rows(t, 50)
	j := load(t, path)
	var mu sync.Mutex
	var seen []Counts
	counts, err := j.Run(context.Background(), c.Groups, Options{Progress: func(c Counts) {
		mu.Lock()
		seen = append(seen, c)
		mu.Unlock()
	}})
	require.NoError(t, err)
	assert.Equal(t, Counts{Created: 50}, counts)
	assert.Len(t, srv.Groups(), 50)
	assert.Equal(t, Counts{Created: 50}, seen[len(seen)-1])

	// Run again: nothing left to send.
	before := srv.Requests()
	counts, err = j.Run(context.Background(), c.Groups, Options{})
	require.NoError(t, err)
	assert.Equal(t, Counts{Created: 50}, counts)
	assert.Equal(t, before, srv.Requests(), "a finished import sends nothing")
}

func TestRunRecordsRefusedRowsAndWritesThem(t *testing.T) {
	// Only one number has an integration: DoubleTick answers 400 for others.
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0), doubleticktest.WithWABANumbers("911111111111"))
	t.Cleanup(srv.Close)
	c, err := srv.NewClient(doubletick.WithoutRateLimit())
	require.NoError(t, err)
	path := writeFile(t, "wabaNumber,subject,groupId\n911111111111,A,g1\n922222222222,B,g2\n")
	j := load(t, path)

	counts, err := j.Run(context.Background(), c.Groups, Options{})
	require.NoError(t, err)
	assert.Equal(t, Counts{Created: 1, Failed: 1}, counts)

	var buf bytes.Buffer
	n, err := j.WriteFailures(context.Background(), &buf)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, "wabaNumber,subject,description,joinApprovalMode,groupId,error", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "922222222222,B,,,g2,"), lines[1])
	assert.Contains(t, lines[1], "400")

	// A failed row is not sent again from this journal.
	before := srv.Requests()
	_, err = j.Run(context.Background(), c.Groups, Options{})
	require.NoError(t, err)
	assert.Equal(t, before, srv.Requests())
}

// clock is a test clock that Sleep moves forward.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return nil
}

// countingGroups counts the creates per groupId.
type countingGroups struct {
	Groups
	mu      sync.Mutex
	creates map[string]int
}

func (g *countingGroups) Create(ctx context.Context, req *doubletick.CreateGroupRequest) (*doubletick.CreateGroupResult, *doubletick.Response, error) {
	g.mu.Lock()
	g.creates[req.GroupID]++
	g.mu.Unlock()
	return g.Groups.Create(ctx, req)
}

func TestRunSettlesRowsInDoubt(t *testing.T) {
	ctx := context.Background()
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0))
	t.Cleanup(srv.Close)
	c, err := srv.NewClient(doubletick.WithoutRateLimit())
	require.NoError(t, err)
	groups := &countingGroups{Groups: c.Groups, creates: map[string]int{}}

	path := rows(t, 3)
	j := load(t, path)
	clk := &clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	// g1 was sent and created before a crash; g2 was sent and never
	// arrived, a minute ago; g3 was sent just now and is not found yet.
	_, _, err = c.Groups.Create(ctx, &doubletick.CreateGroupRequest{WABANumber: "911111111111", Subject: "Group 1", GroupID: "g1"})
	require.NoError(t, err)
	require.NoError(t, j.markSending(ctx, 2, clk.Now()))
	require.NoError(t, j.markSending(ctx, 3, clk.Now().Add(-time.Minute)))
	require.NoError(t, j.markSending(ctx, 4, clk.Now()))

	type report struct {
		rows  int
		until time.Time
	}
	var waits []report
	counts, err := j.Run(ctx, groups, Options{InDoubtWait: 30 * time.Second, Now: clk.Now, Sleep: clk.Sleep,
		InDoubt: func(rows int, until time.Time) { waits = append(waits, report{rows, until.UTC()}) }})
	require.NoError(t, err)
	assert.Equal(t, Counts{Created: 3}, counts)
	want := report{1, time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)}
	assert.Equal(t, []report{want, want, want, want, want, want}, waits,
		"g3 waited 30 s, told every 5 s when it may be sent again")
	assert.Equal(t, map[string]int{"g2": 1, "g3": 1}, groups.creates,
		"g1 found, not sent again; g2 sent again at once; g3 sent again once its wait passed")
	assert.Equal(t, time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC), clk.Now(), "g3 waited exactly its wait")
	assert.Len(t, srv.Groups(), 3)
}

func TestRunLeavesAnUnknownOutcomeInDoubt(t *testing.T) {
	ctx := context.Background()
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0))
	t.Cleanup(srv.Close)
	c, err := srv.NewClient(doubletick.WithoutRateLimit(), doubletick.WithMaxAttempts(1))
	require.NoError(t, err)
	path := rows(t, 1)
	j := load(t, path)

	// Every request answers 500: the create may have happened, the lookups
	// fail. The row stays in doubt, and the run says so.
	srv.FailNext(100, http.StatusInternalServerError)
	clk := &clock{now: time.Now()}
	counts, err := j.Run(ctx, c.Groups, Options{Now: clk.Now, Sleep: clk.Sleep})
	require.ErrorContains(t, err, "still in doubt")
	assert.Equal(t, Counts{Sending: 1}, counts)

	// Later the server answers; the group is not there (the 500 created
	// nothing) and its wait has passed: it is sent once.
	srv.FailNext(0, 0)
	counts, err = j.Run(ctx, c.Groups, Options{InDoubtWait: time.Nanosecond})
	require.NoError(t, err)
	assert.Equal(t, Counts{Created: 1}, counts)
	assert.Len(t, srv.Groups(), 1)
}

func TestRunStopsWhenItsContextEnds(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0))
	t.Cleanup(srv.Close)
	c, err := srv.NewClient(doubletick.WithoutRateLimit())
	require.NoError(t, err)
	path := rows(t, 100)
	j := load(t, path)

	ctx, cancel := context.WithCancel(context.Background())
	counts, err := j.Run(ctx, c.Groups, Options{Workers: 1, Progress: func(c Counts) {
		if c.Created == 10 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, counts.Sending, "the request in flight finished and was recorded")
	assert.Equal(t, counts.Created, len(srv.Groups()))
	assert.Less(t, counts.Created, 100)

	counts, err = j.Run(context.Background(), c.Groups, Options{})
	require.NoError(t, err)
	assert.Equal(t, Counts{Created: 100}, counts)
	assert.Len(t, srv.Groups(), 100)
}

func TestJournalPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a #b?c%20d")
	require.NoError(t, os.Mkdir(dir, 0o700))
	path := filepath.Join(dir, "groups.csv.journal")
	j, err := OpenJournal(context.Background(), path)
	require.NoError(t, err)
	require.NoError(t, j.Close())
	assert.FileExists(t, path, "the journal is where it was asked to be, not at a path cut at # or ?")
}

func TestRunStopsOnARefusedKeyWithoutFailingRows(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0))
	t.Cleanup(srv.Close)
	wrong, err := doubletick.NewClient("key_wrong", doubletick.WithBaseURL(srv.URL), doubletick.WithoutRateLimit())
	require.NoError(t, err)
	j := load(t, rows(t, 20))

	counts, err := j.Run(context.Background(), wrong.Groups, Options{})
	require.ErrorIs(t, err, doubletick.ErrUnauthorized)
	assert.Equal(t, Counts{Pending: 20}, counts, "no row failed for the key's fault")

	right, err := srv.NewClient(doubletick.WithoutRateLimit())
	require.NoError(t, err)
	counts, err = j.Run(context.Background(), right.Groups, Options{})
	require.NoError(t, err)
	assert.Equal(t, Counts{Created: 20}, counts)
}

func TestRunStopsWhenCreatesKeepHavingNoClearAnswer(t *testing.T) {
	srv := doubleticktest.NewServer(doubleticktest.WithCreationDelay(0))
	t.Cleanup(srv.Close)
	c, err := srv.NewClient(doubletick.WithoutRateLimit(), doubletick.WithMaxAttempts(1))
	require.NoError(t, err)
	j := load(t, rows(t, 100))

	srv.FailNext(1000, http.StatusInternalServerError)
	counts, err := j.Run(context.Background(), c.Groups, Options{Workers: 2})
	require.ErrorContains(t, err, "creates in a row had no clear answer")
	assert.GreaterOrEqual(t, counts.Sending, maxUnknownInARow)
	assert.LessOrEqual(t, counts.Sending, maxUnknownInARow+2, "the rows in flight, no more")
	assert.Equal(t, 100-counts.Sending, counts.Pending)
	assert.Zero(t, counts.Failed)
}
