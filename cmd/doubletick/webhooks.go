package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
	"github.com/spf13/cobra"
)

func (a *app) webhooksCommand() *cobra.Command {
	return group("webhooks", "Register, change, list and deregister webhook subscriptions",
		a.webhookRegisterCommand(false), a.webhookRegisterCommand(true), a.webhooksListCommand(), a.webhooksDeregisterCommand())
}

// registrationFlags are the flags of a webhook registration.
type registrationFlags struct {
	reg              doubletick.WebhookRegistration
	events           []string
	format, authType string
	headers, query   []string
	// authHeader and authQuery name a header and a query parameter that
	// carry the webhook secret from the environment.
	authHeader, authQuery string
}

// registration builds the registration; its authorization's credential
// comes from the environment.
func (a *app) registration(f *registrationFlags) (*doubletick.WebhookRegistration, error) {
	reg := f.reg
	for _, e := range f.events {
		reg.Events = append(reg.Events, webhooks.Type(e))
	}
	format, err := bodyFormat(f.format)
	if err != nil {
		return nil, err
	}
	reg.BodyFormat = format
	if reg.Headers, err = pairs("--header", f.headers); err != nil {
		return nil, err
	}
	if reg.Query, err = pairs("--query", f.query); err != nil {
		return nil, err
	}
	if f.authType == "" && f.authHeader == "" && f.authQuery == "" {
		return &reg, nil
	}
	secret, err := a.secret(envWebhookSecret, envWebhookSecretFile)
	if err != nil {
		return nil, err
	}
	if strings.Contains(secret, ",") {
		return nil, usagef("%s holds several secrets: a webhook is registered with one", envWebhookSecret)
	}
	if f.authType != "" {
		reg.Authorization = &webhooks.Authorization{Type: strings.ToUpper(f.authType), Payload: secret}
	}
	if reg.Headers, err = withSecret(reg.Headers, "--auth-header", "--header", f.authHeader, secret); err != nil {
		return nil, err
	}
	if reg.Query, err = withSecret(reg.Query, "--auth-query", "--query", f.authQuery, secret); err != nil {
		return nil, err
	}
	return &reg, nil
}

// withSecret adds name=secret to values, when a name is given (by the flag
// flag); a value the flag other gave it already is a usage error.
func withSecret(values map[string]string, flag, other, name, secret string) (map[string]string, error) {
	if name == "" {
		return values, nil
	}
	if _, ok := values[name]; ok {
		return nil, usagef("%s %s: %s also gives %s a value", flag, name, other, name)
	}
	if values == nil {
		values = map[string]string{}
	}
	values[name] = secret
	return values, nil
}

func (a *app) webhookRegisterCommand(update bool) *cobra.Command {
	var f registrationFlags
	cmd := &cobra.Command{
		Use:   "register --name NAME --url URL --waba NUMBER --event EVENT [flags]",
		Short: "Register a webhook",
		Long: `Register a webhook: DoubleTick then delivers the named events of the named
numbers to the URL. With --auth-type, every delivery carries the secret from
the environment in its Authorization header; "doubletick listen --auth" with
the same type and secret checks it. --auth-header NAME and --auth-query NAME
send that secret in a header or query parameter instead ("listen --auth
header|query --name NAME" checks it): no flag takes a secret's value, and
--header and --query are for values that are not secret. Group events (GROUP_CREATED and the
participant events) are configured in DoubleTick's dashboard, not here.`,
		Args: args(0, "none"),
	}
	if update {
		cmd.Use = "update WEBHOOK_ID --name NAME --url URL --waba NUMBER --event EVENT [flags]"
		cmd.Short = "Replace a webhook's registration"
		cmd.Long = `Replace a webhook's registration with the one the flags describe. DoubleTick's
edit guide requires the authorization: give --auth-type.`
		cmd.Args = args(1, "WEBHOOK_ID, the webhook's ID")
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		reg, err := a.registration(&f)
		if err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		var res *doubletick.RegisterWebhookResult
		if update {
			res, _, err = c.Webhooks.Update(cmd.Context(), args[0], reg)
		} else {
			res, _, err = c.Webhooks.Register(cmd.Context(), reg)
		}
		var nothing *doubletick.RegistrationError
		if errors.As(err, &nothing) {
			// What was refused is printed, then the error says why (exit 1):
			// a webhook that receives nothing is not a success.
			res = nothing.Result
		} else if err != nil {
			return err
		}
		if perr := a.print(res, func(w io.Writer) {
			fmt.Fprintln(w, "NUMBER\tEVENT\tREGISTERED")
			for _, v := range res.ValidWebhooks {
				fmt.Fprintf(w, "%s\t%s\tyes\n", v.WABANumber, v.WebhookEventType)
			}
			for _, v := range res.InvalidWebhooks {
				fmt.Fprintf(w, "%s\t%s\tno\n", v.WABANumber, v.WebhookEventType)
			}
			for _, n := range res.InvalidWABANumbers {
				fmt.Fprintf(w, "%s\t-\tno: not a number of this account\n", n)
			}
		}); perr != nil {
			return perr
		}
		if err == nil {
			a.noteUntyped(reg.URL, res)
		}
		return err
	}
	fl := cmd.Flags()
	fl.StringVar(&f.reg.Name, "name", "", "the webhook's name (required)")
	fl.StringVar(&f.reg.URL, "url", "", "where deliveries go: https, or http to a loopback host (required)")
	fl.StringVar(&f.reg.Method, "method", "", "the delivery method: "+strings.Join(doubletick.WebhookMethods(), ", ")+" (default POST)")
	fl.StringArrayVar(&f.events, "event", nil, "an event to deliver, e.g. MESSAGE_RECEIVED (repeat for more)")
	fl.StringArrayVar(&f.reg.WABANumbers, "waba", nil, "a WhatsApp Business number whose events are delivered (repeat for more)")
	fl.StringVar(&f.format, "format", "json", "the body format: json or form-data")
	fl.StringVar(&f.authType, "auth-type", "", "bearer or basic: send the secret from the environment in Authorization")
	fl.StringArrayVar(&f.headers, "header", nil, "a header sent with every delivery, NAME=VALUE (repeat for more; not for secrets)")
	fl.StringArrayVar(&f.query, "query", nil, "a query parameter sent with every delivery, NAME=VALUE (repeat for more; not for secrets)")
	fl.StringVar(&f.authHeader, "auth-header", "", "send the secret from the environment in this header with every delivery")
	fl.StringVar(&f.authQuery, "auth-query", "", "send the secret from the environment in this query parameter with every delivery")
	fl.BoolVar(&f.reg.RetryOnTimeout, "retry-on-timeout", false, "ask DoubleTick to retry a delivery that timed out (its only documented retry)")
	return fieldFlags(readsEnv(cmd, slices.Concat(apiEnv, webhookEnv)...), "url=--url", "name=--name", "method=--method", "webhookEvents=--event", "wabaNumbers=--waba", "bodyFormat=--format", "authorization.type=--auth-type", "authorization.payload=$DOUBLETICK_WEBHOOK_SECRET")
}

