// Package phone normalises the phone numbers DoubleTick sends and takes.
//
// DoubleTick writes the same number both with and without the leading "+"
// (webhook samples "919999999999" and "+919876543210"; the participants
// endpoint "+15551230000"). E164 turns either into the "+" form.
package phone

import "strings"

// E164 returns raw as "+" and its digits, dropping the spaces, dashes, dots
// and parentheses people write between digits, and "00", the international
// call prefix, before the digits of a number written without "+"
// ("00919876543210" is "+919876543210", not a second number). It reports
// false, and returns "", when raw has any other character, a "+" that is
// not first, a country code that starts with 0 (none does), or not between
// 8 and 15 digits (E.164 allows at most 15).
func E164(raw string) (string, bool) {
	if plusDigits(raw) {
		return raw, true
	}
	buf := make([]byte, 1, len(raw)+1)
	buf[0] = '+'
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c >= '0' && c <= '9':
			buf = append(buf, c)
		case c == '+' && len(buf) == 1 && !seenOther(raw[:i]):
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	if len(buf) > 3 && buf[1] == '0' && buf[2] == '0' && !strings.Contains(raw, "+") {
		buf = append(buf[:1], buf[3:]...)
	}
	if n := len(buf) - 1; n < 8 || n > 15 || buf[1] == '0' {
		return "", false
	}
	return string(buf), true
}

// seenOther reports whether s has anything but separators.
func seenOther(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '(' {
			return true
		}
	}
	return false
}

// plusDigits reports whether s is already "+" and 8 to 15 digits, the
// first not 0.
func plusDigits(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
