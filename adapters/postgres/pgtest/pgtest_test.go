package pgtest

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The search path goes into the options startup parameter beside any the
// DSN already carries (CockroachDB's --cluster, say), and pgx reads it
// back as one parameter with its spaces.
func TestWithSearchPath(t *testing.T) {
	got, err := withSearchPath("postgres://u@db:26257/sanzhi?sslmode=verify-full&options=--cluster%3Dblue", "sanzhi_t_1")
	require.NoError(t, err)
	cfg, err := pgx.ParseConfig(got)
	require.NoError(t, err)
	assert.Equal(t, "--cluster=blue -c search_path=sanzhi_t_1", cfg.RuntimeParams["options"])
	assert.Equal(t, "sanzhi", cfg.Database)

	got, err = withSearchPath("postgres://u@db/x", "s")
	require.NoError(t, err)
	cfg, err = pgx.ParseConfig(got)
	require.NoError(t, err)
	assert.Equal(t, "-c search_path=s", cfg.RuntimeParams["options"])

	_, err = withSearchPath("host=db user=u", "s")
	require.Error(t, err, "a key=value DSN is not a URL")
}
