package doubletick

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// validator collects field violations.
type validator struct{ fields []FieldError }

func (v *validator) add(field string, rule Rule, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Rule: rule, Detail: fmt.Sprintf(format, args...)})
}

// text checks a free-text field: valid UTF-8, present when required, and at
// most max characters (runes, not bytes); max 0 sets no limit.
func (v *validator) text(field, value string, required bool, max int) {
	switch {
	case !utf8.ValidString(value):
		v.add(field, RuleUTF8, "must be valid UTF-8")
	case strings.TrimSpace(value) == "":
		if required {
			v.add(field, RuleRequired, "is required")
		} else if value != "" {
			v.add(field, RuleRequired, "is only white space; leave it empty to omit it")
		}
	default:
		if n := utf8.RuneCountInString(value); max > 0 && n > max {
			v.add(field, RuleMaxLength, "must be at most %d characters, got %d", max, n)
		}
	}
}

// wabaNumber checks a WhatsApp Business number: required, digits with the
// country code, a leading "+" allowed. DoubleTick documents no length: the
// group API types it as a plain string and shows "911111111111"; the webhook
// API shows "+919999999999".
func (v *validator) wabaNumber(field, value string) {
	digits := wabaDigits(value)
	if digits == "" {
		v.add(field, RuleRequired, "is required")
		return
	}
	for i, r := range digits {
		if r < '0' || r > '9' {
			v.add(field, RuleDigits, "must be digits with the country code (a leading + is allowed), found %q at byte offset %d", r, i+len(value)-len(digits))
			return
		}
	}
}

// wabaDigits returns a WABA number without its leading "+", as the group
// API's samples send it.
func wabaDigits(n string) string { return strings.TrimPrefix(n, "+") }

// wabaDigitsAll returns numbers, each without its leading "+", in a new
// slice (nil for none).
func wabaDigitsAll(numbers []string) []string {
	if len(numbers) == 0 {
		return nil
	}
	out := make([]string, len(numbers))
	for i, n := range numbers {
		out[i] = wabaDigits(n)
	}
	return out
}

// err returns the violations as a *ValidationError naming request (the
// method called, or the request type validated), or nil when there are
// none.
func (v *validator) err(request string) error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Request: request, Fields: v.fields}
}

// present reports whether a request is there, and records a nil one as
// "request: is required": a nil request is never sent as an empty one.
func (v *validator) present(isNil bool) bool {
	if isNil {
		v.add("request", RuleRequired, "is required")
	}
	return !isNil
}

// validate runs check and names what it found after request: what each
// request type's Validate does.
func validate(request string, check func(*validator)) error {
	var v validator
	check(&v)
	return v.err(request)
}

// id checks an identifier DoubleTick takes in a path or a query (a groupId,
// a webhookId): present, valid UTF-8, and not absurdly long.
func (v *validator) id(field, value string) {
	v.text(field, value, true, maxIDChars)
}

// maxIDChars bounds the IDs the SDK sends back. DoubleTick caps your own
// group IDs at 50 characters but documents no format for the ones it
// generates, so only absurd values are refused.
const maxIDChars = 1024
