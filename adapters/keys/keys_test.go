package keys

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/pii"
)

const idNumber = "33048319600119123X"

// keyText is a fresh key file's text and the base64 values in it, so tests
// can search errors for them.
func keyText(t *testing.T, gm bool) (text string, secrets []string) {
	t.Helper()
	b64 := func(n int) string {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		s := base64.StdEncoding.EncodeToString(b)
		secrets = append(secrets, s)
		return s
	}
	if gm {
		text = "index-sm3:" + b64(32) + "\nsm4-k1:" + b64(16) + "\n"
	} else {
		text = "index:" + b64(32) + "\nk1:" + b64(32) + "\nsm4-k2:" + b64(16) + "\n"
	}
	return text, secrets
}

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key-command")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o700))
	return path
}

// sameKeys proves two keyrings hold the same keys: each opens what the
// other sealed, and they index alike.
func sameKeys(t *testing.T, a, b *pii.Keyring) {
	t.Helper()
	assert.Equal(t, a.KeyIDs(), b.KeyIDs())
	assert.Equal(t, a.CurrentKeyID(), b.CurrentKeyID())
	for _, pair := range [][2]*pii.Keyring{{a, b}, {b, a}} {
		s, err := pair[0].Seal([]byte(idNumber), []byte("household-1"))
		require.NoError(t, err)
		got, err := pair[1].Open(s, []byte("household-1"))
		require.NoError(t, err)
		assert.Equal(t, idNumber, string(got))
	}
	assert.Equal(t, a.BlindIndex(idNumber), b.BlindIndex(idNumber))
}

func assertNoSecrets(t *testing.T, err error, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		assert.NotContains(t, err.Error(), s[:12], "the error leaks key material")
	}
}

func TestCommandProviderMatchesFileProvider(t *testing.T) {
	for _, gm := range []bool{false, true} {
		text, _ := keyText(t, gm)
		file := filepath.Join(t.TempDir(), "keys")
		require.NoError(t, os.WriteFile(file, []byte(text), 0o600))
		fromFile, err := File{Path: file}.Keyring(t.Context())
		require.NoError(t, err)

		// The command gets its arguments as given, one argv entry each.
		cmd := script(t, `[ "$1" = "a b" ] && [ "$2" = "--x" ] || { echo "bad args: $*" >&2; exit 9; }
cat "$3"`)
		fromCmd, err := Command{Path: cmd, Args: []string{"a b", "--x", file}}.Keyring(t.Context())
		require.NoError(t, err)
		sameKeys(t, fromFile, fromCmd)
	}
}

func TestCommandEnvironment(t *testing.T) {
	text, _ := keyText(t, false)
	file := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(file, []byte(text), 0o600))
	t.Setenv("SANZHI_DATA_KEY", "must-not-reach-the-command")
	t.Setenv("SANZHI_KEY_PROTOCOL", "99")
	t.Setenv("SANZHI_PKCS11_TOKEN", "kept")
	cmd := script(t, `[ -z "${SANZHI_DATA_KEY+set}" ] || { echo "SANZHI_DATA_KEY was passed" >&2; exit 3; }
[ "$SANZHI_KEY_PROTOCOL" = 1 ] || { echo "protocol $SANZHI_KEY_PROTOCOL" >&2; exit 4; }
[ "$SANZHI_PKCS11_TOKEN" = kept ] || { echo "environment not passed" >&2; exit 5; }
[ -t 0 ] && { echo "stdin is a terminal" >&2; exit 6; }
[ -z "$(cat)" ] || { echo "stdin not empty" >&2; exit 7; }
cat "$1"`)
	_, err := Command{Path: cmd, Args: []string{file}}.Keyring(t.Context())
	require.NoError(t, err)
}

