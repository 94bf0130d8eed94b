package webhooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// BodyFormat is how DoubleTick encodes a webhook's body: each webhook is
// registered with one ("bodyFormat" of the webhook registration API).
type BodyFormat string

// The body formats DoubleTick's webhook registration offers.
const (
	// BodyJSON is a JSON object, sent as application/json.
	BodyJSON BodyFormat = "JSON"
	// BodyFormData is form data, sent as application/x-www-form-urlencoded
	// or multipart/form-data.
	BodyFormData BodyFormat = "FORM_DATA"
)

// accepts reports whether a request of the given media type can carry a body
// of format f.
func (f BodyFormat) accepts(mediaType string) bool {
	switch f {
	case BodyJSON:
		return mediaType == "application/json"
	case BodyFormData:
		return mediaType == "application/x-www-form-urlencoded" || mediaType == "multipart/form-data"
	}
	return false
}

// Limits on form data: DoubleTick's group payloads nest two levels deep and
// hold fewer than 30 fields; a CONTACTS message nests deepest, at six
// (message[contacts][0][phones][0][phone]).
const (
	// MaxFormDepth is the most names a form key may nest: "a[b][c]" is 3.
	MaxFormDepth = 8
	// MaxFormFields is the most fields a form body may hold.
	MaxFormFields = 1000
	// MaxFormKeyLength is the longest form key, in bytes.
	MaxFormKeyLength = 256
)

// maxFormMemory bounds what a multipart body may hold in memory; the handler's
// body limit bounds it before that.
const maxFormMemory = 1 << 20

// ParseContent decodes a webhook body sent with the given Content-Type:
// JSON (application/json), or form data (application/x-www-form-urlencoded
// or multipart/form-data), which DoubleTick sends for webhooks registered
// with bodyFormat FORM_DATA. An empty contentType means: JSON when the body
// starts with "{", URL-encoded form data otherwise.
//
// No signature covers the Content-Type header, so letting it choose the
// parser lets whoever replays a signed body pick how it is read: a JSON
// message whose text reads "a=1&event=…" parses as another event when sent
// as form data. A [Handler] therefore accepts only the body format its
// webhook was registered with ([WithBodyFormat]); call ParseContent on
// verified input only when you pin the format yourself.
//
// DoubleTick does not document how it flattens nested fields into form data,
// nor how it sends null. This package reads keys in bracket form
// ("contact[name]", array items as "message[contacts][0][name]"), takes an
// absent key as null, and types each value by the documented schema, never by
// its shape: a documented string stays a string whatever it reads ("true",
// "null", "[1,2]"), and only documented booleans and numbers are converted.
// A field documented as an object or a list may also come as one field of
// JSON text of that type (message={"type":"TEXT",…}), as form encoders
// often send nested values; its contents are then read as JSON.
// Keys may nest [MaxFormDepth] deep, a body may hold [MaxFormFields] fields
// with keys of [MaxFormKeyLength] bytes, and a key may appear once.
func ParseContent(contentType string, body []byte) (Event, error) {
	return ParseContentAs("", contentType, body)
}

// ParseContentAs is [ParseContent] for a body delivered to a URL registered
// for events of type t, as [ParseAs] is for JSON: a body that names no type
// of its own is decoded as t.
func ParseContentAs(t Type, contentType string, body []byte) (Event, error) {
	mediaType, params, _ := mime.ParseMediaType(contentType)
	return parseMedia(mediaType, params, body, t)
}

// parseMedia parses a body of an already parsed Content-Type, of type given
// when it names none.
func parseMedia(mediaType string, params map[string]string, body []byte, given Type) (Event, error) {
	switch {
	case mediaType == "multipart/form-data":
		return parseMultipart(params["boundary"], body, given)
	case mediaType == "application/x-www-form-urlencoded":
		return parseURLEncoded(body, given)
	case mediaType == "" && !startsWith(body, '{'):
		if len(bytes.TrimSpace(body)) == 0 {
			return nil, fmt.Errorf("%w: empty body", ErrMalformedPayload)
		}
		return parseURLEncoded(body, given)
	}
	return parseJSON(body, given)
}

func startsWith(body []byte, c byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == c
}

func parseMultipart(boundary string, body []byte, given Type) (Event, error) {
	if boundary == "" {
		return nil, fmt.Errorf("%w: multipart form without a boundary", ErrMalformedPayload)
	}
	if n := bytes.Count(body, []byte(boundary)); n > MaxFormFields+1 {
		return nil, fmt.Errorf("%w: form data has more than %d fields", ErrMalformedPayload, MaxFormFields)
	}
	form, err := multipart.NewReader(bytes.NewReader(body), boundary).ReadForm(maxFormMemory)
	if err != nil {
		return nil, fmt.Errorf("%w: multipart form: %v", ErrMalformedPayload, err)
	}
	defer form.RemoveAll()
	if len(form.File) > 0 {
		return nil, fmt.Errorf("%w: form data with a file", ErrMalformedPayload)
	}
	return parseForm(form.Value, given)
}

