package sqlitefile

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDSNKeepsThePathWhole(t *testing.T) {
	const query = "_pragma=synchronous(FULL)&_txlock=immediate"
	for _, path := range []string{"inbox.db", "/var/lib/a #1/b?.db", "50%41off.db", "rel/dir/x.journal"} {
		dsn := DSN(path, query)
		// SQLite reads the name up to the first '?' and decodes its %HH.
		name, q, ok := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
		require.True(t, ok, dsn)
		assert.NotContains(t, name, "#", dsn)
		got, err := url.PathUnescape(name)
		require.NoError(t, err)
		assert.Equal(t, path, got, "the file SQLite opens")
		assert.Equal(t, query, q)
	}
}
