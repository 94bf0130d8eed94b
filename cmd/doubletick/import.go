package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/cmd/doubletick/internal/bulk"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/time/rate"
)

// importSummary is what groups import prints at the end.
type importSummary struct {
	Rows          int     `json:"rows"`
	Created       int     `json:"created"`
	CreatedBefore int     `json:"createdBefore"`
	Failed        int     `json:"failed"`
	InDoubt       int     `json:"inDoubt"`
	Pending       int     `json:"pending"`
	Seconds       float64 `json:"seconds"`
	GroupsPerSec  float64 `json:"groupsPerSecond"`
	// Pace is the create rate at the end; each 429 lowered it a little,
	// PaceLowered times in all.
	Pace         float64 `json:"pace"`
	PaceLowered  int     `json:"paceLowered"`
	Journal      string  `json:"journal"`
	FailuresFile string  `json:"failuresFile,omitempty"`
	Checked      bool    `json:"checkedOnly,omitempty"`
}

// importFlags are groups import's flags.
type importFlags struct {
	journal, failures string
	perSecond         float64
	burst, workers    int
	inDoubtWait       time.Duration
	checkOnly         bool
}

func (a *app) groupsImportCommand() *cobra.Command {
	var o importFlags
	cmd := &cobra.Command{
		Use:   "import FILE.csv [flags]",
		Short: "Create a group for each row of a CSV file; resumable, never creating a row twice",
		Long: `Create a group for each row of a CSV file. The first line names the columns,
in any order: wabaNumber, subject and groupId (required in every row: it is
the row's stable ID), and optionally description and joinApprovalMode
(auto_approve or approval_required). UTF-8, with or without a byte order
mark; LF or CRLF line ends.

Every row is checked before anything is sent: a bad row, a missing column or
a groupId used twice is reported with its line and field, all of them at
once, and nothing is sent (exit 2).

The import is paced by --rate, and waits out the server's 429s; each 429
also lowers the pace by 2% (to half of --rate at most), since a server that
refused at a pace refuses again at it. A journal (an SQLite file, FILE.csv.journal by default)
records each row before its request leaves and after its answer comes, so an
import stopped by Ctrl-C, a crash or a kill goes on where it stopped when run
again with the same file, and never sends a created row twice. A row whose
request may have reached DoubleTick when the import stopped is looked up by
its groupId first; it is sent again only if the group is still not found
--in-doubt-wait after that request (DoubleTick creates groups
asynchronously and documents neither how long that takes nor what a
repeated groupId does). A refused API key, or five creates in a row without
a clear answer (DoubleTick or the network down), stop the import with the
rest still to send.

Rows DoubleTick refuses are written to a failures file (FILE.failures.csv
by default) in the same format, with an error column: fix them there and
import that file. Exit 0 when every row is created, 1 when some failed or
are still in doubt (run again), 2 on bad input.`,
		Example: `  doubletick groups import customers.csv --check     # check every row, send nothing
  doubletick groups import customers.csv --rate 1    # create; run again after a stop to go on
  doubletick groups import customers.failures.csv    # the fixed failures`,
		Args: args(1, "the CSV file"),
		RunE: func(cmd *cobra.Command, args []string) error { return a.importGroups(cmd.Context(), args[0], o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.journal, "journal", "", "the journal file (default FILE.csv.journal)")
	f.StringVar(&o.failures, "failures", "", "where failed rows go (default FILE.failures.csv)")
	f.Float64Var(&o.perSecond, "rate", 0, "create requests per second (default: the SDK's default limit, 1 per second with bursts of 60)")
	f.IntVar(&o.burst, "burst", 1, "with --rate: how many requests may go at once after a pause")
	f.IntVar(&o.workers, "workers", bulk.DefaultWorkers, "requests in flight at once")
	f.DurationVar(&o.inDoubtWait, "in-doubt-wait", bulk.DefaultInDoubtWait, "how long a row that may have been created waits to be found before it is sent again")
	f.BoolVar(&o.checkOnly, "check", false, "check the file and fill the journal, but send nothing")
	return readsEnv(cmd, apiEnv...)
}

// importGroups runs groups import of file: it loads the file into the
// journal, then creates the rows not yet created, and prints the summary.
func (a *app) importGroups(ctx context.Context, file string, o importFlags) error {
	if o.journal == "" {
		o.journal = file + ".journal"
	}
	if o.failures == "" {
		o.failures = strings.TrimSuffix(file, ".csv") + ".failures.csv"
	}
	if o.perSecond < 0 || o.burst < 1 || o.workers < 1 {
		return usagef("--rate must be positive, --burst and --workers at least 1")
	}
	if _, err := os.Stat(file); err != nil {
		return usageError{err}
	}
	started := time.Now()
	j, loaded, err := a.loadImport(ctx, file, o.journal)
	if err != nil {
		return err
	}
	defer j.Close()
	summary := importSummary{Rows: loaded.Rows, Journal: o.journal}
	if o.checkOnly {
		summary.Checked = true
		return a.print(summary, func(w io.Writer) {
			fmt.Fprintf(w, "%s: %d rows, all good; nothing sent (journal %s)\n", file, loaded.Rows, o.journal)
		})
	}

	limit := doubletick.DefaultRateLimit()
	if o.perSecond > 0 {
		limit = doubletick.RateLimit{Rate: rate.Limit(o.perSecond), Burst: o.burst}
	}
	pacer, err := bulk.NewPacer(limit)
	if err != nil {
		return err
	}
	// A run started again soon after one that stopped sends no fresh
	// burst on top of the last one's.
	lastSent, err := j.LastSent(ctx)
	if err != nil {
		return err
	}
	pacer.Resume(lastSent)
	c, err := a.client(doubletick.WithLimiter(pacer))
	if err != nil {
		return err
	}
	before, err := j.Counts(ctx)
	if err != nil {
		return err
	}
	p := newProgress(a.stderr, a.stderrIsTerminal, before, pacer.TimeFor)
	if before.Sending > 0 {
		// Rows a stopped run left in doubt wait --in-doubt-wait from when
		// they were sent (at the latest, the journal's last send) before
		// they may be sent again: the time left counts it from the start.
		p.doubtUntil = lastSent.Add(o.inDoubtWait)
	}
	counts, runErr := j.Run(ctx, c.Groups, bulk.Options{Workers: o.workers, InDoubtWait: o.inDoubtWait,
		Progress: p.update, InDoubt: p.inDoubt})
	p.finish()

	elapsed := time.Since(started)
	summary.Created, summary.CreatedBefore = counts.Created, before.Created
	summary.Failed, summary.InDoubt, summary.Pending = counts.Failed, counts.Sending, counts.Pending
	summary.Seconds = elapsed.Seconds()
	pace, lowered := pacer.Pace()
	summary.Pace, summary.PaceLowered = float64(pace), lowered
	summary.GroupsPerSec = float64(counts.Created+counts.Failed-before.Created-before.Failed) / elapsed.Seconds()
	if counts.Failed > 0 {
		// Written even after Ctrl-C: the rows refused so far are known.
		if err := writeFailures(context.WithoutCancel(ctx), j, o.failures); err != nil {
			return err
		}
		summary.FailuresFile = o.failures
	}
	if err := a.print(summary, func(w io.Writer) { summary.write(w, file) }); err != nil {
		return err
	}
	switch {
	case runErr != nil && ctx.Err() != nil:
		return fmt.Errorf("stopped: %w; run the same command again to go on", errInterrupted)
	case runErr != nil:
		return fmt.Errorf("stopped: %w; run the same command again to go on", runErr)
	case counts.Failed > 0:
		return fmt.Errorf("%d row(s) failed", counts.Failed)
	}
	return nil
}

// loadImport opens the journal at path and loads file into it, reporting
// each bad row. When nothing could be loaded, a journal this run began is
// removed: nothing was sent, and it would only sit beside the file.
func (a *app) loadImport(ctx context.Context, file, path string) (*bulk.Journal, bulk.LoadResult, error) {
	_, statErr := os.Stat(path)
	fresh := errors.Is(statErr, fs.ErrNotExist)
	j, err := bulk.OpenJournal(ctx, path)
	if err != nil {
		return nil, bulk.LoadResult{}, err
	}
	loaded, err := j.Load(ctx, file, func(problem error) { fmt.Fprintln(a.stderr, problem) })
	if err == nil && loaded.Problems > 0 {
		err = usagef("%s: %d problem(s) in %d rows; nothing was sent", file, loaded.Problems, loaded.Rows)
	}
	if err == nil {
		return j, loaded, nil
	}
	_ = j.Close()
	if fresh {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(path + suffix)
		}
	}
	var herr *bulk.HeaderError
	var changed *bulk.ChangedFileError
	var parse *csv.ParseError
	if errors.As(err, &herr) || errors.As(err, &changed) || errors.As(err, &parse) || errors.Is(err, bulk.ErrEmptyFile) {
		return nil, loaded, usageError{err}
	}
	return nil, loaded, err
}

// write writes the summary for people.
func (s importSummary) write(w io.Writer, file string) {
	fmt.Fprintf(w, "%s: %d rows: %d created (%d before this run), %d failed, %d in doubt, %d not sent; %.1fs, %.1f groups/s\n",
		file, s.Rows, s.Created, s.CreatedBefore, s.Failed, s.InDoubt, s.Pending, s.Seconds, s.GroupsPerSec)
	if s.PaceLowered > 0 {
		fmt.Fprintf(w, "the server answered 429 %d time(s) at the pace asked for: the pace went down to %.2f/s; start there next time\n",
			s.PaceLowered, s.Pace)
	}
	if s.FailuresFile != "" {
		fmt.Fprintf(w, "failed rows, with why, are in %s: fix them there and import it\n", s.FailuresFile)
	}
}

func writeFailures(ctx context.Context, j *bulk.Journal, path string) error {
	// The failures hold the rows' phones and names: the owner's only.
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := j.WriteFailures(ctx, out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// progress shows an import's progress: a bar with the rate and the time
// left on a terminal, else a line every few seconds.
type progress struct {
	mu       sync.Mutex
	out      io.Writer
	bar      *progressbar.ProgressBar
	start    time.Time
	first    int // rows settled before this run
	last     bulk.Counts
	lastLine time.Time
	now      func() time.Time
	// timeFor is how long the pace takes to send n more rows; doubtUntil
	// is when rows in doubt, if any, are sent again.
	timeFor    func(int) time.Duration
	doubtUntil time.Time
}

// left is the time the import has left, never below what remains: the
// remaining rows at the pace the limiter allows (not the rate so far,
// which a burst inflates), and, while rows are in doubt, the wait before
// they are sent again and sending them.
func (p *progress) left(c bulk.Counts, now time.Time) time.Duration {
	pending := c.Pending
	left := p.timeFor(pending)
	if c.Sending > 0 && p.doubtUntil.After(now) {
		left = max(left, p.doubtUntil.Sub(now)+p.timeFor(c.Sending))
	} else {
		left = p.timeFor(pending + c.Sending)
	}
	return left.Round(time.Second)
}

// progressEvery is how often progress lines are written when not to a
// terminal.
const progressEvery = 2 * time.Second

// newProgress returns the progress of an import that had done before when
// it started, whose pace takes timeFor(n) to send n more rows.
func newProgress(out io.Writer, terminal bool, before bulk.Counts, timeFor func(int) time.Duration) *progress {
	p := &progress{out: out, start: time.Now(), first: before.Created + before.Failed, last: before, now: time.Now, timeFor: timeFor}
	p.lastLine = p.start
	if terminal {
		p.bar = progressbar.NewOptions(before.Total()-p.first,
			progressbar.OptionSetWriter(out),
			progressbar.OptionSetDescription("creating groups"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("groups"),
			// The bar's own estimate follows the rate so far, which a
			// burst inflates: the time left is in the description.
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }),
		)
	}
	return p
}

func (p *progress) update(c bulk.Counts) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = c
	done := c.Created + c.Failed
	if p.bar != nil {
		if now := p.now(); c.Sending > 0 && p.doubtUntil.After(now) {
			_ = p.bar.Set(done - p.first) // inDoubt describes the wait
			return
		}
		desc := fmt.Sprintf("creating groups, %s left", p.left(c, p.now()))
		if c.Failed > 0 {
			desc = fmt.Sprintf("creating groups (%d failed), %s left", c.Failed, p.left(c, p.now()))
		}
		p.bar.Describe(desc)
		_ = p.bar.Set(done - p.first)
		return
	}
	if now := time.Now(); now.Sub(p.lastLine) >= progressEvery {
		p.lastLine = now
		p.line(now)
	}
}

// inDoubt says what the import waits for while rows are in doubt: their
// create may have reached DoubleTick before a stop, so each is looked up
// until its group appears, and sent again only when it has not appeared
// --in-doubt-wait after it was sent.
func (p *progress) inDoubt(rows int, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.doubtUntil = until
	left := max(until.Sub(now), 0).Round(time.Second)
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%d row(s) in doubt: looking up their groups, sent again if not found in %s", rows, left))
		return
	}
	if now.Sub(p.lastLine) < progressEvery {
		return
	}
	p.lastLine = now
	fmt.Fprintf(p.out, "waiting: %d row(s) in doubt (sent before a stop, outcome unknown): looking up their groups "+
		"until they appear; any still not found is sent again in %s (--in-doubt-wait after it was sent)\n", rows, left)
}

// line writes a progress line: done of total, the rate of this run so
// far, and the time left (see left).
func (p *progress) line(now time.Time) {
	c := p.last
	done := c.Created + c.Failed
	perSec := float64(done-p.first) / now.Sub(p.start).Seconds()
	fmt.Fprintf(p.out, "progress: %d/%d done (%d created, %d failed, %d being sent or in doubt), %.1f groups/s so far, %s left\n",
		done, c.Total(), c.Created, c.Failed, c.Sending, perSec, p.left(c, now))
}

// finish ends the progress display: a full bar, or, when rows are left (a
// stop, failures, rows in doubt), the bar left as it is and a line saying
// where the import stands.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		if p.last.Created+p.last.Failed-p.first == p.bar.GetMax() {
			_ = p.bar.Finish()
			return
		}
		_ = p.bar.Exit()
	}
	p.line(time.Now())
}
