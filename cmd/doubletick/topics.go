package main

// Help topics: "doubletick help environment", "exit-codes", "formats",
// "fake". Each is a command with no Run, which cobra shows as an
// additional help topic.

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// topic returns a help topic.
func topic(name, short, long string) *cobra.Command {
	return &cobra.Command{Use: name, Short: short, Long: long}
}

// helpTopics are the help topics.
func helpTopics() []*cobra.Command {
	var env strings.Builder
	env.WriteString(`The variables the commands read. Secrets come only from here or from
files they name, never from flags, which end up in shell history and
process lists. With a profile chosen (--profile or ` + envProfile + `), the
API key comes from where the profile says, and ` + envAPIKey + ` is not
read.

`)
	for _, name := range slices.Sorted(maps.Keys(envHelp)) {
		fmt.Fprintf(&env, "  %-32s %s\n", name, envHelp[name])
	}
	env.WriteString("\nEach command's -h names the variables it reads.")

	return []*cobra.Command{
		topic("environment", "The environment variables the commands read", env.String()),
		topic("exit-codes", "What each exit code means", `Every command exits with:

  0    success
  1    the API or the network failed the command: DoubleTick answered an
       error (4xx, 5xx; its message is printed, the whole exchange with
       --debug), or it could not be reached
  2    wrong usage or input, found before anything was sent: an unknown
       flag or command, a missing or invalid value, a file that does not
       parse, a --jq that does not parse
  130  interrupted by Ctrl-C or SIGTERM (128 + SIGINT); "groups import"
       keeps its journal, and the same command resumes it

"doubletick api" exits as the others: 1 for DoubleTick's 4xx and 5xx.`),
		topic("formats", "Output and input formats: tables, --json, --jq, CSV, webhook bodies", `Output
  Tables by default, for people: text from the API or a file (group
  subjects, names, errors) has its control characters shown escaped
  (\x1b), so that nothing printed can drive the terminal.
  --json, on every command: indented JSON, exact (nothing escaped beyond
  JSON's own), times in RFC 3339, [] for an empty list.
  "listen --json": JSON Lines, one object per delivery.
  "api": the answer as DoubleTick sent it, indented; --jq EXPR filters it
  with jq's language (gojq): strings raw, other values as JSON, one per
  line.
  --debug: the exchange with the API on standard error (secrets replaced,
  phone numbers masked unless --debug=full); standard output unchanged.

Input
  "groups import FILE.csv": columns wabaNumber,subject,description,
  joinApprovalMode,groupId in any order, UTF-8 (a BOM allowed), LF or CRLF.
  "api -F key=@FILE", "api --input FILE|-": a file's text, a JSON body.
  Webhook bodies ("listen", "verify", "webhooks register"): --format json
  (application/json) or form-data (application/x-www-form-urlencoded or
  multipart/form-data), as the webhook was registered.
  Phone numbers: digits with the country code, with or without a leading +.`),
		topic("fake", "The fake DoubleTick API: for tests, the CLI and a manual try", `"doubletick fake" serves the SDK's fake DoubleTick (package
doubleticktest) on a loopback address until Ctrl-C. It answers as
DoubleTick's documentation says: groups (created asynchronously), their
participants, messages and their statuses, channels, templates, notes,
chats, customers, team, wallet and webhook subscriptions; and it sends
webhooks to the receivers you give it (--receiver URL, with
--receiver-auth bearer|basic and the secret from the environment).

It prints its URL and its test key (key_doubleticktest, published: not a
secret):

  doubletick fake --receiver http://127.0.0.1:8080/ &
  export DOUBLETICK_BASE_URL=http://127.0.0.1:8090 DOUBLETICK_API_KEY=key_doubleticktest
  doubletick channels list

A test plays the groups' people and sets faults through its control API
under /_doubleticktest/ (join, leave, message, trigger, fail-next,
drop-next, latency, …): "curl $DOUBLETICK_BASE_URL/_doubleticktest/"
lists every control and the fields of its body. "doubletick api" does not
reach the control API: it is not DoubleTick's. The fake answers only to
loopback Host names. Its defaults are DoubleTick's; conveniences
(--webhook-retries, --group-event-subscriptions) say so in their names.`),
	}
}
