package main

import (
	"fmt"
	"io"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/spf13/cobra"
)

// chatFlags name a chat: a group, or a customer's 1:1 chat on a number.
type chatFlags struct {
	group, customer, waba string
}

func (f *chatFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.group, "group", "", "the group's groupId")
	fl.StringVar(&f.customer, "customer", "", "or a customer's phone, with the country code (their 1:1 chat)")
	fl.StringVar(&f.waba, "waba", "", "with --customer: the WhatsApp Business number of the chat")
}

func (f *chatFlags) noteChat() doubletick.NoteChat {
	return doubletick.NoteChat{GroupID: f.group, From: f.waba, To: f.customer}
}

func (f *chatFlags) chatRef() doubletick.ChatRef {
	return doubletick.ChatRef{GroupID: f.group, CustomerPhoneNumber: f.customer, WABANumber: f.waba}
}

func (a *app) notesCommand() *cobra.Command {
	return group("notes", "Keep CRM notes on a group's chat or a customer's",
		a.notesAddCommand(), a.notesListCommand(), a.notesGetCommand(), a.notesUpdateCommand(), a.notesDeleteCommand())
}

func printNote(w io.Writer, n *doubletick.Note) {
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", printable(n.ID), formatTime(n.DateUpdated), printable(n.UpdatedBy), printable(n.Note))
}

// The fields of the notes requests, and the flags that set them.
var noteFields = []string{"groupId=--group", "from=--waba", "to=--customer", "note=--text", "id=NOTE_ID"}

func (a *app) notesAddCommand() *cobra.Command {
	var chat chatFlags
	var text string
	cmd := &cobra.Command{
		Use:     "add (--group GROUP_ID | --customer PHONE --waba NUMBER) --text TEXT",
		Short:   "Add a note to a chat",
		Example: `  doubletick notes add --group vip-support-42 --text "Renewal due in March"`,
		Args:    args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			n, _, err := c.Notes.Create(cmd.Context(), &doubletick.CreateNoteRequest{NoteChat: chat.noteChat(), Note: text})
			if err != nil {
				return err
			}
			return a.print(n, func(w io.Writer) { printNote(w, n) })
		},
	}
	chat.add(cmd)
	cmd.Flags().StringVar(&text, "text", "", "the note (required)")
	return fieldFlags(readsEnv(cmd, apiEnv...), noteFields...)
}

func (a *app) notesListCommand() *cobra.Command {
	var chat chatFlags
	var lf listFlags
	cmd := &cobra.Command{
		Use:   "list (--group GROUP_ID | --customer PHONE --waba NUMBER) [--all | --limit N]",
		Short: "List a chat's notes, newest first",
		Args:  args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lf.check(); err != nil {
				return err
			}
			c, err := a.client(lf.options(doubletick.RouteListNotes)...)
			if err != nil {
				return err
			}
			req := &doubletick.ListNotesRequest{NoteChat: chat.noteChat()}
			var notes []doubletick.Note
			if lf.paging() {
				err = collect(cmd.Context(), a, &lf, "notes", c.Notes.All(cmd.Context(), req), nil, &notes)
			} else {
				var page *doubletick.NotePage
				if page, _, err = c.Notes.List(cmd.Context(), req); err == nil {
					notes = page.Notes
				}
			}
			if err != nil {
				return err
			}
			return a.print(notes, func(w io.Writer) {
				fmt.Fprintln(w, "NOTE ID\tUPDATED\tBY\tNOTE")
				for i := range notes {
					printNote(w, &notes[i])
				}
			})
		},
	}
	chat.add(cmd)
	lf.add(cmd, "notes")
	return fieldFlags(readsEnv(cmd, apiEnv...), noteFields...)
}

func (a *app) notesGetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get NOTE_ID",
		Short: "Show a note",
		Args:  args(1, "the note's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			n, _, err := c.Notes.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(n, func(w io.Writer) { printNote(w, n) })
		},
	}
	return fieldFlags(readsEnv(cmd, apiEnv...), noteFields...)
}

func (a *app) notesUpdateCommand() *cobra.Command {
	var text string
	cmd := &cobra.Command{
		Use:   "update NOTE_ID --text TEXT",
		Short: "Replace a note's text",
		Args:  args(1, "the note's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			n, _, err := c.Notes.Update(cmd.Context(), args[0], &doubletick.UpdateNoteRequest{Note: text})
			if err != nil {
				return err
			}
			return a.print(n, func(w io.Writer) { printNote(w, n) })
		},
	}
	cmd.Flags().StringVar(&text, "text", "", "the new text (required)")
	return fieldFlags(readsEnv(cmd, apiEnv...), noteFields...)
}

