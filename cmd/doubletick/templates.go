package main

import (
	"fmt"
	"io"

	"github.com/doubletick-go/doubletick"
	"github.com/spf13/cobra"
)

func (a *app) templatesCommand() *cobra.Command {
	return group("templates", "List message templates: is one approved, in its language, on a number?",
		a.templatesListCommand())
}

func (a *app) templatesListCommand() *cobra.Command {
	var opts doubletick.ListTemplatesOptions
	cmd := &cobra.Command{
		Use:   "list [--waba NUMBER]... [--status S] [--name N] [--language L] [--category C]",
		Short: "List message templates with their status (DoubleTick lists English ones unless --language says otherwise)",
		Long: `List message templates with their status. A template send to a group fails
unless the template is APPROVED in that language on the group's number: check
here first. DoubleTick lists English templates unless --language names
another language.`,
		Example: `  doubletick templates list --waba 911111111111 --status APPROVED
  doubletick templates list --name welcome --language en_US --json`,
		Args: args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			list, _, err := c.Templates.List(cmd.Context(), &opts)
			if err != nil {
				return err
			}
			return a.print(list, func(w io.Writer) {
				fmt.Fprintln(w, "NAME\tLANGUAGE\tSTATUS\tCATEGORY\tWABA NUMBER\tID\tREJECTED BECAUSE")
				for _, t := range list {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", printable(t.Name), printable(t.Language), printable(t.Status),
						printable(t.Category), printable(t.WABAPhoneNumber), printable(string(t.ID)), printable(t.RejectedReason))
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.WABANumbers, "waba", nil, "only this number's templates (repeat for several)")
	f.StringVar(&opts.Status, "status", "", "APPROVED, REJECTED, PENDING, PAUSED or ALL")
	f.StringVar(&opts.Name, "name", "", "only templates of this name")
	f.StringVar(&opts.Language, "language", "", "a language code: en, en_US, hi, … (DoubleTick's default: en)")
	f.StringVar(&opts.Category, "category", "", "MARKETING or UTILITY")
	return fieldFlags(readsEnv(cmd, apiEnv...), "wabaPhoneNumbers=--waba", "status=--status", "name=--name",
		"language=--language", "category=--category")
}
