package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/doubletick-go/doubletick"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// commonFields are the request fields that the same flag sets in every
// command that has it.
var commonFields = map[string]string{
	"wabaNumber":       "--waba",
	"subject":          "--subject",
	"description":      "--description",
	"joinApprovalMode": "--mode",
}

// fieldFlags notes on cmd which flag or argument sets each request field
// ("groupId=GROUP_ID", "webhookEvents=--event"), so that a refused request
// names them rather than the API's JSON fields.
func fieldFlags(cmd *cobra.Command, pairs ...string) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations["fields"] = strings.Join(pairs, " ")
	return cmd
}

// flagFor returns the flag or argument of cmd that sets field: "--waba"
// for "wabaNumber", "--event (value 2)" for "webhookEvents[1]", "--file:
// messages[0].content.language" for a field inside a file, or the field
// itself when no flag sets it.
func flagFor(cmd *cobra.Command, field string) string {
	base, rest := field, ""
	if i := strings.IndexAny(field, "[."); i >= 0 {
		base, rest = field[:i], field[i:]
	}
	name := commonFields[base]
	for _, pair := range strings.Fields(cmd.Annotations["fields"]) {
		f, flag, _ := strings.Cut(pair, "=")
		switch f {
		case field:
			return flag
		case base:
			name = flag
		}
	}
	switch {
	case name == "":
		return field
	case rest == "":
		return name
	}
	if m := listIndex.FindStringSubmatch(rest); m != nil {
		i, _ := strconv.Atoi(m[1])
		return fmt.Sprintf("%s (value %d)", name, i+1)
	}
	return name + ": " + field
}

// apiName matches a camel-case field name of the API: "groupId".
var apiName = regexp.MustCompile(`\b[a-z]+[A-Z][A-Za-z]*\b`)

// listedFields replaces, in a detail, the one-word field names of cmd (such
// as "to", which apiName cannot tell from the word) where the detail lists
// them ("one of --group and to", "to or groupId"), by their flags.
func listedFields(cmd *cobra.Command, detail string) string {
	for _, pair := range strings.Fields(cmd.Annotations["fields"]) {
		field, flag, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(field, ".[") || apiName.MatchString(field) {
			continue
		}
		q := regexp.QuoteMeta(field)
		listed := regexp.MustCompile(`(\b(?:and|or|of) )` + q + `\b|\b` + q + `( (?:and|or) )`)
		detail = listed.ReplaceAllString(detail, "${1}"+flag+"${2}")
	}
	return detail
}

// sdkPrefix matches the prefixes the SDK's errors begin with: its package
// and the function that refused ("webhooks: NewHMACVerifier: ").
var sdkPrefix = regexp.MustCompile(`^(?:(?:doubletick|webhooks|inbox|inboxadmin): )?(?:[A-Z][A-Za-z]*(?:\.[A-Z][A-Za-z]*)?: )?`)

// sdkDetail is err's text without the SDK's package and function: what a
// command adds its own words to.
func sdkDetail(err error) string { return sdkPrefix.ReplaceAllString(err.Error(), "") }

// listIndex matches the index of a list item: "[2]".
var listIndex = regexp.MustCompile(`^\[(\d+)\]$`)