func parseURLEncoded(body []byte, given Type) (Event, error) {
	if n := bytes.Count(body, []byte{'&'}) + 1; n > MaxFormFields {
		return nil, fmt.Errorf("%w: form data has more than %d fields", ErrMalformedPayload, MaxFormFields)
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: form data: %v", ErrMalformedPayload, err)
	}
	return parseForm(values, given)
}

// formKind is the JSON type a form value takes.
type formKind uint8

const (
	formString formKind = iota
	formBool
	formNumber
	formArray  // a list: keys 0, 1, … in bracket form, or a JSON array as text
	formObject // an object: keys in bracket form, or a JSON object as text
)

// formSchema names every field of the event types that is not a string, by
// its dotted JSON path with "*" for an array index; every other value is a
// string. formNulls are, by type, the fields documented as required but
// "string | null", which form data leaves out for null. Both are derived
// from the types the JSON parser decodes into, so a field is typed in one
// place only; no two types give one path different kinds.
var formSchema, formNulls = deriveFormSchema(formRoots())

// formRoots returns the Go types every event type is decoded into.
func formRoots() map[Type]reflect.Type {
	roots := map[Type]reflect.Type{TypeGroupMessageReceived: reflect.TypeFor[GroupMessageReceived]()}
	for t := range registry {
		if t != TypeGroupMessageReceived {
			roots[t] = reflect.TypeFor[wire]()
		}
	}
	for t, f := range families {
		roots[t] = f.wire
	}
	return roots
}

// deriveFormSchema walks the JSON fields of each type's root. It panics
// when two roots give one path different kinds: form data of one could not
// be read as the other's.
func deriveFormSchema(roots map[Type]reflect.Type) (map[string]formKind, map[Type][]string) {
	schema := map[string]formKind{}
	nulls := map[Type][]string{}
	set := func(path string, k formKind) {
		if had, ok := schema[path]; ok && had != k {
			panic(fmt.Sprintf("webhooks: form field %s is of two kinds", path))
		}
		schema[path] = k
	}
	var walk func(t Type, prefix string, st reflect.Type)
	walk = func(t Type, prefix string, st reflect.Type) {
		for i := range st.NumField() {
			f := st.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(t, prefix, f.Type) // inlined, as JSON inlines it
				continue
			}
			if !f.IsExported() || name == "-" || name == "" {
				continue
			}
			if prefix == "" && f.Tag.Get("form") == "null" {
				nulls[t] = append(nulls[t], name)
			}
			path := prefix + name
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft == reflect.TypeFor[time.Time]() || ft == reflect.TypeFor[jsontext.Value]() || ft.Kind() == reflect.String:
				// text in form data and in JSON
			case ft.Kind() == reflect.Bool:
				set(path, formBool)
			case ft.Kind() == reflect.Float64 || ft.Kind() == reflect.Int:
				set(path, formNumber)
			case ft.Kind() == reflect.Slice:
				set(path, formArray)
				if ft.Elem().Kind() == reflect.Struct {
					set(path+".*", formObject)
					walk(t, path+".*.", ft.Elem())
				}
			case ft.Kind() == reflect.Struct && hasJSONFields(ft):
				set(path, formObject)
				walk(t, path+".", ft)
			}
		}
	}
	for t, root := range roots {
		walk(t, "", root)
	}
	return schema, nulls
}

// hasJSONFields reports whether struct type t has fields of its own in JSON
// (an object), unlike a value type that decodes itself from a string.
func hasJSONFields(t reflect.Type) bool {
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); t.Field(i).IsExported() && name != "" && name != "-" {
			return true
		}
	}
	return false
}

// formNode is one level of a form's nested keys: each entry a string value
// or a deeper *formNode.
type formNode map[string]any

func parseForm(values map[string][]string, given Type) (Event, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("%w: form data has no fields", ErrMalformedPayload)
	}
	if len(values) > MaxFormFields {
		return nil, fmt.Errorf("%w: form data has more than %d fields", ErrMalformedPayload, MaxFormFields)
	}
	root := formNode{}
	for key, vs := range values {
		if len(vs) != 1 {
			return nil, fmt.Errorf("%w: form key %q appears %d times", ErrMalformedPayload, key, len(vs))
		}
		if len(key) > MaxFormKeyLength {
			return nil, fmt.Errorf("%w: form key longer than %d bytes", ErrMalformedPayload, MaxFormKeyLength)
		}
		path, err := formPath(key)
		if err != nil {
			return nil, err
		}
		if err := root.set(path, vs[0]); err != nil {
			return nil, err
		}
	}
	v, err := root.value("")
	if err != nil {
		return nil, err
	}
	obj := v.(map[string]any)
	body, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedPayload, err)
	}
	w, err := decodeWire(body)
	if err != nil {
		return nil, err
	}
	t := typeOf(w, given)
	// Form data has no null: a nullable field is null by its absence. Write
	// the nulls of the body's type out, so that the JSON made here reads as
	// the same event (and decode it again: a null is present, an absence is
	// not).
	if nulls := formNulls[t]; len(nulls) > 0 {
		for _, k := range nulls {
			if _, ok := obj[k]; !ok {
				obj[k] = nil
			}
		}
		if body, err = json.Marshal(obj); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedPayload, err)
		}
		if w, err = decodeWire(body); err != nil {
			return nil, err
		}
	}
	return parseWire(w, t, body)
}

