package webhooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
)

// maxFormMemory bounds what a multipart body may hold in memory; the handler's
// body limit bounds it before that.
const maxFormMemory = 1 << 20

// ParseContent decodes a webhook body sent with the given Content-Type:
// JSON, or form data (application/x-www-form-urlencoded or
// multipart/form-data), which DoubleTick sends for webhooks registered with
// bodyFormat FORM_DATA. An empty contentType means: JSON when the body starts
// with "{", URL-encoded form data otherwise.
//
// DoubleTick does not document how it flattens nested fields into form data.
// Keys in bracket form ("contact[name]") are nested back into objects, and a
// value that is itself a JSON object or array is taken as one.
func ParseContent(contentType string, body []byte) (Event, error) {
	mediaType, params, _ := mime.ParseMediaType(contentType)
	switch {
	case mediaType == "multipart/form-data":
		form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(maxFormMemory)
		if err != nil {
			return nil, fmt.Errorf("%w: multipart form: %v", ErrMalformedPayload, err)
		}
		defer form.RemoveAll()
		return parseForm(form.Value)
	case mediaType == "application/x-www-form-urlencoded":
		return parseURLEncoded(body)
	case mediaType == "" && !startsWith(body, '{'):
		if len(bytes.TrimSpace(body)) == 0 {
			return nil, fmt.Errorf("%w: empty body", ErrMalformedPayload)
		}
		return parseURLEncoded(body)
	}
	return parseJSON(body)
}

func startsWith(body []byte, c byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == c
}

func parseURLEncoded(body []byte) (Event, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: form data: %v", ErrMalformedPayload, err)
	}
	return parseForm(values)
}

func parseForm(values map[string][]string) (Event, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("%w: form data has no fields", ErrMalformedPayload)
	}
	obj := map[string]any{}
	for key, vs := range values {
		if len(vs) == 0 {
			continue
		}
		path := formPath(key)
		if path == nil {
			return nil, fmt.Errorf("%w: form key %q", ErrMalformedPayload, key)
		}
		if err := setPath(obj, path, formValue(vs[0])); err != nil {
			return nil, err
		}
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedPayload, err)
	}
	return parseJSON(body)
}

// formValue turns a form value into JSON: literals and JSON objects and
// arrays as they are, anything else as a string.
func formValue(v string) any {
	switch t := strings.TrimSpace(v); {
	case t == "true" || t == "false" || t == "null",
		(strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)):
		return json.RawMessage(t)
	}
	return v
}

// formPath splits "a[b][c]" into a, b, c; it returns nil for a malformed key.
func formPath(key string) []string {
	name, rest, nested := strings.Cut(key, "[")
	if name == "" {
		return nil
	}
	path := []string{name}
	for nested {
		var part string
		part, rest, nested = strings.Cut(rest, "]")
		if !nested || part == "" {
			return nil
		}
		path = append(path, part)
		if rest == "" {
			break
		}
		if !strings.HasPrefix(rest, "[") {
			return nil
		}
		rest = rest[1:]
	}
	return path
}

func setPath(obj map[string]any, path []string, v any) error {
	for _, p := range path[:len(path)-1] {
		next, ok := obj[p].(map[string]any)
		if !ok {
			if _, taken := obj[p]; taken {
				return fmt.Errorf("%w: form field %q is both a value and an object", ErrMalformedPayload, p)
			}
			next = map[string]any{}
			obj[p] = next
		}
		obj = next
	}
	last := path[len(path)-1]
	if _, taken := obj[last].(map[string]any); taken {
		return fmt.Errorf("%w: form field %q is both a value and an object", ErrMalformedPayload, last)
	}
	obj[last] = v
	return nil
}
