package main

// doubletick api: any endpoint of DoubleTick's API, with the CLI's key,
// limiter, retries, errors and exit codes, as gh api and stripe get do.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"
	"github.com/spf13/cobra"

	"github.com/doubletick-go/doubletick/doubleticktest"
)

// apiFlags are the api command's flags.
type apiFlags struct {
	method   string
	fields   []string // -f key=value: strings
	typed    []string // -F key=value: JSON literals, @file
	input    string
	paginate bool
	jq       string
}

// apiMethods are the methods completion offers; any other token is sent too.
var apiMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

func (a *app) apiCommand() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "api PATH [--method M] [-f key=value]... [-F key=value]... [--input FILE] [--paginate] [--jq EXPR]",
		Short: "Call any endpoint of the API with your key, the client's limiter and retries",
		Long: `Call any endpoint of DoubleTick's API, for the operations no other command
covers, with the key, base URL, rate limiter, retries, errors and exit codes
of every other command. PATH is relative to the base URL ("/v2/webhooks"),
and may carry a query; a full URL is accepted only on the base URL's host,
since the key goes to no other.

Fields: -f key=value sends a string, -F key=value a JSON value (true, false,
null, a number, or @FILE for a file's content as a string; anything else is
a string). A GET sends them in the query; other methods as a JSON object
body, unless --input gives the body (a JSON file, or - for standard input),
in which case the fields go in the query. The method is GET, or POST with
--input, unless --method says otherwise (DoubleTick's reads take their
parameters in the query, so -f alone does not make a POST). A DELETE whose
endpoint takes its parameters in the query gets them in PATH:
"api -X DELETE '/whatsapp/wa-group?groupId=g1'".

The answer is printed as JSON, or filtered by --jq (jq's language, by gojq:
strings are printed raw, other values as JSON, one per line). --paginate
follows DoubleTick's cursors: while an answer says hasMore (or
hasMoreChats), the fields beside it named last…, next… or olderThan… are
sent with the next request, as DoubleTick's list endpoints expect; each page
is printed, or filtered, in turn. A 4xx or 5xx exits 1 with DoubleTick's
message; --debug shows the whole exchange.`,
		Example: `  doubletick api /v2/webhooks
  doubletick api /whatsapp/wa-group/list -f wabaNumber=911111111111 --paginate --jq '.groups[].groupId'
  doubletick api -X POST /customer/block -f phone=+919876543210
  doubletick api -X PATCH /organization/channel/profile --input profile.json
  doubletick api /customer/details -f phone=+919876543210 --jq .tags`,
		Args: args(1, "the PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runAPI(cmd, &f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.method, "method", "X", "", "the HTTP method (default GET, or POST with a body)")
	fl.StringArrayVarP(&f.fields, "field", "f", nil, "a string field: key=value (repeatable)")
	fl.StringArrayVarP(&f.typed, "raw-field", "F", nil, "a typed field: key=true|false|null|NUMBER|@FILE|text (repeatable)")
	fl.StringVar(&f.input, "input", "", "the request body: a JSON `file`, or - for standard input")
	fl.BoolVar(&f.paginate, "paginate", false, "follow hasMore and its cursors, printing every page")
	fl.StringVarP(&f.jq, "jq", "q", "", "filter the answer with a jq `expression`")
	_ = cmd.RegisterFlagCompletionFunc("method", fixedCompletion(apiMethods...))
	return readsEnv(cmd, apiEnv...)
}

