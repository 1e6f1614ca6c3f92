package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/pii"
)

// keyFileWith writes a key file with an index secret and a data key of
// each id, in order (the last is current).
func keyFileWith(t *testing.T, ids ...string) string {
	t.Helper()
	b64 := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	text := "index:" + b64() + "\n"
	for _, id := range ids {
		text += id + ":" + b64() + "\n"
	}
	path := filepath.Join(t.TempDir(), "data.key")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

// The service refuses to start when its key file lacks a key that sealed
// values still use, naming the key and where to look, rather than start
// and fail every read of those values; with the key back it starts.
func TestRefusesToStartWithoutAKeyInUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	database := sqliteURL(t)
	db, err := OpenStore(ctx, database)
	require.NoError(t, err)
	require.NoError(t, db.Migrate(ctx))
	at := time.Now().UTC()
	require.NoError(t, db.Store().Webhooks().Write(ctx, func(tx delivery.Writer) error {
		return tx.InsertEndpoint(ctx, &delivery.Endpoint{Bank: "tongxiang-rcb", URL: "https://bank.example/hook",
			Secret:          pii.Sealed{KeyID: "k1", Ciphertext: []byte("sealed under k1")},
			NextAttemptTime: at, LeaseUntil: at, CreatedBy: "op", CreateTime: at, UpdatedBy: "op", UpdateTime: at})
	}))
	require.NoError(t, db.Close())

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := Config{GRPCAddr: "127.0.0.1:0", Database: database, DataKeyFile: keyFileWith(t, "k2"), AuditKeyFile: auditKeyFile(t)}
	err = Run(ctx, cfg, log, func(Addrs) { t.Error("must not become ready") })
	require.Error(t, err)
	assert.Contains(t, err.Error(), `the data key file lacks key id "k1"`)
	assert.Contains(t, err.Error(), "`sanzhi rekey --status`")
	assert.NotContains(t, err.Error(), "\n", "one sentence")

	srv := start(t, Config{Database: database, DataKeyFile: keyFileWith(t, "k1", "k2")})
	require.NoError(t, srv.stop())
}
