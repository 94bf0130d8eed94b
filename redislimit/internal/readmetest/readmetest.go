// Package readmetest keeps the README's Go snippets compiled: a test file
// holds each snippet between markers, in code that compiles and runs, and
// [Check] finds the same code as a Go block of the README.
package readmetest

import (
	"os"
	"strings"
	"testing"
)

// Check fails t unless the README at readmePath has a Go block whose text is
// the code of the file testFile between the lines "// README:name:begin" and
// "// README:name:end", with the begin marker's indentation taken off each
// line.
func Check(t testing.TB, readmePath, testFile, name string) {
	t.Helper()
	src, err := os.ReadFile(testFile)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := "// README:"+name+":begin\n", "// README:"+name+":end"
	i, j := strings.Index(string(src), begin), strings.Index(string(src), end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q … %q", testFile, begin, end)
	}
	indent := string(src[strings.LastIndexByte(string(src[:i]), '\n')+1 : i])
	var code strings.Builder
	// The snippet's lines end before the end marker's own indentation.
	body := string(src[i+len(begin) : strings.LastIndexByte(string(src[:j]), '\n')+1])
	for line := range strings.Lines(body) {
		if strings.TrimSpace(line) == "" {
			code.WriteString("\n")
			continue
		}
		code.WriteString(strings.TrimPrefix(line, indent))
	}
	block := "```go\n" + code.String() + "```"
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), block) {
		t.Errorf("%s has no Go block that is the code of %s %q; the code is:\n%s", readmePath, testFile, name, block)
	}
}
