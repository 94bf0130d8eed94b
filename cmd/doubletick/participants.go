package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/spf13/cobra"
)

func (a *app) participantsCommand() *cobra.Command {
	return group("participants", "List and remove the members of a group",
		a.participantsListCommand(), a.participantsRemoveCommand())
}

func (a *app) participantsListCommand() *cobra.Command {
	var current bool
	var lf listFlags
	var opts doubletick.ListParticipantsOptions
	cmd := &cobra.Command{
		Use:   "list GROUP_ID [--all | --limit N] [--rate R] [--current]",
		Short: "List a group's present and past members, a page at a time or all",
		Args:  args(1, "GROUP_ID, the group's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := lf.check(); err != nil {
				return err
			}
			c, err := a.client(lf.options(doubletick.RouteListParticipants)...)
			if err != nil {
				return err
			}
			var keep func(*doubletick.Participant) bool
			if current {
				keep = (*doubletick.Participant).IsCurrent
			}
			page := &doubletick.ParticipantPage{}
			if lf.paging() {
				err = collect(cmd.Context(), a, &lf, "participants", c.Participants.All(cmd.Context(), args[0], &opts), keep, &page.Participants)
			} else {
				page, _, err = c.Participants.List(cmd.Context(), args[0], &opts)
			}
			if err != nil {
				return err
			}
			if current && !lf.paging() {
				kept := page.Participants[:0]
				for _, p := range page.Participants {
					if p.IsCurrent() {
						kept = append(kept, p)
					}
				}
				page.Participants = kept
			}
			return a.print(page, func(w io.Writer) {
				fmt.Fprintln(w, "PHONE\tNAME\tJOINED\tLEFT\tREMOVED")
				for _, p := range page.Participants {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.PhoneNumber, p.Name, formatTime(p.DateJoined), formatTime(p.DateLeft), formatTime(p.DateRemoved))
				}
				if page.HasMore {
					fmt.Fprintf(w, "(more: --after %s --older-than %s, or --all)\n", page.LastPhoneNumber, page.OlderThan.Format(time.RFC3339Nano))
				}
			})
		},
	}
	f := cmd.Flags()
	lf.add(cmd, "participants")
	f.BoolVar(&current, "current", false, "only those still in the group")
	f.StringVar(&opts.LastPhoneNumber, "after", "", "the next page's cursor: the lastPhoneNumber of the page before")
	f.Var(timeValue{&opts.OlderThan, time.RFC3339Nano}, "older-than", "only those who joined before this time (RFC 3339), the page before's olderThanTimestamp")
	return fieldFlags(readsEnv(cmd, apiEnv...), "groupId=GROUP_ID")
}

func (a *app) participantsRemoveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remove GROUP_ID PHONE",
		Short: "Remove a member from a group",
		Args:  args(2, "GROUP_ID and the member's PHONE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			res, _, err := c.Participants.Remove(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			return a.print(res, func(w io.Writer) {
				fmt.Fprintf(w, "removal requested\t%s from %s\trequest %s\n", args[1], args[0], res.RequestID)
			})
		},
	}
	return fieldFlags(readsEnv(cmd, apiEnv...), "groupId=GROUP_ID", "participantPhone=PHONE")
}

func (a *app) tagsCommand() *cobra.Command {
	return group("tags", "Assign and remove a group's chat tags and custom fields",
		a.tagsAssignCommand(), a.tagsRemoveCommand())
}

func (a *app) tagsAssignCommand() *cobra.Command {
	var tags, fields []string
	cmd := &cobra.Command{
		Use:   "assign GROUP_ID [--tag NAME]... [--field NAME=VALUE]...",
		Short: "Assign chat tags and custom field values to a group",
		Args:  args(1, "GROUP_ID, the group's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &doubletick.AssignTagsRequest{GroupID: args[0], Tags: tags}
			for _, f := range fields {
				name, value, ok := strings.Cut(f, "=")
				if !ok {
					return usagef("--field %q: want NAME=VALUE", f)
				}
				req.CustomFields = append(req.CustomFields, doubletick.CustomField{Name: name, Value: value})
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			res, _, err := c.Groups.AssignTags(cmd.Context(), req)
			if err != nil {
				return err
			}
			return a.printTags(res)
		},
	}
	cmd.Flags().StringArrayVar(&tags, "tag", nil, "a tag to assign (repeat for more)")
	cmd.Flags().StringArrayVar(&fields, "field", nil, "a custom field to set, NAME=VALUE (repeat for more)")
	return fieldFlags(readsEnv(cmd, apiEnv...), "groupId=GROUP_ID", "tags=--tag", "customFields=--field")
}

func (a *app) tagsRemoveCommand() *cobra.Command {
	var tags, fields []string
	var noLog bool
	cmd := &cobra.Command{
		Use:   "remove GROUP_ID [--tag NAME]... [--field NAME]...",
		Short: "Remove chat tags and clear custom fields of a group",
		Args:  args(1, "GROUP_ID, the group's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &doubletick.RemoveTagsRequest{GroupID: args[0], Tags: tags, CustomFields: fields}
			if noLog {
				no := false
				req.ShouldCreateChatLog = &no
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			res, _, err := c.Groups.RemoveTags(cmd.Context(), req)
			if err != nil {
				return err
			}
			return a.printTags(res)
		},
	}
	cmd.Flags().StringArrayVar(&tags, "tag", nil, "a tag to remove (repeat for more)")
	cmd.Flags().StringArrayVar(&fields, "field", nil, "the name of a custom field to clear (repeat for more)")
	cmd.Flags().BoolVar(&noLog, "no-chat-log", false, "do not write the change into the chat's log")
	return fieldFlags(readsEnv(cmd, apiEnv...), "groupId=GROUP_ID", "tags=--tag", "customFields=--field")
}

func (a *app) printTags(res *doubletick.TagsResult) error {
	return a.print(res, func(w io.Writer) {
		for _, t := range res.Tags.Added {
			fmt.Fprintf(w, "tag\t%s\tadded\n", t)
		}
		for _, t := range res.Tags.Removed {
			fmt.Fprintf(w, "tag\t%s\tremoved\n", t)
		}
		for _, t := range res.Tags.Errored {
			fmt.Fprintf(w, "tag\t%s\tfailed: %s\n", t.Tag, t.Error)
		}
		for _, f := range res.CustomFields.Added {
			fmt.Fprintf(w, "field\t%s\tset\n", f)
		}
		for _, f := range res.CustomFields.Removed {
			fmt.Fprintf(w, "field\t%s\tcleared\n", f)
		}
		for _, f := range res.CustomFields.Errored {
			fmt.Fprintf(w, "field\t%s\tfailed: %s\n", f.CustomField, f.Error)
		}
	})
}
