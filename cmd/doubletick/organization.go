package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/doubletick-go/doubletick"
	"github.com/spf13/cobra"
)

func (a *app) channelsCommand() *cobra.Command {
	return group("channels", "List the API key's WhatsApp numbers (the --waba of every other command)",
		a.channelsListCommand())
}

func (a *app) channelsListCommand() *cobra.Command {
	var numbers []string
	cmd := &cobra.Command{
		Use:   "list [--waba NUMBER]...",
		Short: "List the WhatsApp numbers connected to the API key, with their channel IDs",
		Long: `List the WhatsApp numbers (channels) connected to the API key's organization:
the WABA number every group and send command takes as --waba, and the channel
ID. It changes nothing, so it is also the way to check an API key.`,
		Example: `  doubletick channels list
  doubletick channels list --waba 911111111111 --json`,
		Args: args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			list, _, err := c.Channels.List(cmd.Context(), &doubletick.ListChannelsOptions{WABANumbers: numbers})
			if err != nil {
				return err
			}
			return a.print(list, func(w io.Writer) {
				fmt.Fprintln(w, "WABA NUMBER\tNAME\tSTATUS\tCHANNEL ID")
				for _, ch := range list.Channels {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", printable(ch.WABANumber), printable(ch.DisplayName), printable(ch.Status), printable(ch.ChannelID))
				}
			})
		},
	}
	cmd.Flags().StringArrayVar(&numbers, "waba", nil, "only this number (repeat for several, at most 50)")
	return fieldFlags(readsEnv(cmd, apiEnv...), "wabaNumber=--waba")
}

func (a *app) teamCommand() *cobra.Command {
	return group("team", "List the organization's agents and roles (the agent numbers assign calls take)",
		a.teamListCommand(), a.teamGetCommand(), a.teamRolesCommand())
}

func (a *app) teamListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the organization's team members",
		Args:  args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			team, _, err := c.Team.List(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(team, func(w io.Writer) {
				fmt.Fprintln(w, "PHONE\tNAME\tEMAIL\tROLE\tID")
				for _, m := range team {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", printable(m.Phone), printable(m.Name), printable(m.Email), printable(m.OrgRoleName), printable(m.ID))
				}
			})
		},
	}
	return readsEnv(cmd, apiEnv...)
}

func (a *app) teamGetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get AGENT_NUMBER",
		Short: "Show a team member and their role on each WhatsApp number",
		Args:  args(1, "the agent's phone number"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			m, _, err := c.Team.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(m, func(w io.Writer) {
				fmt.Fprintf(w, "name\t%s\nphone\t%s\nemail\t%s\nrole\t%s\nid\t%s\n", printable(m.Name), printable(m.Phone),
					printable(m.Email), printable(m.OrgRoleName), printable(m.ID))
				for _, r := range m.WABARoles {
					fmt.Fprintf(w, "role on %s\t%s\n", printable(r.WABANumber), printable(r.RoleName))
				}
			})
		},
	}
	return fieldFlags(readsEnv(cmd, apiEnv...), "agentNumber=AGENT_NUMBER")
}

func (a *app) teamRolesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "roles",
		Short: "List the organization's roles",
		Args:  args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			roles, _, err := c.Team.ListRoles(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(roles, func(w io.Writer) {
				fmt.Fprintln(w, "NAME\tTYPE\tPERMISSIONS\tID")
				for _, r := range roles {
					names := make([]string, len(r.Permissions))
					for i, p := range r.Permissions {
						names[i] = p.Name
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", printable(r.Name), printable(r.Type), printable(strings.Join(names, ",")), printable(r.ID))
				}
			})
		},
	}
	return readsEnv(cmd, apiEnv...)
}

func (a *app) walletCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wallet",
		Short: "Show the organization's wallet balance (paid sends draw on it)",
		Args:  args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			b, _, err := c.Wallet.Get(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(b, func(w io.Writer) {
				fmt.Fprintf(w, "%.2f %s\n", b.Balance, printable(b.CurrencyCode))
			})
		},
	}
	return readsEnv(cmd, apiEnv...)
}