func TestCommandFailures(t *testing.T) {
	text, secrets := keyText(t, false)
	file := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(file, []byte(text), 0o600))
	first := secrets[0]

	tests := []struct {
		name    string
		cmd     Command
		want    []string
		notWant []string
	}{
		{"no command", Command{}, []string{"key provider command: no command given (set --key-command)"}, nil},
		{"relative path", Command{Path: "bin/keys"}, []string{`key provider command: "bin/keys" must be an absolute path`}, nil},
		{"missing", Command{Path: "/no/such/key-command"}, []string{"key provider command: cannot run /no/such/key-command: no such file or directory"}, nil},
		{"not executable", Command{Path: file}, []string{"key provider command: cannot run " + file + ": permission denied"}, nil},
		{
			"non-zero exit, key printed before failing",
			Command{Path: script(t, `cat "$1"; echo "token not present" >&2; exit 3`), Args: []string{file}},
			[]string{"exited with status 3", `(stderr: "token not present")`},
			nil,
		},
		{
			"stderr carrying a key is redacted",
			Command{Path: script(t, `echo "unwrapped k1 to `+first+` and hex 00112233445566778899aabbccddeeff00" >&2; exit 1`)},
			[]string{"exited with status 1", "unwrapped k1 to [redacted] and hex [redacted]"},
			nil,
		},
		{
			"garbage output",
			Command{Path: script(t, `printf 'Password: hunter2\n\001\002binary'`)},
			[]string{"key provider command: output of "},
			[]string{"hunter2", "binary"},
		},
		{
			"malformed key",
			Command{Path: script(t, `echo "index:`+first+`"; echo "k1:c2hvcnQ="`)},
			[]string{"output of ", "line 2: key must be 32 bytes, got 5"},
			nil,
		},
		{"empty output", Command{Path: script(t, `exit 0`)}, []string{"no data keys"}, nil},
		{
			"too much output",
			Command{Path: script(t, `i=0; while [ $i -lt 2000 ]; do echo "# padding padding padding padding padding padding"; i=$((i+1)); done; cat "$1"`), Args: []string{file}},
			[]string{"printed more than 65536 bytes"},
			nil,
		},
		{
			"killed by a signal",
			Command{Path: script(t, `kill -TERM $$`)},
			[]string{"was killed by terminated"},
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kr, err := tt.cmd.Keyring(t.Context())
			require.Error(t, err)
			assert.Nil(t, kr)
			assert.True(t, strings.HasPrefix(err.Error(), "key provider command: "), err.Error())
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			for _, w := range tt.notWant {
				assert.NotContains(t, err.Error(), w)
			}
			assertNoSecrets(t, err, secrets)
		})
	}

	_, err := Command{Path: "/no/such/key-command"}.Keyring(t.Context())
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// TestCommandTimeout kills a command that hangs, and its children with it:
// a script's child holding stdout open must not hold sanzhid's start.
func TestCommandTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	cmd := script(t, `echo "asking the token" >&2
sleep 60 &
echo $! > "$1"
wait`)
	start := time.Now()
	_, err := Command{Path: cmd, Args: []string{pidFile}, Timeout: 300 * time.Millisecond}.Keyring(t.Context())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "key provider command: "+cmd+" did not finish within 300ms and was killed")
	assert.Contains(t, err.Error(), `(stderr: "asking the token")`)
	assert.Less(t, time.Since(start), waitDelay, "the process group is killed, so nothing holds the pipes open")

	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return !alive(pid) }, 5*time.Second, 20*time.Millisecond,
		"the command's child %d outlived the timeout", pid)
}

// alive says whether pid runs (a zombie waiting for its reaper does not).
func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func TestCommandStoppedByCaller(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cmd := script(t, `sleep 60`)
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	_, err := Command{Path: cmd}.Keyring(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "key provider command: "+cmd+" was stopped")
}

func TestFileProviderErrorsUnchanged(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	_, err := File{Path: missing}.Keyring(t.Context())
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.True(t, strings.HasPrefix(err.Error(), "cannot read key file "+missing+": "), err.Error())
}

func TestExcerpt(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdefABCDEF0123456789"))
	tests := map[string]string{
		"CKR_PIN_INCORRECT\n":                              "CKR_PIN_INCORRECT",
		"module /usr/lib/softhsm/libsofthsm2.so not found": "module /usr/lib/softhsm/libsofthsm2.so not found",
		"key " + key + " leaked":                           "key [redacted] leaked",
		"hex 0123456789abcdef0123456789abcdef":             "hex [redacted]",
		"line one\nline\ttwo\x1b[31m red":                  "line one line two?[31m red",
		"":                                                 "",
		"bad utf8 \xff":                                    "bad utf8 �",
	}
	for in, want := range tests {
		assert.Equal(t, want, Excerpt([]byte(in)), "%q", in)
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	tl := &tail{max: 8}
	_, _ = tl.Write([]byte("0123456789"))
	_, _ = tl.Write([]byte("ab"))
	assert.Equal(t, "456789ab", string(tl.buf))
}
