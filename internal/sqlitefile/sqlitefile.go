// Package sqlitefile writes the names the SDK's modules open SQLite files
// by, with modernc.org/sqlite. It imports no driver: the modules that open
// the files do.
package sqlitefile

import "strings"

// escapes are the characters of a path that a URI filename reads otherwise:
// '%' starts an escape, '?' the query, '#' the fragment.
var escapes = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// DSN returns the URI filename that opens the file at path, with query
// (e.g. "_txlock=immediate&_pragma=journal_mode(WAL)") after it. The path
// is escaped, so that SQLite opens the file at exactly that path.
func DSN(path, query string) string {
	return "file:" + escapes.Replace(path) + "?" + query
}