// formPath splits "a[b][c]" into a, b, c.
func formPath(key string) ([]string, error) {
	bad := func(why string) error {
		return fmt.Errorf("%w: form key %q: %s", ErrMalformedPayload, key, why)
	}
	name, rest, nested := strings.Cut(key, "[")
	if name == "" {
		return nil, bad("no name")
	}
	path := []string{name}
	for nested {
		if len(path) == MaxFormDepth {
			return nil, bad(fmt.Sprintf("nests deeper than %d", MaxFormDepth))
		}
		var part string
		part, rest, nested = strings.Cut(rest, "]")
		if !nested || part == "" {
			return nil, bad("unbalanced or empty brackets")
		}
		path = append(path, part)
		if rest == "" {
			break
		}
		if rest[0] != '[' {
			return nil, bad("text after a bracket")
		}
		rest = rest[1:]
	}
	return path, nil
}

// set stores v at path, making the levels on the way.
func (n formNode) set(path []string, v string) error {
	for _, p := range path[:len(path)-1] {
		next, ok := n[p].(formNode)
		if !ok {
			if _, taken := n[p]; taken {
				return fmt.Errorf("%w: form field %q is both a value and an object", ErrMalformedPayload, p)
			}
			next = formNode{}
			n[p] = next
		}
		n = next
	}
	last := path[len(path)-1]
	if _, taken := n[last]; taken {
		return fmt.Errorf("%w: form field %q is both a value and an object", ErrMalformedPayload, last)
	}
	n[last] = v
	return nil
}

// value converts the node at schema path at into JSON-ready values, each
// leaf typed by formSchema. Its depth is bounded by MaxFormDepth.
func (n formNode) value(at string) (any, error) {
	out := make(map[string]any, len(n))
	for k, v := range n {
		path := k
		if at != "" {
			path = at + "." + k
		}
		var err error
		if out[k], err = formField(path, v); err != nil {
			return nil, err
		}
	}
	if formSchema[at] != formArray {
		return out, nil
	}
	list := make([]any, len(out))
	for k, v := range out {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(list) || strconv.Itoa(i) != k {
			return nil, &FieldError{Field: at, Problem: "is a list: its form keys must be 0, 1, 2, …"}
		}
		list[i] = v
	}
	return list, nil
}

// formField converts one field: a nested node, or a string typed by the
// schema.
func formField(path string, v any) (any, error) {
	if formSchema[parent(path)] == formArray {
		path = elementPath(path)
	}
	if node, ok := v.(formNode); ok {
		return node.value(path)
	}
	s := v.(string)
	switch formSchema[path] {
	case formBool:
		b, err := strconv.ParseBool(s)
		if err != nil || (s != "true" && s != "false") {
			return nil, &FieldError{Field: path, Problem: "must be true or false"}
		}
		return b, nil
	case formNumber:
		if !json.Valid([]byte(s)) {
			return nil, &FieldError{Field: path, Problem: "must be a number"}
		}
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return nil, &FieldError{Field: path, Problem: "must be a number"}
		}
		return json.Number(s), nil
	case formArray:
		return jsonText(path, s, '[', "is a list: send its items in brackets (a[0]=…) or as a JSON array")
	case formObject:
		return jsonText(path, s, '{', "is an object: send its fields in brackets (a[b]=…) or as a JSON object")
	}
	return s, nil
}

// jsonText returns s as JSON when it is JSON text whose value opens with
// open, the type the schema gives path: a form encoder may send a nested
// value as one field of JSON text, and an object or a list cannot be taken
// for anything else. The values inside are typed as JSON types them, checked
// by the JSON parser like any JSON body's.
func jsonText(path, s string, open byte, problem string) (any, error) {
	if t := strings.TrimLeft(s, " \t\r\n"); t == "" || t[0] != open || !json.Valid([]byte(s)) {
		return nil, &FieldError{Field: path, Problem: problem}
	}
	return json.RawMessage(s), nil
}

// parent returns the path of path's parent.
func parent(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// elementPath writes an array element's index as "*".
func elementPath(path string) string {
	return parent(path) + ".*"
}
