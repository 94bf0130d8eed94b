package doubletick_test

import (
	"context"
	"errors"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick"
)

// The convention every service follows (CONTRIBUTING.md, "Services and
// methods"), checked here so that the next endpoint cannot drift from it.

// verbs are the words a service method or a route key may start with.
var verbs = map[string]bool{
	"Get": true, "List": true, "All": true, "Create": true, "Update": true, "Delete": true,
	"Remove": true, "Assign": true, "Send": true, "Upload": true, "Register": true, "Deregister": true,
}

// firstWord returns the leading capitalised word of a Go name:
// "GetAISummary" → "Get", "All" → "All".
func firstWord(name string) string {
	for i := 1; i < len(name); i++ {
		if name[i] >= 'A' && name[i] <= 'Z' {
			return name[:i]
		}
	}
	return name
}

var (
	contextType  = reflect.TypeFor[context.Context]()
	errorType    = reflect.TypeFor[error]()
	responseType = reflect.TypeFor[*doubletick.Response]()
)

// services returns the Client's services by their type's name.
func services(c *doubletick.Client) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && strings.HasSuffix(f.Type().Elem().Name(), "Service") {
			out[f.Type().Elem().Name()] = f
		}
	}
	return out
}

// isOptions says whether a parameter type only selects or sorts (nil is
// the default) rather than being a request, which is required.
func isOptions(t reflect.Type) bool { return strings.HasSuffix(t.Elem().Name(), "Options") }

func TestEveryServiceMethodFollowsTheConvention(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("%s %s was sent: invalid input must be refused before anything is sent", r.Method, r.URL.Path)
	})
	svcs := services(c)
	require.Len(t, svcs, 11, "Groups, Participants, Messages, Webhooks, Channels, Team, Wallet, Templates, Notes, Chats, Customers")
	methods := 0
	for svcName, svc := range svcs {
		for i := range svc.NumMethod() {
			m := svc.Type().Method(i)
			name := svcName + "." + m.Name
			methods++
			t.Run(name, func(t *testing.T) {
				checkSignature(t, name, m.Type)
				checkRefusesInvalidInput(t, name, m.Type, svc.Method(i))
			})
		}
	}
	assert.GreaterOrEqual(t, methods, 53, "every endpoint's method")
}

// checkSignature checks a method's name and types: a verb; context first;
// identifiers as strings, a request by pointer with Validate, or options by
// pointer; (result, *Response, error) or (*Response, error); All returns an
// iterator.
func checkSignature(t *testing.T, name string, ft reflect.Type) {
	method := name[strings.Index(name, ".")+1:]
	assert.True(t, verbs[firstWord(method)], "%s: a method's name starts with a verb (%v)", name, firstWord(method))
	require.GreaterOrEqual(t, ft.NumIn(), 2, "%s: the receiver and a context", name)
	assert.Equal(t, contextType, ft.In(1), "%s: context.Context comes first", name)
	requests := 0
	for i := 2; i < ft.NumIn(); i++ {
		p := ft.In(i)
		switch {
		case p.Kind() == reflect.String:
		case p.Kind() == reflect.Pointer && p.Elem().Kind() == reflect.Struct:
			requests++
			if isOptions(p) {
				break
			}
			v, ok := p.MethodByName("Validate")
			if assert.True(t, ok, "%s: its request %s has Validate() error", name, p.Elem().Name()) {
				assert.True(t, v.Type.NumIn() == 1 && v.Type.NumOut() == 1 && v.Type.Out(0) == errorType,
					"%s: %s.Validate is func() error", name, p.Elem().Name())
			}
		default:
			t.Errorf("%s: parameter %d is %s: identifiers are strings, anything else goes in one request struct by pointer", name, i-1, p)
		}
	}
	assert.LessOrEqual(t, requests, 1, "%s: at most one request or options struct", name)
	assert.False(t, ft.IsVariadic(), "%s: no variadic parameters: a list goes in the request", name)
	if method == "All" {
		if assert.Equal(t, 1, ft.NumOut(), name) {
			assert.True(t, strings.HasPrefix(ft.Out(0).String(), "iter.Seq2["), "%s returns an iter.Seq2, got %s", name, ft.Out(0))
		}
		return
	}
	out := ft.NumOut()
	if assert.True(t, out == 2 || out == 3, "%s returns (result, *Response, error) or (*Response, error)", name) {
		assert.Equal(t, errorType, ft.Out(out-1), "%s: error comes last", name)
		assert.Equal(t, responseType, ft.Out(out-2), "%s: *Response before the error", name)
	}
}