func (a *app) webhooksListCommand() *cobra.Command {
	var opts doubletick.ListWebhooksOptions
	cmd := &cobra.Command{
		Use:   "list [--sort-by FIELD] [--sort-direction ASC|DESC]",
		Short: "List the registered webhooks",
		Args:  args(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			list, _, err := c.Webhooks.List(cmd.Context(), &opts)
			if err != nil {
				return err
			}
			return a.print(list, func(w io.Writer) {
				fmt.Fprintln(w, "WEBHOOK ID\tNAME\tURL\tEVENTS\tNUMBERS")
				for _, h := range list {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", h.WebhookID, h.Name, h.URL, joinTypes(h.EventTypes), strings.Join(h.WABANumbers, ","))
				}
			})
		},
	}
	cmd.Flags().StringVar(&opts.SortBy, "sort-by", "", "name (default), url, createdBy or integrationCount")
	cmd.Flags().StringVar(&opts.SortDirection, "sort-direction", "", "ASC (default) or DESC")
	return fieldFlags(readsEnv(cmd, apiEnv...), "sortBy=--sort-by", "sortDirection=--sort-direction")
}

func (a *app) webhooksDeregisterCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deregister WEBHOOK_ID",
		Short: "Deregister a webhook",
		Args:  args(1, "WEBHOOK_ID, the webhook's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if _, err := c.Webhooks.Deregister(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.print(map[string]string{"webhookId": args[0], "status": "deregistered"}, func(w io.Writer) {
				fmt.Fprintf(w, "deregistered %s\n", args[0])
			})
		},
	}
	return fieldFlags(readsEnv(cmd, apiEnv...), "webhookId=WEBHOOK_ID")
}

// bodyFormat reads a --format flag.
func bodyFormat(s string) (webhooks.BodyFormat, error) {
	switch strings.ToLower(s) {
	case "json", "":
		return webhooks.BodyJSON, nil
	case "form-data", "form_data", "form":
		return webhooks.BodyFormData, nil
	}
	return "", usagef("--format %q: want json or form-data", s)
}

// pairs reads NAME=VALUE flags.
func pairs(flag string, values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(values))
	for _, v := range values {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return nil, usagef("%s %q: want NAME=VALUE", flag, v)
		}
		m[name] = value
	}
	return m, nil
}

// joinTypes lists event types with commas.
func joinTypes(types []webhooks.Type) string {
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = string(t)
	}
	return strings.Join(s, ",")
}

// noteUntyped tells, on stderr, how a receiver knows the events just
// registered whose payloads name no type: by the URL they come to.
func (a *app) noteUntyped(rawURL string, res *doubletick.RegisterWebhookResult) {
	var untyped []webhooks.Type
	for _, v := range res.ValidWebhooks {
		if t := webhooks.Type(v.WebhookEventType); namesNoType(t) && !slices.Contains(untyped, t) {
			untyped = append(untyped, t)
		}
	}
	path := "/PATH"
	if u, err := url.Parse(rawURL); err == nil && u.Path != "" {
		path = u.Path
	}
	switch {
	case len(untyped) == 1:
		fmt.Fprintf(a.stderr, "note: %s payloads name no type: tell the receiver their path (listen --path-type %s=%s; "+
			"the SDK: webhooks.WithPathType)\n", untyped[0], path, untyped[0])
	case len(untyped) > 1:
		fmt.Fprintf(a.stderr, "note: %s name no type in their payloads: at one URL a receiver cannot tell them apart; "+
			"register each at a URL of its own and tell the receiver each path (listen --path-type PATH=EVENT)\n", joinTypes(untyped))
	}
}

// namesNoType reports whether payloads of t carry no type field: the SDK
// reads its own realistic payload of t without being told the type.
func namesNoType(t webhooks.Type) bool {
	p, err := webhookstest.Payload(t, time.Now())
	if err != nil {
		return false
	}
	body, _, err := webhookstest.Encode(webhooks.BodyJSON, p)
	if err != nil {
		return false
	}
	ev, err := webhooks.Parse(body)
	return err == nil && ev.Type() == ""
}
