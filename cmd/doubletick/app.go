package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/doubletick-go/doubletick"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes.
const (
	exitOK    = 0
	exitAPI   = 1 // the API or the network failed the command
	exitUsage = 2 // a flag, an argument, a variable or an input file is wrong
	// exitInterrupted is what shells expect of a command stopped by Ctrl-C
	// (128 + SIGINT).
	exitInterrupted = 130
)

// errInterrupted is the error of a command stopped by a signal.
var errInterrupted = errors.New("interrupted")

// The environment variables the commands read.
const (
	envAPIKey            = "DOUBLETICK_API_KEY"
	envAPIKeyFile        = "DOUBLETICK_API_KEY_FILE"
	envBaseURL           = "DOUBLETICK_BASE_URL"
	envWebhookSecret     = "DOUBLETICK_WEBHOOK_SECRET"
	envWebhookSecretFile = "DOUBLETICK_WEBHOOK_SECRET_FILE"
	// envInboxDatabaseURL names an inbox's PostgreSQL database: a URL may
	// hold a password, so it comes from the environment.
	envInboxDatabaseURL = "DOUBLETICK_INBOX_DATABASE_URL"
)

var envHelp = map[string]string{
	envAPIKey:            "the API key (DoubleTick's dashboard, Developer API)",
	envAPIKeyFile:        "a file holding the API key, read when " + envAPIKey + " is unset",
	envBaseURL:           "the API's address (default " + doubletick.DefaultBaseURL + "; plain http only to a loopback host)",
	envWebhookSecret:     "the webhook secret; several, comma-separated, while one is being rotated",
	envWebhookSecretFile: "a file holding the webhook secret(s), read when " + envWebhookSecret + " is unset",
	envInboxDatabaseURL:  "the PostgreSQL URL of an inbox's database, read when --sqlite is not given",
	envProfile:           "the profile to use when --profile is not given (doubletick profiles list)",
	envDebug:             "api or full: dump every request and answer on standard error, as --debug does",
	envConfig:            "the profiles' file (default $XDG_CONFIG_HOME/doubletick/config.json, or ~/.config/doubletick/config.json)",
}

var apiEnv = []string{envAPIKey, envAPIKeyFile, envBaseURL, envProfile, envConfig, envDebug}
var webhookEnv = []string{envWebhookSecret, envWebhookSecretFile}

// usageError is a mistake in how the command was run: exit code 2.
type usageError struct{ err error }

// Error is the mistake.
func (e usageError) Error() string { return e.err.Error() }

// Unwrap returns the mistake, for errors.Is and errors.As.
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// app is one run of the command: its streams, its environment and its
// global flags. Nothing is global, so tests run many at once.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// stderrIsTerminal says whether progress may be drawn as a bar.
	stderrIsTerminal bool

	json        bool
	baseURL     string
	profileFlag string
	debugFlag   string
	// completing: the client serves shell completion, which the dump
	// would write into the user's shell.
	completing bool

	// The profile --profile or $DOUBLETICK_PROFILE names, read once by
	// activeProfile.
	profileLoaded bool
	profileName   string
	profile       *profile
	profileErr    error
}

