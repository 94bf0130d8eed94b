package main

// Shell completion of flag values where the values are known: event
// types, body formats, methods, auth kinds, and the WABA numbers of the
// key's channels when the API answers.

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// completion is how a flag's values are completed.
type completion = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// fixedCompletion completes a flag with values.
func fixedCompletion(values ...string) completion {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// typeNames are types as completion offers them.
func typeNames(types []webhooks.Type) []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = string(t)
	}
	return out
}

// completeFlagValues registers, on every command under root, the
// completion of each flag whose values are known, unless the command has
// registered its own.
func (a *app) completeFlagValues(root *cobra.Command) {
	known := map[string]completion{
		"event":           fixedCompletion(typeNames(webhooks.RegistrationTypes())...),
		"receiver-event":  fixedCompletion(typeNames(append(webhooks.RegistrationTypes(), webhooks.TypeConversationCostDeducted, webhooks.TypeSLAEscalated))...),
		"format":          fixedCompletion("json", "form-data"),
		"receiver-format": fixedCompletion("json", "form-data"),
		"auth":            fixedCompletion("bearer", "basic", "header", "query", "hmac", "standard"),
		"auth-type":       fixedCompletion("bearer", "basic"),
		"receiver-auth":   fixedCompletion("bearer", "basic"),
		"encoding":        fixedCompletion("hex", "base64"),
		"mode":            fixedCompletion(string(doubletick.JoinAutoApprove), string(doubletick.JoinApprovalRequired)),
		"method":          fixedCompletion(doubletick.WebhookMethods()...),
		"methods":         fixedCompletion(doubletick.WebhookMethods()...),
		"waba":            a.completeWABA,
	}
	for _, cmd := range commandTree(root) {
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if complete, ok := known[f.Name]; ok {
				if _, taken := cmd.GetFlagCompletionFunc(f.Name); !taken {
					_ = cmd.RegisterFlagCompletionFunc(f.Name, complete)
				}
			}
		})
	}
	if trigger, _, err := root.Find([]string{"trigger"}); err == nil && trigger.Name() == "trigger" {
		trigger.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return typeNames(webhookstest.PayloadTypes()), cobra.ShellCompDirectiveNoFileComp
		}
	}
}

// commandTree is root and every command under it.
func commandTree(root *cobra.Command) []*cobra.Command {
	all := []*cobra.Command{root}
	for _, c := range root.Commands() {
		all = append(all, commandTree(c)...)
	}
	return all
}

// completeWABA offers the WABA numbers of the key's channels, when the API
// answers within a few seconds; nothing otherwise (completion must not
// hang a shell, nor print an error into it).
func (a *app) completeWABA(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	a.completing = true
	c, err := a.client(doubletick.WithMaxAttempts(1))
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Second)
	defer cancel()
	list, _, err := c.Channels.List(ctx, nil)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var numbers []string
	for _, ch := range list.Channels {
		if ch.WABANumber != "" {
			numbers = append(numbers, ch.WABANumber+"\t"+printable(ch.DisplayName))
		}
	}
	return numbers, cobra.ShellCompDirectiveNoFileComp
}
