package keys

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/pii"
)

// softHSMModules are where Debian and others install SoftHSM's module.
var softHSMModules = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
}

// softHSM makes a fresh SoftHSM token in a temporary directory and points
// the reference key command at it through the environment, as an operator
// would. Without SoftHSM and OpenSC the test is skipped, and under CI it
// fails: the HSM path must be tested where CI runs.
func softHSM(t *testing.T) (keyCommand string) {
	t.Helper()
	var missing []string
	for _, tool := range []string{"softhsm2-util", "pkcs11-tool", "openssl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	module := ""
	for _, m := range softHSMModules {
		if _, err := os.Stat(m); err == nil {
			module = m
			break
		}
	}
	if module == "" {
		missing = append(missing, "libsofthsm2.so")
	}
	if len(missing) > 0 {
		msg := "the PKCS#11 key command test needs " + strings.Join(missing, ", ") +
			": install softhsm2 and opensc (apt-get install softhsm2 opensc openssl)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "tokens"), 0o700))
	require.NoError(t, os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+
		"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600))
	t.Setenv("SOFTHSM2_CONF", conf)
	run(t, nil, "softhsm2-util", "--init-token", "--free", "--label", "sanzhi-test", "--so-pin", "87654321", "--pin", "246810")

	pinFile := filepath.Join(dir, "pin")
	require.NoError(t, os.WriteFile(pinFile, []byte("246810\n"), 0o600))
	t.Setenv("SANZHI_PKCS11_MODULE", module)
	t.Setenv("SANZHI_PKCS11_TOKEN", "sanzhi-test")
	t.Setenv("SANZHI_PKCS11_PIN_FILE", pinFile)
	t.Setenv("SANZHI_PKCS11_PIN", "")
	// SoftHSM 2.6 decrypts RSA-OAEP only with SHA-1.
	t.Setenv("SANZHI_PKCS11_OAEP_HASH", "sha1")

	keyCommand, err := filepath.Abs(filepath.Join("..", "..", "deploy", "pkcs11", "sanzhi-pkcs11-keyring"))
	require.NoError(t, err)
	run(t, nil, keyCommand, "keypair")
	return keyCommand
}

func run(t *testing.T, stdin []byte, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
}

// TestPKCS11KeyCommand runs the shipped reference key command against a
// real SoftHSM token: a keyring wrapped under a key that never leaves the
// token comes back through the command provider holding the same keys as
// the file provider reading the plain file.
func TestPKCS11KeyCommand(t *testing.T) {
	keyCommand := softHSM(t)
	dir := t.TempDir()

	text, secrets := keyText(t, false)
	plain := filepath.Join(dir, "plain.keys")
	require.NoError(t, os.WriteFile(plain, []byte("# the plain file\n"+text), 0o600))
	wrapped := filepath.Join(dir, "keys.wrapped")
	run(t, []byte(text), keyCommand, "wrap", wrapped)

	w, err := os.ReadFile(wrapped)
	require.NoError(t, err)
	assert.Contains(t, string(w), "oaep:sha1\n")
	for _, s := range secrets {
		assert.NotContains(t, string(w), s, "the wrapped file holds a key in clear")
	}

	fromFile, err := File{Path: plain}.Keyring(t.Context())
	require.NoError(t, err)
	provider := Command{Path: keyCommand, Args: []string{wrapped}}
	fromHSM, err := provider.Keyring(t.Context())
	require.NoError(t, err)
	assert.Equal(t, []string{"k1", "sm4-k2"}, fromHSM.KeyIDs())
	sameKeys(t, fromFile, fromHSM)

	// Rotation: a fresh key from the token's RNG becomes current; what the
	// old keys sealed still opens.
	old, err := fromHSM.Seal([]byte(idNumber), []byte("h"))
	require.NoError(t, err)
	run(t, nil, keyCommand, "add", "sm4-k3", wrapped)
	rotated, err := provider.Keyring(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "sm4-k3", rotated.CurrentKeyID())
	assert.Equal(t, pii.SM4GCM, rotated.Algorithm("sm4-k3"))
	got, err := rotated.Open(old, []byte("h"))
	require.NoError(t, err)
	assert.Equal(t, idNumber, string(got))
	assert.Equal(t, fromFile.BlindIndex(idNumber), rotated.BlindIndex(idNumber))

	// A 国密-only keyring made on the token.
	gmFile := filepath.Join(dir, "gm.wrapped")
	run(t, nil, keyCommand, "new", "--gm", gmFile)
	gm, err := Command{Path: keyCommand, Args: []string{gmFile}}.Keyring(t.Context())
	require.NoError(t, err)
	require.NoError(t, gm.RequireGM())
	assert.Equal(t, []string{"sm4-k1"}, gm.KeyIDs())

	t.Run("wrong PIN", func(t *testing.T) {
		t.Setenv("SANZHI_PKCS11_PIN", "999999")
		_, err := provider.Keyring(t.Context())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "key provider command: "+keyCommand+" exited with status 1")
		assert.Contains(t, err.Error(), "CKR_PIN_INCORRECT")
		assert.NotContains(t, err.Error(), "999999", "the PIN")
		assertNoSecrets(t, err, secrets)
	})
	t.Run("tampered wrapped key", func(t *testing.T) {
		lines := strings.Split(string(w), "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "k1:") {
				b := []byte(l)
				b[10] = 'A' // another base64 digit: the ciphertext changes
				if l[10] == 'A' {
					b[10] = 'B'
				}
				lines[i] = string(b)
			}
		}
		bad := filepath.Join(t.TempDir(), "bad.wrapped")
		require.NoError(t, os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o600))
		_, err := Command{Path: keyCommand, Args: []string{bad}}.Keyring(t.Context())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the token cannot unwrap k1")
		assertNoSecrets(t, err, secrets)
	})
	t.Run("unknown token", func(t *testing.T) {
		t.Setenv("SANZHI_PKCS11_TOKEN", "no-such-token")
		_, err := provider.Keyring(t.Context())
		require.ErrorContains(t, err, `No slot with token named \"no-such-token\"`)
	})
	t.Run("refuses to overwrite", func(t *testing.T) {
		out, err := exec.CommandContext(t.Context(), keyCommand, "new", wrapped).CombinedOutput()
		require.Error(t, err)
		assert.Contains(t, string(out), "already exists, refusing to overwrite it")
	})
}
