package main

import (
	"fmt"
	"io"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/spf13/cobra"
)

func (a *app) groupsCommand() *cobra.Command {
	return group("groups", "Create, look up, change, list and delete WhatsApp groups",
		a.groupsCreateCommand(), a.groupsGetCommand(), a.groupsUpdateCommand(), a.groupsListCommand(),
		a.groupsDeleteCommand(), a.groupsAISummaryCommand(), a.groupsImportCommand())
}

func (a *app) groupsCreateCommand() *cobra.Command {
	var req doubletick.CreateGroupRequest
	var mode string
	cmd := &cobra.Command{
		Use:   "create --waba NUMBER --subject TEXT [flags]",
		Short: "Create a WhatsApp group",
		Long: `Create a WhatsApp group. Creation is asynchronous: the group exists once
DoubleTick sends GROUP_CREATED to your webhook; until then a lookup answers
that it is not found. To create many groups, use "groups import".`,
		Example: `  doubletick groups create --waba 911111111111 --subject "VIP support" --group-id vip-support-42 --mode approval_required`,
		Args:    args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			req.JoinApprovalMode = doubletick.JoinApprovalMode(mode)
			c, err := a.client()
			if err != nil {
				return err
			}
			res, _, err := c.Groups.Create(cmd.Context(), &req)
			if err != nil {
				return err
			}
			return a.print(res, func(w io.Writer) {
				fmt.Fprintf(w, "creation initiated\tgroupId %s\twabaNumber %s\n", res.GroupID, res.WABANumber)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.WABANumber, "waba", "", "the WhatsApp Business number: digits with the country code (required)")
	f.StringVar(&req.Subject, "subject", "", "the group's name, at most 128 characters (required)")
	f.StringVar(&req.Description, "description", "", "the group's description, at most 2048 characters")
	f.StringVar(&mode, "mode", "", "join approval: auto_approve or approval_required (default: the integration's)")
	f.StringVar(&req.GroupID, "group-id", "", "your own ID for the group, at most 50 characters (default: DoubleTick makes one)")
	return fieldFlags(readsEnv(cmd, apiEnv...), "groupId=--group-id")
}

func (a *app) groupsGetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get GROUP_ID",
		Short: "Show a group",
		Args:  args(1, "GROUP_ID, the group's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			g, _, err := c.Groups.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(g, func(w io.Writer) {
				fmt.Fprintf(w, "groupId\t%s\nsubject\t%s\ndescription\t%s\nstatus\t%s\nparticipants\t%d\ncreated\t%s\ninvite link\t%s\n",
					g.GroupID, g.Subject, g.Description, g.Status, g.TotalParticipantCount, formatTime(g.CreatedAt), g.InviteLink)
			})
		},
	}
	return fieldFlags(readsEnv(cmd, apiEnv...), "groupId=GROUP_ID")
}

