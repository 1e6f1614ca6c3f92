// Package keys fetches the data keyring (adapters/pii) from where an
// operator keeps it: a key file, the default, or an operator's command
// that prints the keyring, such as one that has an HSM unwrap it
// (deploy/pkcs11/sanzhi-pkcs11-keyring).
//
// # The key command protocol (version 1)
//
// sanzhid (and the sanzhi commands that need the data key) run the command
// once, at start:
//
//   - argv: the configured absolute path, then the configured arguments
//     (--key-command-arg, repeatable), executed directly, without a shell
//     and without a PATH search;
//   - environment: the caller's, without SANZHI_DATA_KEY, plus
//     SANZHI_KEY_PROTOCOL=1; standard input is empty (/dev/null); the
//     working directory is the caller's;
//   - stdout: the keyring in the key file format (adapters/pii: an "index:"
//     or "index-sm3:" line and "id:base64" data key lines, the last
//     current), at most 64 KiB. It is parsed only after exit status 0;
//     otherwise it is discarded unread;
//   - exit status: 0 means stdout holds the keyring; anything else, or
//     death by a signal, is a failure and the caller refuses to start;
//   - stderr: diagnostics for the operator. It is discarded on success; on
//     failure its last 512 bytes appear in the error, with control
//     characters replaced and anything that looks like key material
//     (24 or more base64 characters mixing upper case, lower case and
//     digits, or 32 or more hex digits) redacted. A command must still
//     never write key material there;
//   - timeout: the command's whole process group is killed (SIGKILL) when
//     the timeout (default 30 s) passes or the caller is stopped.
//
// Errors name the provider and the command's path, never its arguments,
// its output or key material.
package keys

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/adapters/pii"
)

// Provider names, as --key-provider takes them.
const (
	ProviderFile    = "file"
	ProviderCommand = "command"
)

const (
	// DefaultCommandTimeout bounds a key command that names no timeout:
	// long enough for an HSM that is asked for a PIN-protected unwrap per
	// key, short enough that a hung token does not hang a start for ever.
	DefaultCommandTimeout = 30 * time.Second
	// MaxCommandOutput bounds what is read of a key command's stdout; a
	// keyring is a few lines.
	MaxCommandOutput = 64 << 10
	// ProtocolVersion is passed to the command as SANZHI_KEY_PROTOCOL.
	ProtocolVersion = "1"

	stderrExcerpt = 512
	// waitDelay bounds how long output pipes are drained after the
	// command's process group is killed.
	waitDelay = 2 * time.Second
)

// File is the file provider: the key file at Path.
type File struct{ Path string }

// Keyring reads and parses the key file; errors are pii.LoadKeyringFile's.
func (f File) Keyring(context.Context) (*pii.Keyring, error) {
	return pii.LoadKeyringFile(f.Path)
}

// Command is the command provider: it runs Path with Args under the key
// command protocol (see the package documentation).
type Command struct {
	Path    string
	Args    []string
	Timeout time.Duration // 0: DefaultCommandTimeout
}

// errPrefix names the provider in every error.
const errPrefix = "key provider command"

// Keyring runs the command and parses what it prints.
func (c Command) Keyring(ctx context.Context) (*pii.Keyring, error) {
	if c.Path == "" {
		return nil, fmt.Errorf("%s: no command given (set --key-command)", errPrefix)
	}
	if !filepath.IsAbs(c.Path) {
		return nil, fmt.Errorf("%s: %q must be an absolute path (it is run without a PATH search)", errPrefix, c.Path)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Env = childEnv(os.Environ())
	stdout := &capped{max: MaxCommandOutput}
	stderr := &tail{max: stderrExcerpt}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = waitDelay
	ownProcessGroup(cmd)
	defer clear(stdout.buf) // best effort: key material does not outlive the parse

	err := cmd.Run()
	switch {
	case err != nil && ctx.Err() != nil:
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s: %s did not finish within %s and was killed%s: %w",
				errPrefix, c.Path, timeout, stderr.describe(), ctx.Err())
		}
		return nil, fmt.Errorf("%s: %s was stopped: %w", errPrefix, c.Path, ctx.Err())
	case err != nil:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("%s: %s %s%s", errPrefix, c.Path, exitStatus(exit), stderr.describe())
		}
		// It did not start: missing, not executable, a bad interpreter.
		return nil, fmt.Errorf("%s: cannot run %s: %w", errPrefix, c.Path, unwrapPath(err))
	case stdout.over:
		return nil, fmt.Errorf("%s: %s printed more than %d bytes; a keyring is a few lines", errPrefix, c.Path, MaxCommandOutput)
	}
	// The parser's errors name the line and never its contents.
	return pii.ParseKeyringFrom(fmt.Sprintf("%s: output of %s", errPrefix, c.Path), string(stdout.buf))
}

// childEnv is the command's environment: the caller's, without the key
// material SANZHI_DATA_KEY may hold, with the protocol version.
func childEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if strings.HasPrefix(kv, "SANZHI_DATA_KEY=") || strings.HasPrefix(kv, "SANZHI_KEY_PROTOCOL=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "SANZHI_KEY_PROTOCOL="+ProtocolVersion)
}

func exitStatus(e *exec.ExitError) string {
	if s := signalOf(e); s != "" {
		return "was killed by " + s
	}
	return fmt.Sprintf("exited with status %d", e.ExitCode())
}

// unwrapPath drops exec's own "fork/exec PATH: " prefix (the path is said
// already) but keeps the cause, e.g. fs.ErrNotExist, for errors.Is.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// capped keeps the first max bytes written and notes whether there were
// more. It never fails a write: a command blocked on a full pipe would
// only run into the timeout.
type capped struct {
	buf  []byte
	max  int
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - len(c.buf); room < len(p) {
		c.over = true
		c.buf = append(c.buf, p[:max(room, 0)]...)
	} else {
		c.buf = append(c.buf, p...)
	}
	return len(p), nil
}

// tail keeps the last max bytes written.
type tail struct {
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// describe is the stderr excerpt for an error: "" when there was none.
func (t *tail) describe() string {
	s := Excerpt(t.buf)
	if s == "" {
		return ""
	}
	return fmt.Sprintf(" (stderr: %q)", s)
}

var (
	base64Run = regexp.MustCompile(`[A-Za-z0-9+/=]{24,}`)
	hexRun    = regexp.MustCompile(`[0-9A-Fa-f]{32,}`)
)

// Excerpt makes a command's stderr fit for an error message: one line,
// control characters replaced, and runs that look like key material
// redacted. It is a safety net under the protocol's rule that stderr never
// carries key material, not a licence to print it.
func Excerpt(b []byte) string {
	s := strings.ToValidUTF8(string(b), "�")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	s = hexRun.ReplaceAllString(s, "[redacted]")
	s = base64Run.ReplaceAllStringFunc(s, func(run string) string {
		if strings.ContainsAny(run, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
			strings.ContainsAny(run, "abcdefghijklmnopqrstuvwxyz") &&
			strings.ContainsAny(run, "0123456789") {
			return "[redacted]"
		}
		return run
	})
	return strings.Join(strings.Fields(s), " ")
}