// checkRefusesInvalidInput calls the method with empty identifiers and nil
// requests: it must answer a *ValidationError naming the method, and send
// nothing. A method whose only input is options has nothing to refuse.
func checkRefusesInvalidInput(t *testing.T, name string, ft reflect.Type, fn reflect.Value) {
	args := []reflect.Value{reflect.ValueOf(context.Background())}
	required := false
	for i := 2; i < ft.NumIn(); i++ {
		p := ft.In(i)
		args = append(args, reflect.Zero(p))
		required = required || p.Kind() == reflect.String || !isOptions(p)
	}
	if !required {
		return
	}
	out := fn.Call(args)
	var err error
	if strings.HasSuffix(name, ".All") {
		// The first step of the iterator yields the error.
		yield := reflect.MakeFunc(out[0].Type().In(0), func(in []reflect.Value) []reflect.Value {
			if e, ok := in[1].Interface().(error); ok {
				err = e
			}
			return []reflect.Value{reflect.ValueOf(false)}
		})
		out[0].Call([]reflect.Value{yield})
	} else if e, ok := out[len(out)-1].Interface().(error); ok {
		err = e
	}
	var verr *doubletick.ValidationError
	if assert.True(t, errors.As(err, &verr), "%s with empty input: want a *ValidationError, got %v", name, err) {
		want := strings.TrimSuffix(name, ".All") + map[bool]string{true: ".List"}[strings.HasSuffix(name, ".All")]
		assert.Equal(t, want, verr.Request, "ValidationError.Request names the method called")
		assert.NotEmpty(t, verr.Fields)
	}
}

// requestTypes are the request types the methods take.
func requestTypes(t *testing.T) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for _, svc := range services(newTestClient(t, respond(200, `{}`))) {
		for i := range svc.NumMethod() {
			ft := svc.Type().Method(i).Type
			for j := 1; j < ft.NumIn(); j++ {
				if p := ft.In(j); p.Kind() == reflect.Pointer && p.Elem().Kind() == reflect.Struct {
					out[p.Elem().Name()] = p
				}
			}
		}
	}
	return out
}

func TestEveryRequestTypeValidatesUnderItsOwnName(t *testing.T) {
	types := requestTypes(t)
	require.NotEmpty(t, types)
	for name, p := range types {
		v, ok := p.MethodByName("Validate")
		if isOptions(p) {
			if ok {
				out := v.Func.Call([]reflect.Value{reflect.Zero(p)})
				assert.True(t, out[0].IsNil(), "%s: nil options are the defaults", name)
			}
			continue
		}
		require.True(t, ok, "%s has Validate", name)
		// nil: "request: is required", under the type's name.
		err, _ := v.Func.Call([]reflect.Value{reflect.Zero(p)})[0].Interface().(error)
		var verr *doubletick.ValidationError
		if assert.True(t, errors.As(err, &verr), "(*%s)(nil).Validate(): %v", name, err) {
			assert.Equal(t, name, verr.Request, "ValidationError.Request names the type validated")
			_, nilField := verr.Field("request")
			assert.True(t, nilField, "%s: a nil request is refused as field \"request\"", name)
		}
		// The zero value lacks a required field.
		err, _ = v.Func.Call([]reflect.Value{reflect.New(p.Elem())})[0].Interface().(error)
		if assert.True(t, errors.As(err, &verr), "(&%s{}).Validate(): %v", name, err) {
			assert.Equal(t, name, verr.Request)
		}
	}
}

// sourceDecls parses the package's non-test files.
func sourceDecls(t *testing.T) []ast.Decl {
	t.Helper()
	names, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var decls []ast.Decl
	fset := token.NewFileSet()
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		src, err := os.ReadFile(n)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, n, src, parser.ParseComments)
		require.NoError(t, err)
		decls = append(decls, f.Decls...)
	}
	return decls
}

var docLink = regexp.MustCompile(`(?m)^DoubleTick API docs: https://docs\.doubletick\.io/reference/[a-z0-9-]+$`)