// run runs the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv,
		stderrIsTerminal: isTerminal(stderr) && getenv("TERM") != "dumb"}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, a.explain(cmd, err))
	if ctx.Err() != nil || errors.Is(err, errInterrupted) {
		return exitInterrupted
	}
	var ue usageError
	var verr *doubletick.ValidationError
	if errors.As(err, &ue) || errors.As(err, &verr) {
		return exitUsage
	}
	return exitAPI
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "doubletick",
		Short: "Run DoubleTick's WhatsApp group API from a shell",
		Long: `doubletick runs DoubleTick's WhatsApp group API: groups, participants, tags,
messages and webhook subscriptions, and the organization's channels, team
and wallet ("doubletick channels list" finds your WABA number); a resumable
bulk import of groups from a CSV file; a webhook receiver that prints what
arrives and why a delivery was refused; and a check of a saved delivery
against a secret.

Secrets come from the environment or from files, never from flags. Exit
codes: 0 success, 1 the API or the network failed, 2 wrong usage or input,
130 interrupted (Ctrl-C). No colour is used; progress bars are drawn only
on a terminal (not with TERM=dumb). "doubletick completion bash|zsh|fish|
powershell" prints a shell completion script.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          subcommandRequired,
		RunE:          func(*cobra.Command, []string) error { return nil },
		// Cobra's own default, which it sets only when it suggests itself.
		SuggestionsMinimumDistance: suggestionDistance,
	}
	root.PersistentFlags().BoolVar(&a.json, "json", false, "print results as JSON")
	root.PersistentFlags().StringVar(&a.baseURL, "base-url", "", "the API's address (default the profile's, $"+envBaseURL+", or "+doubletick.DefaultBaseURL+")")
	root.PersistentFlags().StringVar(&a.debugFlag, "debug", "", "dump every request and answer on standard error, secrets replaced: api (phone numbers masked; --debug alone) or full (default $"+envDebug+")")
	root.PersistentFlags().Lookup("debug").NoOptDefVal = debugAPI
	_ = root.RegisterFlagCompletionFunc("debug", fixedCompletion(debugAPI, debugFull))
	root.PersistentFlags().StringVar(&a.profileFlag, "profile", "", "the organisation's profile to use (default $"+envProfile+"; doubletick profiles list)")
	_ = root.RegisterFlagCompletionFunc("profile", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		f, _, err := a.loadProfiles()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return slices.Sorted(maps.Keys(f.Profiles)), cobra.ShellCompDirectiveNoFileComp
	})
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(a.groupsCommand(), a.participantsCommand(), a.tagsCommand(), a.messagesCommand(),
		a.webhooksCommand(), a.channelsCommand(), a.templatesCommand(), a.notesCommand(), a.chatsCommand(), a.customersCommand(),
		a.teamCommand(),
		a.walletCommand(), a.listenCommand(), a.triggerCommand(),
		a.verifyCommand(),
		a.fakeCommand(), a.inboxCommand(), a.profilesCommand(), a.apiCommand(), a.versionCommand())
	// --version prints what the version command prints.
	root.Version = "set"
	root.SetVersionTemplate(versionText(debug.ReadBuildInfo()))
	describeEnvironment(root)
	root.AddCommand(helpTopics()...)
	a.completeFlagValues(root)
	return root
}

// suggestionDistance is how many edits a mistyped command may be from the
// one suggested.
const suggestionDistance = 2

// subcommandRequired is the Args of a command that only groups others:
// run alone or with an unknown subcommand, it is a usage error.
func subcommandRequired(cmd *cobra.Command, args []string) error {
	if len(args) == 1 && args[0] == "help" {
		return cmd.Help()
	}
	if len(args) == 0 {
		_ = cmd.Usage()
		return usagef("%s needs a command; see %q", cmd.CommandPath(), cmd.CommandPath()+" help")
	}
	if near := cmd.SuggestionsFor(args[0]); len(near) > 0 {
		return usagef("unknown command %q for %q; did you mean %q?", args[0], cmd.CommandPath(), strings.Join(near, `" or "`))
	}
	return usagef("unknown command %q for %q; see %q", args[0], cmd.CommandPath(), cmd.CommandPath()+" help")
}

// group returns a command that groups subs.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: subcommandRequired,
		RunE: func(*cobra.Command, []string) error { return nil }, SuggestionsMinimumDistance: suggestionDistance}
	c.AddCommand(subs...)
	return c
}

// args wraps a cobra positional-argument rule so that breaking it is a usage
// error, and names the arguments.
func args(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), %s; got %d", cmd.CommandPath(), n, names, len(args))
		}
		return nil
	}
}

// readsEnv notes on cmd the environment variables it reads, for its help.
func readsEnv(cmd *cobra.Command, vars ...string) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations["env"] = strings.Join(vars, " ")
	return cmd
}

// describeEnvironment appends to the help of cmd and of every command under
// it the environment variables it or its subcommands read.
func describeEnvironment(cmd *cobra.Command) []string {
	var vars []string
	if own := cmd.Annotations["env"]; own != "" {
		vars = strings.Fields(own)
	}
	for _, sub := range cmd.Commands() {
		for _, v := range describeEnvironment(sub) {
			if !slices.Contains(vars, v) {
				vars = append(vars, v)
			}
		}
	}
	if len(vars) > 0 {
		var b strings.Builder
		b.WriteString("\n\nEnvironment:")
		for _, v := range vars {
			fmt.Fprintf(&b, "\n  %-32s %s", v, envHelp[v])
		}
		if cmd.Long == "" {
			cmd.Long = cmd.Short + "."
		}
		cmd.Long += b.String()
	}
	return vars
}

// sendingSecret is the webhook secret deliveries are sent with: the first of
// $DOUBLETICK_WEBHOOK_SECRET's, which may list several while one is being
// rotated (a receiver accepts them all; a sender uses the first).
func (a *app) sendingSecret() (string, error) {
	raw, err := a.secret(envWebhookSecret, envWebhookSecretFile)
	first, _, _ := strings.Cut(raw, ",")
	return first, err
}

// webhookSecrets are the webhook secrets of the environment, for the dump
// to replace; none when there are none.
func (a *app) webhookSecrets() []string {
	raw, err := a.secret(envWebhookSecret, envWebhookSecretFile)
	if err != nil {
		return nil
	}
	return strings.Split(raw, ",")
}

// secret reads a secret from the variable name, or from the file named by
// the variable fileName; trailing line ends of the file are dropped.
func (a *app) secret(name, fileName string) (string, error) {
	if v := a.getenv(name); v != "" {
		return v, nil
	}
	path := a.getenv(fileName)
	if path == "" {
		return "", usagef("set %s, or %s to a file that holds it", name, fileName)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", usagef("%s: %w", fileName, err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", usagef("%s: %s is empty", fileName, path)
	}
	return v, nil
}

// client builds the API client from the profile or the environment, with
// opts. With a profile, the key comes from where it says only.
func (a *app) client(opts ...doubletick.Option) (*doubletick.Client, error) {
	name, p, err := a.activeProfile()
	if err != nil {
		return nil, err
	}
	var key string
	if p != nil {
		key, err = a.profileKey(name, p)
	} else {
		key, err = a.secret(envAPIKey, envAPIKeyFile)
	}
	if err != nil {
		return nil, err
	}
	base := a.apiBase()
	if err := checkBaseURL(base); err != nil {
		return nil, err
	}
	opts = append([]doubletick.Option{doubletick.WithBaseURL(base), doubletick.WithUserAgent("doubletick-cli")}, opts...)
	level, err := a.debugLevel()
	if err != nil {
		return nil, err
	}
	if level != debugOff && !a.completing {
		opts = append(opts, doubletick.WithHTTPClient(&http.Client{Transport: a.newDebugTransport(level, append(a.webhookSecrets(), key)...)}))
	}
	c, err := doubletick.NewClient(key, opts...)
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// apiBase is the API's address: --base-url, or the profile's, or
// $DOUBLETICK_BASE_URL, or DoubleTick's.
func (a *app) apiBase() string {
	var fromProfile string
	if _, p, _ := a.activeProfile(); p != nil {
		fromProfile = p.BaseURL
	}
	return cmp.Or(a.baseURL, fromProfile, a.getenv(envBaseURL), doubletick.DefaultBaseURL)
}

// checkBaseURL refuses, before the SDK does, a base URL that would send the
// API key in clear text, naming this tool's flag rather than an SDK option.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		// The parser's error quotes the URL, password and all.
		return usagef("--base-url / %s: not a URL", envBaseURL)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return usagef("--base-url / %s: %q is not an http(s) URL", envBaseURL, printableURL(u))
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return usagef("--base-url / %s: %q is plain http to a host that is not loopback: the API key would travel in clear text; use https",
				envBaseURL, printableURL(u))
		}
	}
	return nil
}

// printableURL is u as an error may show it: without its user information
// (a token may be given as the user name), a query or a fragment, which
// may hold credentials.
func printableURL(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return v.String()
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// print writes v as JSON with --json, else as the table that table writes.
func (a *app) print(v any, table func(w io.Writer)) error {
	if a.json {
		// A list the API answered empty is [] in JSON, not null.
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.IsNil() {
			v = reflect.MakeSlice(rv.Type(), 0, 0).Interface()
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	// The table's text comes from the API (group subjects and names are
	// set by group members and WhatsApp users): under the tabwriter, every
	// control character but the table's own tabs and newlines is escaped,
	// so that no value can drive the terminal.
	tw := tabwriter.NewWriter(terminalSafe{a.stdout}, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// terminalSafe writes to w with every control character escaped as Go
// quotes it ("\x1b"), but tab and newline; C1 controls (U+0080 to U+009F)
// too. A tabwriter writes it whole lines, so a character is never split
// across two writes.
type terminalSafe struct{ w io.Writer }

func (t terminalSafe) Write(p []byte) (int, error) {
	s := string(p)
	if !strings.ContainsFunc(s, isTerminalControl) {
		return t.w.Write(p)
	}
	var b strings.Builder
	for _, r := range s {
		if isTerminalControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	if _, err := io.WriteString(t.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// isTerminalControl reports whether r is a control character a table
// does not put there itself.
func isTerminalControl(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' }

// printable returns s for a table or a line of text: the control
// characters (terminal escapes among them, and tabs that would break a
// table's columns) that text from the API may hold are shown escaped, as Go
// quotes them.
func printable(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
