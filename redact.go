package doubletick

// Redaction: what keeps the API key, webhook secrets and URLs' queries out
// of errors, logs and printed values.

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf16"
)

// printableURL is u as an error or a description may show it: without
// its user information (a token may be given as the user name, as
// https://TOKEN@host/), query or fragment, which may hold credentials;
// "[REDACTED]@" marks where user information was.
func printableURL(u url.URL) string {
	hadUser := u.User != nil
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	s := u.String()
	if hadUser {
		s = strings.Replace(s, "//", "//[REDACTED]@", 1)
	}
	return s
}

// withoutQuery returns err, a transport error (http.Client.Do returns a
// *url.Error), with the query left out of the URL its text shows: a query
// carries group IDs, phone numbers and message IDs, which do not belong in
// errors and logs. The route key says which call failed.
func withoutQuery(err error) error {
	ue, ok := err.(*url.Error)
	if !ok || !strings.Contains(ue.URL, "?") {
		return err
	}
	cp := *ue
	cp.URL, _, _ = strings.Cut(ue.URL, "?")
	return &cp
}

// minSecretLength is the length below which a call's secret is not
// scrubbed: no credential is that short, and replacing a word of a few
// letters would garble the error it appears in.
const minSecretLength = 6

// secretPattern matches the API key and ep's secrets as they may appear in
// what a server echoes back. The key's pattern, the usual case, is compiled
// once.
func (c *Client) secretPattern(ep endpoint) *regexp.Regexp {
	if len(ep.secrets) == 0 {
		return c.keyPattern()
	}
	secrets := []string{c.apiKey()}
	for _, s := range ep.secrets {
		if len(s) >= minSecretLength {
			secrets = append(secrets, s)
		}
	}
	return secretPattern(secrets...)
}

// secretPattern returns a pattern that matches each of secrets as it is,
// and as it stands inside a JSON string, however many times encoded: each
// ASCII character but letters and digits may be escaped with any number of
// backslashes ('"' as \", '/' as \/ by PHP), and any other character may be
// written as \uXXXX (beyond the Basic Multilingual Plane as a surrogate
// pair, \uXXXX\uXXXX), in either case (Go's and Node's escapes of '<', '>',
// '&', Python's of everything beyond ASCII, or an encoder that escapes
// everything). Longer secrets are tried first.
func secretPattern(secrets ...string) *regexp.Regexp {
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	alts := make([]string, len(secrets))
	for i, s := range secrets {
		var b strings.Builder
		for _, r := range s {
			switch {
			case r < 0x80 && isAlnum(byte(r)):
				b.WriteRune(r)
			case r < 0x80:
				fmt.Fprintf(&b, `(?:\\*%s|\\+u(?i:%04x))`, regexp.QuoteMeta(string(r)), r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `(?:%s|\\+u(?i:%04x))`, regexp.QuoteMeta(string(r)), r)
			default: // beyond it, \uXXXX\uXXXX: a UTF-16 surrogate pair
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `(?:%s|\\+u(?i:%04x)\\+u(?i:%04x))`, regexp.QuoteMeta(string(r)), hi, lo)
			}
		}
		alts[i] = b.String()
	}
	return regexp.MustCompile(strings.Join(alts, "|"))
}

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}