func (a *app) notesDeleteCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete NOTE_ID",
		Short: "Delete a note",
		Args:  args(1, "the note's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if _, err := c.Notes.Delete(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "note %s deleted\n", printable(args[0])) })
		},
	}
	return fieldFlags(readsEnv(cmd, apiEnv...), noteFields...)
}

func (a *app) chatsCommand() *cobra.Command {
	return group("chats", "Assign chats to team members, and list the inbox's chats",
		a.chatsAssignCommand(), a.chatsUnassignCommand(), a.chatsListCommand())
}

// The fields of the chat requests, and the flags that set them.
var chatFields = []string{"groupId=--group", "customerPhoneNumber=--customer", "wabaNumber=--waba", "assignedUserPhoneNumber=--agent",
	"status=--status", "assignedUserPhone=--agent", "wabaNumbers=--waba"}

func (a *app) chatsAssignCommand() *cobra.Command {
	var chat chatFlags
	var req doubletick.AssignChatRequest
	cmd := &cobra.Command{
		Use:     "assign (--group GROUP_ID | --customer PHONE [--waba NUMBER]) --agent PHONE [--reassign]",
		Short:   "Give a chat to a team member (see \"doubletick team list\" for their phones)",
		Example: `  doubletick chats assign --group vip-support-42 --agent 919000000002`,
		Args:    args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			req.ChatRef = chat.chatRef()
			if _, _, err := c.Chats.Assign(cmd.Context(), &req); err != nil {
				return err
			}
			return a.print(map[string]string{"assignedTo": req.AssignedUserPhoneNumber}, func(w io.Writer) {
				fmt.Fprintf(w, "assigned to %s\n", printable(req.AssignedUserPhoneNumber))
			})
		},
	}
	chat.add(cmd)
	cmd.Flags().StringVar(&req.AssignedUserPhoneNumber, "agent", "", "the team member's phone, with the country code (required)")
	cmd.Flags().BoolVar(&req.Reassign, "reassign", false, "assign even when someone has the chat")
	return fieldFlags(readsEnv(cmd, apiEnv...), chatFields...)
}

func (a *app) chatsUnassignCommand() *cobra.Command {
	var chat chatFlags
	cmd := &cobra.Command{
		Use:   "unassign (--group GROUP_ID | --customer PHONE [--waba NUMBER])",
		Short: "Take a chat from whoever has it",
		Args:  args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if _, err := c.Chats.RemoveAssignment(cmd.Context(), &doubletick.RemoveChatAssignmentRequest{ChatRef: chat.chatRef()}); err != nil {
				return err
			}
			return a.print(map[string]bool{"unassigned": true}, func(w io.Writer) { fmt.Fprintln(w, "unassigned") })
		},
	}
	chat.add(cmd)
	return fieldFlags(readsEnv(cmd, apiEnv...), chatFields...)
}

func (a *app) chatsListCommand() *cobra.Command {
	var opts doubletick.ListChatsOptions
	var lf listFlags
	cmd := &cobra.Command{
		Use:   "list [--agent PHONE | --unassigned] [--waba NUMBER]... [--status S] [--all | --limit N]",
		Short: "List the inbox's chats, groups among them, with who has each",
		Args:  args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lf.check(); err != nil {
				return err
			}
			c, err := a.client(lf.options(doubletick.RouteListChats)...)
			if err != nil {
				return err
			}
			var chats []doubletick.Chat
			if lf.paging() {
				err = collect(cmd.Context(), a, &lf, "chats", c.Chats.All(cmd.Context(), &opts), nil, &chats)
			} else {
				var page *doubletick.ChatPage
				if page, _, err = c.Chats.List(cmd.Context(), &opts); err == nil {
					chats = page.Chats
				}
			}
			if err != nil {
				return err
			}
			return a.print(chats, func(w io.Writer) {
				fmt.Fprintln(w, "TYPE\tNAME\tWABA NUMBER\tASSIGNED TO\tTAGS\tUPDATED")
				for _, ch := range chats {
					assigned := ch.AssignedUserName
					if assigned == "" {
						assigned = "-"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", printable(ch.ChatType), printable(ch.Name), printable(ch.WABANumber),
						printable(assigned), len(ch.TagNames), formatTime(time.UnixMilli(ch.ChatUpdatedTime)))
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.AssignedUserPhone, "agent", "", "only the chats of this team member (phone)")
	f.BoolVar(&opts.Unassigned, "unassigned", false, "only the chats no one has")
	f.StringArrayVar(&opts.WABANumbers, "waba", nil, "only the chats of this number (repeat for several)")
	f.StringVar(&opts.Status, "status", "", "all, unread, unresolved, done, waiting_for_response, open or open_cart")
	lf.add(cmd, "chats")
	return fieldFlags(readsEnv(cmd, apiEnv...), chatFields...)
}
