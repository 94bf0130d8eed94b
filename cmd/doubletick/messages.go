package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/doubletick-go/doubletick"
	"github.com/spf13/cobra"
)

func (a *app) messagesCommand() *cobra.Command {
	return group("messages", "Send messages to groups or phones, upload media, and read a message's status",
		a.sendCommand("text", "Send a text message", func(ctx context.Context, c *doubletick.Client, f *sendFlags) (*doubletick.SendResult, error) {
			res, _, err := c.Messages.SendText(ctx, &doubletick.TextMessage{Target: f.target, Text: f.text})
			return res, err
		}),
		a.mediaCommand("image", (*doubletick.MessagesService).SendImage),
		a.mediaCommand("video", (*doubletick.MessagesService).SendVideo),
		a.mediaCommand("audio", (*doubletick.MessagesService).SendAudio),
		a.sendCommand("document", "Send a document from its URL",
			func(ctx context.Context, c *doubletick.Client, f *sendFlags) (*doubletick.SendResult, error) {
				res, _, err := c.Messages.SendDocument(ctx, &doubletick.DocumentMessage{
					MediaMessage: doubletick.MediaMessage{Target: f.target, MediaURL: f.url, Caption: f.caption}, Filename: f.filename})
				return res, err
			}),
		a.sendCommand("location", "Send a location",
			func(ctx context.Context, c *doubletick.Client, f *sendFlags) (*doubletick.SendResult, error) {
				res, _, err := c.Messages.SendLocation(ctx, &doubletick.LocationMessage{Target: f.target,
					Latitude: f.latitude, Longitude: f.longitude, Name: f.name, Address: f.address})
				return res, err
			}),
		a.templateCommand(), a.statusCommand(), a.uploadCommand())
}

// sendFlags are the flags of the send commands; each command registers
// those it uses.
type sendFlags struct {
	target                       doubletick.Target
	text, url, caption, filename string
	name, address                string
	latitude, longitude          float64
}

type sendFunc func(context.Context, *doubletick.Client, *sendFlags) (*doubletick.SendResult, error)

