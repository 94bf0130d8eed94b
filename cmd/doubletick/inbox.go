package main

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick/inbox"
	"github.com/doubletick-go/doubletick/inbox/inboxadmin"
	"github.com/spf13/cobra"
)

// inboxFlags say which inbox the commands act on.
type inboxFlags struct {
	sqlite string
	org    string
}

func (a *app) inboxCommand() *cobra.Command {
	var f inboxFlags
	c := group("inbox", "See and act on a webhook inbox's database: counts, dead letters, replays",
		a.inboxStatusCommand(&f), a.inboxDeadLettersCommand(&f), a.inboxReplayCommand(&f), a.inboxPurgeCommand(&f))
	c.Long = `See and act on the database of a webhook inbox (package inbox): how many
deliveries wait, run, retry or died, the dead letters, and replaying or
purging them. The inbox is the SQLite file --sqlite names, or else the
PostgreSQL database at $` + envInboxDatabaseURL + `. Nothing here runs a
callback: a replayed delivery runs in the app's own inbox, whose workers
pick it up.`
	c.PersistentFlags().StringVar(&f.sqlite, "sqlite", "", "the inbox's SQLite file (default: PostgreSQL at $"+envInboxDatabaseURL+")")
	c.PersistentFlags().StringVar(&f.org, "org", "", "only this organisation's deliveries, in an inbox that serves many (default: the profile's org; all)")
	return c
}

// open opens the inbox the flags and the environment name.
func (a *app) openInbox(cmd *cobra.Command, f *inboxFlags) (inboxadmin.Inbox, func(), error) {
	url := a.getenv(envInboxDatabaseURL)
	if f.sqlite == "" && url == "" {
		return nil, nil, usagef("give --sqlite FILE, or set %s to the inbox's PostgreSQL URL", envInboxDatabaseURL)
	}
	org := f.org
	if org == "" {
		_, p, err := a.activeProfile()
		if err != nil {
			return nil, nil, err
		}
		if p != nil {
			org = p.Org
		}
	}
	if err := checkOrgID("--org", org); org != "" && err != nil {
		return nil, nil, err
	}
	in, closeInbox, err := inboxadmin.Open(cmd.Context(), f.sqlite, url)
	switch {
	case f.sqlite != "" && errors.Is(err, fs.ErrNotExist):
		return nil, nil, usagef("--sqlite %s: no such file: give the SQLite file the app's inbox stores in", printable(f.sqlite))
	case err != nil:
		return nil, nil, usagef("%s", sdkDetail(err))
	}
	if org != "" {
		one, err := inboxadmin.ForOrg(in, org)
		if err != nil {
			closeInbox()
			return nil, nil, err
		}
		in = one
	}
	return in, closeInbox, nil
}

// inboxCmd is an inbox command that runs with the inbox open.
func (a *app) inboxCmd(f *inboxFlags, c *cobra.Command, run func(cmd *cobra.Command, in inboxadmin.Inbox, args []string) error) *cobra.Command {
	c.RunE = func(cmd *cobra.Command, args []string) error {
		in, closeInbox, err := a.openInbox(cmd, f)
		if err != nil {
			return err
		}
		defer closeInbox()
		err = run(cmd, in, args)
		if nd, ok := errors.AsType[*inbox.NotDeadLetterError](err); ok {
			return usagef("%s %d: not a dead letter: %s; see \"doubletick inbox dead-letters\"", cmd.CommandPath(), nd.ID, notDeadLetter(nd))
		}
		return err
	}
	return readsEnv(c, envInboxDatabaseURL)
}

func (a *app) inboxStatusCommand(f *inboxFlags) *cobra.Command {
	return a.inboxCmd(f, &cobra.Command{
		Use:   "status",
		Short: "Count the deliveries waiting, running, retrying and dead, and the age of the oldest waiting",
		Args:  args(0, "none"),
	}, func(cmd *cobra.Command, in inboxadmin.Inbox, _ []string) error {
		return inboxadmin.Status(cmd.Context(), in, a.stdout, a.json)
	})
}

func (a *app) inboxDeadLettersCommand(f *inboxFlags) *cobra.Command {
	var limit int
	c := a.inboxCmd(f, &cobra.Command{
		Use:   "dead-letters [--limit N]",
		Short: "List the dead letters, oldest first: event, group, attempts and the last error",
		Args:  args(0, "none"),
		PreRunE: func(*cobra.Command, []string) error { // before the database is opened
			if limit < 1 || limit > 10_000 {
				return usagef("--limit %d: want 1 to 10000", limit)
			}
			return nil
		},
	}, func(cmd *cobra.Command, in inboxadmin.Inbox, _ []string) error {
		return inboxadmin.DeadLetters(cmd.Context(), in, a.stdout, limit, a.json)
	})
	c.Flags().IntVar(&limit, "limit", 100, "list at most this many")
	return c
}

func (a *app) inboxReplayCommand(f *inboxFlags) *cobra.Command {
	var all bool
	c := a.inboxCmd(f, &cobra.Command{
		Use:   "replay (ID | --all)",
		Short: "Queue a dead letter, or all of them, to run again in the app's inbox",
		Args:  cobra.MaximumNArgs(1),
	}, func(cmd *cobra.Command, in inboxadmin.Inbox, args []string) error {
		switch {
		case all && len(args) == 0:
			return inboxadmin.ReplayAll(cmd.Context(), in, a.stdout, a.json)
		case all || len(args) == 0:
			return usagef("give a dead letter's ID, or --all")
		}
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil {
			return usagef("%q is not a dead letter's ID (see \"doubletick inbox dead-letters\")", args[0])
		}
		return inboxadmin.Replay(cmd.Context(), in, a.stdout, id, a.json)
	})
	c.Flags().BoolVar(&all, "all", false, "replay every dead letter")
	return c
}

func (a *app) inboxPurgeCommand(f *inboxFlags) *cobra.Command {
	var olderThan string
	var age time.Duration
	c := a.inboxCmd(f, &cobra.Command{
		Use:   "purge --older-than DURATION",
		Short: "Delete the dead letters that died more than DURATION ago (7d, 36h)",
		Args:  args(0, "none"),
		PreRunE: func(*cobra.Command, []string) (err error) { // before the database is opened
			age, err = parseAge(olderThan)
			return err
		},
	}, func(cmd *cobra.Command, in inboxadmin.Inbox, _ []string) error {
		return inboxadmin.Purge(cmd.Context(), in, a.stdout, age, a.json)
	})
	c.Flags().StringVar(&olderThan, "older-than", "", "how long ago they died: a Go duration (36h) or days (7d); required")
	return c
}

// notDeadLetter says why a delivery is not replayed.
func notDeadLetter(e *inbox.NotDeadLetterError) string {
	switch {
	case e.State == "":
		return "no such delivery"
	case e.Kind != inbox.Kind:
		return "not a webhook delivery of the inbox (a " + printable(e.Kind) + " job)"
	case e.Org != "":
		return "a delivery of another organisation than --org's"
	}
	switch e.State {
	case "completed":
		return "it was handled: a replay would run its callbacks twice"
	case "available", "running", "pending":
		return "it is " + string(e.State) + ": it runs without a replay"
	case "retryable", "scheduled":
		return "it is " + string(e.State) + ": it runs again by itself"
	}
	return "it is " + string(e.State)
}

// parseAge reads a duration of --older-than: days ("7d") or a Go duration.
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, usagef("--older-than is required: a purge deletes for good")
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 100_000 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usagef("--older-than %q: want days (7d) or a duration (36h)", s)
	}
	return d, nil
}
