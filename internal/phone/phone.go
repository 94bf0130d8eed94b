// Package phone normalises the phone numbers DoubleTick sends and takes.
//
// DoubleTick writes the same number both with and without the leading "+"
// (webhook samples "919999999999" and "+919876543210"; the participants
// endpoint "+15551230000"). E164 turns either into the "+" form.
package phone

// E164 returns raw as "+" and its digits, dropping the spaces, dashes, dots
// and parentheses people write between digits. It reports false, and returns
// "", when raw has any other character, a "+" that is not first, or not
// between 8 and 15 digits (E.164 allows at most 15).
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
	if n := len(buf) - 1; n < 8 || n > 15 {
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

// plusDigits reports whether s is already "+" and 8 to 15 digits.
func plusDigits(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