func TestEveryServiceMethodLinksItsDoubleTickPage(t *testing.T) {
	n := 0
	for _, d := range sourceDecls(t) {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || !fn.Name.IsExported() {
			continue
		}
		star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
		if !ok {
			continue
		}
		ident, ok := star.X.(*ast.Ident) // generic receivers are not services
		if !ok || !strings.HasSuffix(ident.Name, "Service") {
			continue
		}
		recv := ident.Name
		n++
		assert.Regexp(t, docLink, fn.Doc.Text(), "%s.%s: its doc ends with its DoubleTick page", recv, fn.Name.Name)
	}
	assert.GreaterOrEqual(t, n, 26)
}

var routeValue = regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE) /[a-zA-Z0-9/{}_.-]+$`)

func TestRouteKeysAreVerbNoun(t *testing.T) {
	n := 0
	for _, d := range sourceDecls(t) {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "Route") {
					continue
				}
				n++
				assert.True(t, verbs[firstWord(strings.TrimPrefix(id.Name, "Route"))], "%s: Route<Verb><Noun>", id.Name)
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if assert.True(t, ok, "%s is a string literal", id.Name) {
					value, _ := strconv.Unquote(lit.Value)
					assert.Regexp(t, routeValue, value, "%s: the method, a space and the documented path", id.Name)
				}
			}
		}
	}
	assert.GreaterOrEqual(t, n, 24)
}

func TestNoAnonymousStructInTheAPI(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(t *testing.T, path string, typ reflect.Type)
	walk = func(t *testing.T, path string, typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			walk(t, path+"[]", typ.Elem())
			return
		case reflect.Struct:
		default:
			return
		}
		if typ.Name() == "" {
			t.Errorf("%s is an anonymous struct: give it a name", path)
		}
		if seen[typ] || (typ.PkgPath() != "" && !strings.HasPrefix(typ.PkgPath(), "github.com/doubletick-go/")) {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			if f := typ.Field(i); f.IsExported() {
				walk(t, path+"."+f.Name, f.Type)
			}
		}
	}
	for name, svc := range services(newTestClient(t, respond(200, `{}`))) {
		for i := range svc.NumMethod() {
			m := svc.Type().Method(i)
			for j := 1; j < m.Type.NumIn(); j++ {
				walk(t, name+"."+m.Name+" parameter "+m.Type.In(j).String(), m.Type.In(j))
			}
			for j := range m.Type.NumOut() {
				walk(t, name+"."+m.Name+" result "+m.Type.Out(j).String(), m.Type.Out(j))
			}
		}
	}
	assert.Greater(t, len(seen), 20, "the walk reached the API's types")
}

func TestEveryServiceMethodHasAnExample(t *testing.T) {
	names, err := filepath.Glob("example*_test.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var files []*ast.File
	for _, n := range names {
		f, err := parser.ParseFile(fset, n, nil, parser.ParseComments)
		require.NoError(t, err)
		files = append(files, f)
	}
	checked := map[string]bool{} // examples whose output go test compares
	for _, ex := range doc.Examples(files...) {
		checked[ex.Name] = ex.Output != "" || ex.EmptyOutput
	}
	for svcName, svc := range services(newTestClient(t, respond(200, `{}`))) {
		for i := range svc.NumMethod() {
			name := svcName + "_" + svc.Type().Method(i).Name
			assert.True(t, checked[name], "Example%s is missing or has no // Output: every endpoint has an Example run against the fake", name)
		}
	}
}

// TestNoExportedVariableButSentinelErrors: a package-level variable is
// state every caller shares. The only exported ones of the module's
// packages are sentinel errors (Err…, made by errors.New); a list or table
// callers read is a function returning a copy, so that no caller can change
// it for the others.
func TestNoExportedVariableButSentinelErrors(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); (err == nil && path != ".") || d.Name() == "testdata" || d.Name() == "internal" || (strings.HasPrefix(d.Name(), ".") && path != ".") {
				return filepath.SkipDir // another module, or no API
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !name.IsExported() {
						continue
					}
					checked++
					call, isCall := ast.Expr(nil), false
					if i < len(vs.Values) {
						call = vs.Values[i]
						_, isCall = call.(*ast.CallExpr)
					}
					sentinel := strings.HasPrefix(name.Name, "Err") && isCall &&
						types.ExprString(call.(*ast.CallExpr).Fun) == "errors.New"
					assert.True(t, sentinel, "%s: exported variable %s: only sentinel errors (Err…, errors.New) may be; make it a function returning a copy", path, name.Name)
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, checked, 5, "the walk reached the packages' sentinel errors")
}