// runAPI runs one api command.
func (a *app) runAPI(cmd *cobra.Command, f *apiFlags, target string) error {
	path, query, err := a.apiPath(target)
	if err != nil {
		return err
	}
	var filter *gojq.Code
	if f.jq != "" {
		q, err := gojq.Parse(f.jq)
		if err != nil {
			return usagef("--jq %q does not parse: %v", f.jq, err)
		}
		if filter, err = gojq.Compile(q); err != nil {
			return usagef("--jq %q: %v", f.jq, err)
		}
	}
	fields, err := apiFields(f)
	if err != nil {
		return err
	}
	var body any
	if f.input != "" {
		raw, err := a.readInput(f.input)
		if err != nil {
			return err
		}
		body = json.RawMessage(raw)
	}
	// GET unless a body is given: DoubleTick's reads take their
	// parameters in the query, so -f alone does not make a POST.
	method := strings.ToUpper(f.method)
	if method == "" {
		method = http.MethodGet
		if body != nil {
			method = http.MethodPost
		}
	}
	// A GET, or a call whose body is --input, sends the fields, and the
	// cursors of --paginate, in the query.
	inQuery := method == http.MethodGet || method == http.MethodHead || body != nil
	if inQuery {
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			query.Set(k, fieldString(fields[k]))
		}
	} else if len(fields) > 0 {
		body = fields
	}
	if f.paginate && body != nil && method == http.MethodGet {
		return usagef("--paginate with a GET sends its cursors in the query: give the fields with -f, not --input")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for page := 1; ; page++ {
		var raw json.RawMessage
		if _, err := c.Do(cmd.Context(), method, path, query, body, &raw); err != nil {
			return err
		}
		if err := a.printAnswer(raw, filter); err != nil {
			return err
		}
		if !f.paginate {
			return nil
		}
		cursor, more := nextCursor(raw)
		if !more {
			return nil
		}
		key := fmt.Sprint(cursor)
		if seen[key] || len(cursor) == 0 {
			return fmt.Errorf("page %d said hasMore with a cursor already followed (or none): stopped, to go round no loop", page)
		}
		seen[key] = true
		if inQuery {
			for k, v := range cursor {
				query.Set(k, fieldString(v))
			}
			continue
		}
		if fields == nil {
			fields = map[string]any{}
		}
		maps.Copy(fields, cursor)
		body = fields
	}
}

// apiPath checks target, a path or a URL on the base URL's host, and
// returns its path (relative to the base URL) and query.
func (a *app) apiPath(target string) (string, url.Values, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", nil, usagef("%q is not a path of the API: %v", printableTarget(target), err)
	}
	if u.Scheme != "" || u.Host != "" {
		base, err := url.Parse(a.apiBase())
		if err != nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
			return "", nil, usagef("%s is not on the API's host (%s): the API key goes to the base URL only; give a path, or --base-url", printableURL(u), a.printableBase())
		}
		if u.User != nil {
			return "", nil, usagef("give the path without user information: the key comes from the environment or the profile")
		}
		u.Path = strings.TrimPrefix(u.Path, strings.TrimSuffix(base.Path, "/"))
	}
	switch {
	case u.Fragment != "":
		return "", nil, usagef("%q: a fragment is never sent to a server", printableTarget(target))
	case !strings.HasPrefix(u.Path, "/"):
		return "", nil, usagef("%q is not a path of the API: it starts with / (\"/v2/webhooks\")", printableTarget(target))
	case slices.Contains(strings.Split(u.Path, "/"), ".."):
		return "", nil, usagef("%q leaves the API's paths (..)", printableTarget(target))
	case strings.HasPrefix(u.Path, doubleticktest.ControlPath):
		return "", nil, usagef("%s is the fake's control API, not DoubleTick's: call it with curl (doubletick help fake)", doubleticktest.ControlPath)
	case strings.ContainsFunc(u.Path, func(r rune) bool { return r < 0x21 || r == 0x7f }):
		return "", nil, usagef("%q holds a space or a control character", printableTarget(target))
	}
	return u.Path, u.Query(), nil
}

// printableTarget is a command line's target as an error shows it: without
// a query, which may hold a phone or a token.
func printableTarget(target string) string {
	s, _, _ := strings.Cut(target, "?")
	return printable(s)
}

