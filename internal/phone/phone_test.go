package phone

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestE164(t *testing.T) {
	ok := map[string]string{
		"919999999999":      "+919999999999",
		"+919876543210":     "+919876543210",
		"+1 (555) 123-0000": "+15551230000",
		" +44 20 7946 0958": "+442079460958",
		"12345678":          "+12345678",
		"123456789012345":   "+123456789012345",
		// 00 is the international call prefix: the same number as "+".
		"00919876543210":     "+919876543210",
		"00 44 20 7946 0958": "+442079460958",
	}
	for in, want := range ok {
		got, valid := E164(in)
		assert.True(t, valid, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "+", "1234567", "1234567890123456", "91+99999999", "++919999999999", "9199999x9999", "٩١٩٩٩٩٩٩٩٩٩٩", "91999\x009999",
		"+00919876543210", // no country code starts with 0
		"09876543210",     // a national number, no country code
		"0012345",         // too short once the prefix is dropped
	} {
		got, valid := E164(in)
		assert.False(t, valid, "%q", in)
		assert.Empty(t, got, "%q", in)
	}
}