// sendCommand builds the send command of a kind of message.
func (a *app) sendCommand(kind, short string, send sendFunc) *cobra.Command {
	var f sendFlags
	cmd := &cobra.Command{
		Use:   kind + " (--group GROUP_ID | --to PHONE) [flags]",
		Short: short,
		Long: short + `. A send is not retried once it may have reached DoubleTick; it carries a
messageId (generated unless --message-id is given) that "messages status"
looks up before you decide to send again.`,
		Args: args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			res, err := send(cmd.Context(), c, &f)
			if err != nil {
				return err
			}
			return a.print(res, func(w io.Writer) {
				fmt.Fprintf(w, "sent\tmessageId %s\tstatus %s\trecipient %s\n", res.MessageID, res.Status, res.Recipient)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target.GroupID, "group", "", "the ID of the group to send to")
	fl.StringVar(&f.target.To, "to", "", "the phone number to send to, with the country code")
	fl.StringVar(&f.target.From, "from", "", "the WhatsApp Business number to send from (default: DoubleTick chooses)")
	fl.StringVar(&f.target.MessageID, "message-id", "", "the message's ID, a UUID v4 (default: a new one)")
	switch kind {
	case "text":
		fl.StringVar(&f.text, "text", "", "the text (required)")
	case "location":
		fl.Float64Var(&f.latitude, "lat", 0, "the latitude (required)")
		fl.Float64Var(&f.longitude, "lng", 0, "the longitude (required)")
		fl.StringVar(&f.name, "name", "", "the place's name")
		fl.StringVar(&f.address, "address", "", "the place's address")
	default:
		fl.StringVar(&f.url, "url", "", "the media's public URL, e.g. from \"messages upload\" (required)")
		fl.StringVar(&f.caption, "caption", "", "a caption, at most 3000 characters")
		if kind == "document" {
			fl.StringVar(&f.filename, "filename", "", "the name the document is shown with")
		}
	}
	return fieldFlags(readsEnv(cmd, apiEnv...), "groupId=--group", "to=--to", "from=--from", "messageId=--message-id", "content.text=--text", "content.mediaUrl=--url", "content.caption=--caption", "content.latitude=--lat", "content.longitude=--lng")
}

func (a *app) mediaCommand(kind string, send func(*doubletick.MessagesService, context.Context, *doubletick.MediaMessage) (*doubletick.SendResult, *doubletick.Response, error)) *cobra.Command {
	return a.sendCommand(kind, "Send "+map[string]string{"image": "an image", "video": "a video", "audio": "an audio file"}[kind]+" from its URL",
		func(ctx context.Context, c *doubletick.Client, f *sendFlags) (*doubletick.SendResult, error) {
			res, _, err := send(c.Messages, ctx, &doubletick.MediaMessage{Target: f.target, MediaURL: f.url, Caption: f.caption})
			return res, err
		})
}

func (a *app) templateCommand() *cobra.Command {
	var file string
	var v2, bypass bool
	cmd := &cobra.Command{
		Use:   "template --file MESSAGES.json [--v2]",
		Short: "Send template messages described in a JSON file",
		Long: `Send template messages: the file holds a JSON array of messages, each as the
SDK's TemplateMessage encodes it ({"groupId" or "to", "from", "messageId",
"content": {"templateName", "language", "templateData"}, "customData"}), or
with --v2 as TemplateMessageV2 does (no messageId: the answer gives one).`,
		Args: args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("--file is required")
			}
			b, err := os.ReadFile(file)
			if err != nil {
				return usageError{err}
			}
			var msgs []doubletick.TemplateMessage
			var msgsV2 []doubletick.TemplateMessageV2
			if v2 {
				err = json.Unmarshal(b, &msgsV2)
			} else {
				err = json.Unmarshal(b, &msgs)
			}
			if err != nil {
				return usagef("%s: not a JSON array of template messages: %w", file, err)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var sent []doubletick.SendResult
			var res any
			if v2 {
				var r *doubletick.TemplateResultV2
				if r, _, err = c.Messages.SendTemplateV2(cmd.Context(), &doubletick.SendTemplateV2Request{Messages: msgsV2, ByPassMediaURLValidation: bypass}); err != nil {
					return err
				}
				for _, m := range r.Messages {
					status := m.Status
					if m.ErrorMessage != "" {
						status += ": " + m.ErrorMessage
					}
					sent = append(sent, doubletick.SendResult{MessageID: m.MessageID, Status: status, Recipient: m.Recipient})
				}
				res = r
			} else {
				if sent, _, err = c.Messages.SendTemplate(cmd.Context(), &doubletick.SendTemplateRequest{Messages: msgs}); err != nil {
					return err
				}
				res = sent
			}
			return a.print(res, func(w io.Writer) {
				fmt.Fprintln(w, "MESSAGE ID\tSTATUS\tRECIPIENT")
				for _, r := range sent {
					fmt.Fprintf(w, "%s\t%s\t%s\n", r.MessageID, r.Status, r.Recipient)
				}
			})
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "the JSON file of messages (required)")
	cmd.Flags().BoolVar(&v2, "v2", false, "send with the v2 template endpoint")
	cmd.Flags().BoolVar(&bypass, "bypass-media-url-validation", false, "v2: let DoubleTick skip checking media URLs")
	return fieldFlags(readsEnv(cmd, apiEnv...), "messages=--file")
}

func (a *app) statusCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status MESSAGE_ID",
		Short: "Show a message's delivery status",
		Args:  args(1, "MESSAGE_ID, the message's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			s, _, err := c.Messages.GetStatus(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(s, func(w io.Writer) {
				fmt.Fprintf(w, "messageId\t%s\nsent\t%s\ndelivered\t%s\nread\t%s\nreplied\t%s\nfailed\t%s\n",
					s.MessageID, formatTime(s.SentAt), formatTime(s.DeliveredAt), formatTime(s.ReadAt), formatTime(s.RepliedAt), formatTime(s.FailedAt))
				if s.FailedReason != "" || s.ErrorCode != "" {
					fmt.Fprintf(w, "reason\t%s (code %s)\n", s.FailedReason, s.ErrorCode)
				}
			})
		},
	}
	return fieldFlags(readsEnv(cmd, apiEnv...), "messageId=MESSAGE_ID")
}

func (a *app) uploadCommand() *cobra.Command {
	var contentType string
	cmd := &cobra.Command{
		Use:   "upload FILE [--content-type TYPE]",
		Short: "Upload a file and print its URL, for a media send",
		Args:  args(1, "the file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return usageError{err}
			}
			defer f.Close()
			info, err := f.Stat()
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			res, _, err := c.Messages.UploadMedia(cmd.Context(), &doubletick.MediaFile{
				Name: filepath.Base(args[0]), ContentType: contentType, Size: info.Size(), Body: f})
			if err != nil {
				return err
			}
			return a.print(res, func(w io.Writer) {
				fmt.Fprintf(w, "url\t%s\nexpires in\t%ds\n", res.MediaURL, res.ExpiresIn)
			})
		},
	}
	cmd.Flags().StringVar(&contentType, "content-type", "", "the file's MIME type (default: from its extension)")
	return fieldFlags(readsEnv(cmd, apiEnv...), "file.name=FILE", "file.size=FILE", "file.body=FILE")
}