// printableBase is the base URL as an error shows it.
func (a *app) printableBase() string {
	u, err := url.Parse(a.apiBase())
	if err != nil {
		return "(unparsable)"
	}
	return printableURL(u)
}

// apiFields reads -f and -F.
func apiFields(f *apiFlags) (map[string]any, error) {
	if len(f.fields)+len(f.typed) == 0 {
		return nil, nil
	}
	out := map[string]any{}
	for _, kv := range f.fields {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("-f %q: want key=value", kv)
		}
		out[k] = v
	}
	for _, kv := range f.typed {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("-F %q: want key=value", kv)
		}
		switch {
		case v == "true", v == "false":
			out[k] = v == "true"
		case v == "null":
			out[k] = nil
		case strings.HasPrefix(v, "@"):
			b, err := os.ReadFile(v[1:])
			if err != nil {
				return nil, usagef("-F %s=@…: %v", k, err)
			}
			out[k] = strings.TrimRight(string(b), "\r\n")
		default:
			if _, err := strconv.ParseFloat(v, 64); err == nil && json.Valid([]byte(v)) {
				out[k] = json.Number(v)
			} else {
				out[k] = v
			}
		}
	}
	return out, nil
}

// fieldString is a field's value in a query.
func fieldString(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// readInput reads --input: a JSON file, or standard input for "-".
func (a *app) readInput(name string) ([]byte, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(io.LimitReader(a.stdin, 10<<20))
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, usagef("--input: %v", err)
	}
	if !json.Valid(b) {
		return nil, usagef("--input %s is not JSON: the API takes JSON bodies", name)
	}
	return b, nil
}

// printAnswer prints one answer: filtered by filter, or indented.
func (a *app) printAnswer(raw json.RawMessage, filter *gojq.Code) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	if filter == nil {
		var buf bytes.Buffer
		if json.Indent(&buf, raw, "", "  ") != nil {
			_, err := fmt.Fprintln(a.stdout, printable(string(raw))) // not JSON: as it came, made safe
			return err
		}
		buf.WriteByte('\n')
		_, err := a.stdout.Write(buf.Bytes())
		return err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("--jq: the answer is not JSON: %v", err)
	}
	iter := filter.Run(v)
	for {
		out, ok := iter.Next()
		if !ok {
			return nil
		}
		if err, isErr := out.(error); isErr {
			return fmt.Errorf("--jq: %v", err)
		}
		if s, isString := out.(string); isString {
			fmt.Fprintln(a.stdout, s)
			continue
		}
		b, err := gojq.Marshal(out)
		if err != nil {
			return fmt.Errorf("--jq: %v", err)
		}
		fmt.Fprintln(a.stdout, string(b))
	}
}

// nextCursor reads a page's cursor: the object (the answer, or one of its
// objects) that holds a hasMore… flag, and, when it is true, its fields
// named last…, next… or olderThan…, which DoubleTick's list endpoints take
// back under the same names.
func nextCursor(raw json.RawMessage) (map[string]any, bool) {
	var page map[string]any
	if json.Unmarshal(raw, &page) != nil {
		return nil, false
	}
	holders := []map[string]any{page}
	for _, k := range slices.Sorted(maps.Keys(page)) {
		if obj, ok := page[k].(map[string]any); ok {
			holders = append(holders, obj)
		}
	}
	for _, obj := range holders {
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			more, isBool := obj[k].(bool)
			if !isBool || !strings.HasPrefix(k, "hasMore") {
				continue
			}
			if !more {
				return nil, false
			}
			cursor := map[string]any{}
			for name, v := range obj {
				if v == nil || v == "" || !(strings.HasPrefix(name, "last") || strings.HasPrefix(name, "next") || strings.HasPrefix(name, "olderThan")) {
					continue
				}
				if f, isFloat := v.(float64); isFloat && f == float64(int64(f)) {
					v = json.Number(strconv.FormatInt(int64(f), 10))
				}
				cursor[name] = v
			}
			return cursor, true
		}
	}
	return nil, false
}