// explain returns the message for err, which cmd returned: in this tool's
// words, with what to do next where there is something to do.
func (a *app) explain(cmd *cobra.Command, err error) string {
	var verr *doubletick.ValidationError
	if errors.As(err, &verr) {
		parts := make([]string, len(verr.Fields))
		for i, f := range verr.Fields {
			// A detail may name other fields ("groupId and to are
			// mutually exclusive"): those in camel case are names, not
			// words, and become flags too.
			detail := apiName.ReplaceAllStringFunc(f.Detail, func(name string) string { return flagFor(cmd, name) })
			detail = listedFields(cmd, detail)
			parts[i] = flagFor(cmd, f.Field) + ": " + detail
		}
		return cmd.CommandPath() + ": " + strings.Join(parts, "; ")
	}
	if msg, ok := a.networkError(err); ok {
		return msg
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "doubletick: ") && !strings.HasPrefix(msg, "doubletick ") {
		msg = "doubletick: " + msg
	}
	var apiErr *doubletick.APIError
	if !errors.As(err, &apiErr) {
		return msg
	}
	var hint string
	switch status := apiErr.StatusCode; {
	case status == http.StatusUnauthorized:
		hint = "DoubleTick refused the API key: check " + envAPIKey + " (or the file " + envAPIKeyFile +
			" names) against the key in DoubleTick's dashboard, Developer API"
		if name, p, _ := a.activeProfile(); p != nil {
			from := "$" + p.KeyEnv
			if p.KeyFile != "" {
				from = "the file " + p.KeyFile
			}
			hint = "DoubleTick refused profile " + name + "'s API key: check " + from +
				" against the key in that organisation's dashboard, Developer API, and the profile's base URL (doubletick profiles list)"
		} else if a.getenv(envBaseURL) != "" || a.baseURL != "" {
			hint += ", and that --base-url / " + envBaseURL + " is the API the key belongs to"
		}
	case status == http.StatusForbidden:
		hint = "the API key is valid but may not do this: check that the WABA number belongs to the key's account and that its plan includes WhatsApp groups"
	case status == http.StatusNotFound && strings.Contains(apiErr.Route, "wa-group"):
		hint = "a group is created asynchronously: for a few seconds after 'groups create' (until the GROUP_CREATED webhook) it is not found; try again shortly, or check the group ID"
	case status == http.StatusTooManyRequests:
		hint = "DoubleTick's rate limit for this route was reached"
		var rl *doubletick.RateLimitError
		if errors.As(err, &rl) && rl.RetryAfter > 0 {
			hint += "; it asks to wait " + rl.RetryAfter.Round(time.Second).String()
		}
		hint += "; commands that send many requests take --rate to go slower"
	}
	if hint == "" {
		return msg
	}
	return msg + "\n  hint: " + hint
}

// networkError explains an error of the network, not of the API: which
// address failed, why, and what to check.
func (a *app) networkError(err error) (string, bool) {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return "", false
	}
	var why string
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case ue.Timeout():
		why = "no answer in time"
	case errors.As(err, &dnsErr):
		why = "no such host"
	case errors.Is(err, syscall.ECONNREFUSED):
		why = "connection refused: nothing listens there"
	case errors.As(err, &opErr):
		why = sdkDetail(opErr.Err)
	default:
		why = sdkDetail(ue.Err)
	}
	where := "the API at " + a.printableBase()
	check := "check --base-url, $" + envBaseURL
	if name, p, _ := a.activeProfile(); p != nil {
		check = "check profile " + name + "'s base URL (doubletick profiles list)"
	}
	return fmt.Sprintf("doubletick: could not reach %s: %s\n  hint: %s, and that this machine reaches it (a proxy, a firewall, the network)", where, printable(why), check), true
}

// secretFlag matches the flags people try for a secret.
var secretFlag = regexp.MustCompile(`(?i)^--?([a-z-]*(key|secret|token|password|credential|payload)[a-z-]*)`)

// flagError explains a flag cobra could not parse: a flag for a secret
// says where secrets come from, a typo gets the nearest flag. The value
// given is never echoed.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	name, found := strings.CutPrefix(msg, "unknown flag: ")
	if !found {
		if short, ok := strings.CutPrefix(msg, "unknown shorthand flag: '"); ok {
			// "'k' in -ksk-live…": name the letter, not what follows it.
			letter, _, _ := strings.Cut(short, "'")
			return usagef("%s: unknown flag -%s; see %q", cmd.CommandPath(), letter, cmd.CommandPath()+" --help")
		}
		return usageError{err}
	}
	name, _, _ = strings.Cut(name, "=")
	if m := secretFlag.FindStringSubmatch(name); m != nil {
		return usagef("%s: unknown flag %s: secrets come from the environment, never from flags (flags end up in shell history and process lists): "+
			"the API key from %s or %s, the webhook secret from %s or %s",
			cmd.CommandPath(), name, envAPIKey, envAPIKeyFile, envWebhookSecret, envWebhookSecretFile)
	}
	if near := nearestFlag(cmd, strings.TrimLeft(name, "-")); near != "" {
		return usagef("%s: unknown flag %s; did you mean --%s?", cmd.CommandPath(), name, near)
	}
	return usagef("%s: unknown flag %s; see %q", cmd.CommandPath(), name, cmd.CommandPath()+" --help")
}

// nearestFlag returns the flag of cmd closest to name, if one is close: at
// most two edits, or one that starts with name.
func nearestFlag(cmd *cobra.Command, name string) string {
	best, bestDist := "", suggestionDistance+1
	visit := func(f *pflag.Flag) {
		d := editDistance(name, f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = f.Name, d
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
