package doubletick_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
)

// readmeExample is the README's Example, between the markers, so that the
// README shows code that compiles; TestREADMEExampleIsCompiledCode checks
// that the two are the same.
func readmeExample(ctx context.Context) error {
	// README:begin
	c, err := doubletick.NewClient(os.Getenv("DOUBLETICK_API_KEY"))
	if err != nil {
		return err
	}
	res, resp, err := c.Groups.Create(ctx, &doubletick.CreateGroupRequest{
		WABANumber:       "911111111111", // digits with the country code; a leading "+" is dropped
		Subject:          "New Support – Jan 2026",
		JoinApprovalMode: doubletick.JoinApprovalRequired,
		GroupID:          "new_support_2026", // optional: your own ID
	})
	var invalid *doubletick.ValidationError
	switch {
	case errors.As(err, &invalid):
		return fmt.Errorf("nothing was sent: %w", err) // invalid.Fields names each field and rule
	case errors.Is(err, doubletick.ErrRateLimited):
		return fmt.Errorf("try again later: %w", err) // the limiter already waited what the deadline allowed
	case err != nil:
		return err
	}
	log.Printf("creation initiated: %s (request %s)", res.GroupID, resp.RequestID)
	// The group exists once the GROUP_CREATED webhook arrives.
	// README:end
	return nil
}

// The Example is compiled with the tests and parsed by them, not run: it
// would call the real API.
var _ = readmeExample

func TestREADMEExampleIsCompiledCode(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)## Example\n\n```go\n(.*?)```").FindSubmatch(readme)
	require.NotNil(t, m, "the README has an Example")
	src, err := os.ReadFile("example_readme_test.go")
	require.NoError(t, err)
	code := string(src)
	code = code[strings.Index(code, "// README:begin\n")+len("// README:begin\n") : strings.Index(code, "\t// README:end")]
	var lines []string
	for _, l := range strings.Split(code, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	assert.Equal(t, string(m[1]), strings.Join(lines, "\n"))
}

// TestREADMEExampleReturnsOnEveryBranch: every case of the Example's error
// switch must return, so that no error falls through to res.GroupID with a
// nil res (the README's earlier Example did, on a validation error or a
// client-side 429).
func TestREADMEExampleReturnsOnEveryBranch(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "example_readme_test.go", nil, 0)
	require.NoError(t, err)
	var cases int
	ast.Inspect(f, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "readmeExample" {
			return true
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				cases++
				require.NotEmpty(t, cc.Body)
				_, returns := cc.Body[len(cc.Body)-1].(*ast.ReturnStmt)
				assert.True(t, returns, "a case of the error switch does not return")
			}
			return true
		})
		return false
	})
	assert.Equal(t, 3, cases)
}
