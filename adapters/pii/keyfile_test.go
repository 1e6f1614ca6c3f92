package pii

import (
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func b64(seed byte, n int) string {
	return base64.StdEncoding.EncodeToString(testMaterial(seed, n))
}

func TestParseKeyring(t *testing.T) {
	text := strings.Join([]string{
		"# sanzhi keys",
		"",
		"index:" + b64(100, 32),
		"  k1 : " + b64(1, 32) + "  ",
		"# k0:retired",
		"k2:" + b64(2, 32),
		"",
	}, "\n")
	k, err := ParseKeyring(text)
	require.NoError(t, err)
	assert.Equal(t, []string{"k1", "k2"}, k.KeyIDs())
	assert.Equal(t, "k2", k.CurrentKeyID(), "the last data key line is current")

	// The parsed keyring interoperates with one built directly from the
	// same material: same keys, same blind index.
	direct, err := NewKeyring(testMaterial(100, 32), "k1", testMaterial(1, KeySize))
	require.NoError(t, err)
	s, err := direct.Seal([]byte(idNumber), []byte("h1"))
	require.NoError(t, err)
	got, err := k.Open(s, []byte("h1"))
	require.NoError(t, err)
	assert.Equal(t, idNumber, string(got))
	assert.Equal(t, direct.BlindIndex(idNumber), k.BlindIndex(idNumber))
}

func TestParseKeyringCRLF(t *testing.T) {
	k, err := ParseKeyring("index:" + b64(100, 32) + "\r\nk1:" + b64(1, 32) + "\r\n")
	require.NoError(t, err)
	assert.Equal(t, "k1", k.CurrentKeyID())
}

func TestParseKeyringErrors(t *testing.T) {
	index := "index:" + b64(100, 32)
	k1 := "k1:" + b64(1, 32)
	tests := []struct {
		name string
		text string
		want string
	}{
		{"empty", "", "keyring: no data keys"},
		{"comments only", "# nothing\n\n", "keyring: no data keys"},
		{"no index", k1, "keyring: no index secret (expected a line index:<base64 of 32 random bytes>)"},
		{"index only", index, "keyring: no data keys"},
		{"no colon", index + "\n" + b64(1, 32), "keyring line 2: expected id:base64key"},
		{"short key", index + "\n#\nk1:" + b64(1, 16), "keyring line 3: key must be 32 bytes, got 16"},
		{"long key", index + "\nk1:" + b64(1, 48), "keyring line 2: key must be 32 bytes, got 48"},
		{"bad base64", index + "\nk1:not*base64", `keyring line 2: key "k1" is not valid base64: illegal base64 data at input byte 3`},
		{"unpadded base64", index + "\nk1:" + strings.TrimRight(b64(1, 32), "="), `keyring line 2: key "k1" is not valid base64`},
		{"bad index base64", "index:!!\n" + k1, "keyring line 1: index secret is not valid base64"},
		{"short index", "index:" + b64(100, 16) + "\n" + k1, "keyring line 1: index secret must be at least 32 bytes, got 16"},
		{"two index lines", index + "\n" + k1 + "\n" + index, "keyring line 3: second index line (first on line 1)"},
		{"duplicate id", index + "\n" + k1 + "\n\nk1:" + b64(2, 32), `keyring line 4: duplicate key id "k1" (first on line 2)`},
		{"bad id", index + "\nkey one:" + b64(1, 32), `keyring line 2: key id "key one" may contain only letters, digits`},
		{"empty id", index + "\n:" + b64(1, 32), `keyring line 2: key id "" must be 1 to 32 characters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKeyring(tt.text)
			require.Error(t, err)
			assert.Nil(t, k)
			assert.Contains(t, err.Error(), tt.want)
			for _, seed := range []byte{1, 100} {
				for _, n := range []int{16, 32, 48} {
					assert.NotContains(t, err.Error(), b64(seed, n)[:8], "error leaks key material")
				}
			}
		})
	}
}

func TestLoadKeyringFile(t *testing.T) {
	dir := t.TempDir()

	path := filepath.Join(dir, "keys")
	require.NoError(t, os.WriteFile(path, []byte("index:"+b64(100, 32)+"\nk1:"+b64(1, 32)+"\n"), 0o600))
	k, err := LoadKeyringFile(path)
	require.NoError(t, err)
	assert.Equal(t, "k1", k.CurrentKeyID())

	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("index:"+b64(100, 32)+"\n# old\nk1:"+b64(1, 16)+"\n"), 0o600))
	_, err = LoadKeyringFile(bad)
	require.EqualError(t, err, "key file "+bad+" line 3: key must be 32 bytes, got 16")

	missing := filepath.Join(dir, "missing")
	_, err = LoadKeyringFile(missing)
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.True(t, strings.HasPrefix(err.Error(), "cannot read key file "+missing+": "), err.Error())
}

func TestGenerateKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "demo.keys")

	require.NoError(t, GenerateKeyFile(path))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), info.Mode().Perm())

	k, err := LoadKeyringFile(path)
	require.NoError(t, err)
	assert.Equal(t, []string{"k1"}, k.KeyIDs())
	s, err := k.Seal([]byte(idNumber), nil)
	require.NoError(t, err)
	got, err := k.Open(s, nil)
	require.NoError(t, err)
	assert.Equal(t, idNumber, string(got))

	before, err := os.ReadFile(path)
	require.NoError(t, err)
	err = GenerateKeyFile(path)
	require.ErrorIs(t, err, fs.ErrExist)
	assert.Contains(t, err.Error(), "refusing to overwrite")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "an existing key file must be left untouched")

	// Fresh material every time.
	other := filepath.Join(dir, "other.keys")
	require.NoError(t, GenerateKeyFile(other))
	k2, err := LoadKeyringFile(other)
	require.NoError(t, err)
	assert.NotEqual(t, k.BlindIndex(idNumber), k2.BlindIndex(idNumber))
	_, err = k2.Open(s, nil)
	require.ErrorIs(t, err, ErrAuthFailed)
}

func TestGenerateKeyFileRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(filepath.Join(dir, "target"), link))

	err := GenerateKeyFile(link)
	require.ErrorIs(t, err, fs.ErrExist)
	_, statErr := os.Lstat(filepath.Join(dir, "target"))
	assert.ErrorIs(t, statErr, fs.ErrNotExist, "must not write through a dangling symlink")
}

func TestGenerateKeyFileBadDirectory(t *testing.T) {
	err := GenerateKeyFile(filepath.Join(t.TempDir(), "no", "such", "dir", "keys"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "create key file")
}