func (a *app) groupsUpdateCommand() *cobra.Command {
	var req doubletick.UpdateGroupRequest
	cmd := &cobra.Command{
		Use:   "update GROUP_ID --waba NUMBER [--subject TEXT] [--description TEXT] [--new-group-id ID]",
		Short: "Change a group's subject, description or groupId",
		Long:  "Change a group's subject, description or groupId. What is not given stays as it is; the join approval mode cannot be changed.",
		Args:  args(1, "GROUP_ID, the group's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if _, err := c.Groups.Update(cmd.Context(), args[0], &req); err != nil {
				return err
			}
			return a.print(map[string]string{"groupId": args[0], "status": "updated"}, func(w io.Writer) {
				fmt.Fprintf(w, "updated %s\n", args[0])
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.WABANumber, "waba", "", "the WhatsApp Business number the group belongs to (required)")
	f.StringVar(&req.Subject, "subject", "", "the new name, at most 128 characters")
	f.StringVar(&req.Description, "description", "", "the new description, at most 2048 characters")
	f.StringVar(&req.NewGroupID, "new-group-id", "", "a new groupId, at most 50 characters")
	return fieldFlags(readsEnv(cmd, apiEnv...), "query.groupId=GROUP_ID", "groupId=--new-group-id")
}

func (a *app) groupsListCommand() *cobra.Command {
	var waba string
	var lf listFlags
	var opts doubletick.ListGroupsOptions
	cmd := &cobra.Command{
		Use:   "list --waba NUMBER [--all | --limit N] [--rate R]",
		Short: "List the groups of a WhatsApp Business number, a page at a time or all",
		Args:  args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lf.check(); err != nil {
				return err
			}
			c, err := a.client(lf.options(doubletick.RouteListGroups)...)
			if err != nil {
				return err
			}
			page := &doubletick.GroupPage{}
			if lf.paging() {
				err = collect(cmd.Context(), a, &lf, "groups", c.Groups.All(cmd.Context(), waba, &opts), nil, &page.Groups)
			} else {
				page, _, err = c.Groups.List(cmd.Context(), waba, &opts)
			}
			if err != nil {
				return err
			}
			return a.print(page, func(w io.Writer) {
				fmt.Fprintln(w, "GROUP ID\tSUBJECT\tPARTICIPANTS\tSTATUS\tCREATED")
				for _, g := range page.Groups {
					fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", g.GroupID, g.Subject, g.TotalParticipantCount, g.Status, formatTime(g.CreatedAt))
				}
				if page.HasMore {
					fmt.Fprintf(w, "(more: --after %s --older-than %s, or --all)\n", page.LastGroupID, page.OlderThan.Format(time.RFC3339Nano))
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&waba, "waba", "", "the WhatsApp Business number (required)")
	lf.add(cmd, "groups")
	f.StringVar(&opts.LastGroupID, "after", "", "the next page's cursor: the lastGroupId of the page before")
	f.Var(timeValue{&opts.OlderThan, time.RFC3339Nano}, "older-than", "only groups created before this time (RFC 3339), the page before's olderThanTimestamp")
	return fieldFlags(readsEnv(cmd, apiEnv...), "lastGroupId=--after", "olderThanTimestamp=--older-than")
}

func (a *app) groupsDeleteCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete GROUP_ID --yes",
		Short: "Delete a group (it cannot be undone)",
		Args:  args(1, "GROUP_ID, the group's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes {
				return usagef("deleting group %q cannot be undone: add --yes", args[0])
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if _, err := c.Groups.Delete(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.print(map[string]string{"groupId": args[0], "status": "deleted"}, func(w io.Writer) {
				fmt.Fprintf(w, "deleted %s\n", args[0])
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the deletion")
	return fieldFlags(readsEnv(cmd, apiEnv...), "groupId=GROUP_ID")
}

func (a *app) groupsAISummaryCommand() *cobra.Command {
	var from, to time.Time
	cmd := &cobra.Command{
		Use:   "ai-summary GROUP_ID --from DATE --to DATE",
		Short: "Summarise a group's conversation over at most 7 days",
		Args:  args(1, "GROUP_ID, the group's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from.IsZero() || to.IsZero() {
				return usagef("--from and --to are required (dates, e.g. 2026-11-01)")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			s, _, err := c.Groups.GetAISummary(cmd.Context(), args[0], &doubletick.GetAISummaryRequest{Start: from, End: to})
			if err != nil {
				return err
			}
			return a.print(s, func(w io.Writer) {
				fmt.Fprintf(w, "group\t%s\nfrom\t%s\nto\t%s\nmessages\t%d\ncalls\t%d\nmembers\t%d\n",
					s.GroupName, formatTime(s.StartDate), formatTime(s.EndDate), s.ChatMessagesCount, s.CallsCount, s.MemberCount)
				for _, m := range s.Members {
					fmt.Fprintf(w, "  member\t%s\t%s\n", m.Name, m.CustomerNumber)
				}
				for _, sum := range s.Summaries {
					fmt.Fprintf(w, "summary\t%s: %s\n", sum.Title, sum.Description)
				}
			})
		},
	}
	cmd.Flags().Var(timeValue{&from, time.DateOnly}, "from", "the first day (YYYY-MM-DD, UTC)")
	cmd.Flags().Var(timeValue{&to, time.DateOnly}, "to", "the last day (YYYY-MM-DD, UTC), at most 6 days after --from")
	return fieldFlags(readsEnv(cmd, apiEnv...), "groupId=GROUP_ID", "startDate=--from", "endDate=--to")
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

// timeValue is a flag holding a time written in layout: time.RFC3339Nano
// (a point in time) or time.DateOnly (a day).
type timeValue struct {
	t      *time.Time
	layout string
}

// String writes the time in the flag's layout.
func (v timeValue) String() string {
	if v.t == nil || v.t.IsZero() {
		return ""
	}
	return v.t.Format(v.layout)
}

// Set reads a time written in the flag's layout.
func (v timeValue) Set(s string) error {
	t, err := time.Parse(v.layout, s)
	if err != nil {
		example := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).Format(v.layout)
		return fmt.Errorf("want a %s like %s, got %q", v.Type(), example, s)
	}
	*v.t = t
	return nil
}

// Type names the flag's kind of value in the help.
func (v timeValue) Type() string {
	if v.layout == time.DateOnly {
		return "date"
	}
	return "time"
}
