package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// HashSize is the size of every hash in the log (SHA-256).
const HashSize = 32

// Checkpoint is a signed tree head: the size of the log and the RFC 6962
// root hash of its first Size leaves, for the log named Origin.
type Checkpoint struct {
	Origin string // names the log, e.g. "sanzhi.example/audit"; one line, no newline
	Size   uint64
	Root   []byte // HashSize bytes; for Size 0, SHA-256 of the empty string
	// Time, when set, is when the checkpoint was published. It is written
	// as a C2SP extension line "time <RFC 3339 UTC, seconds>" after the
	// root, so it is covered by the signature; tools that know only the
	// three standard lines still read the rest.
	Time time.Time
}

// timePrefix starts the optional extension line that carries the time.
const timePrefix = "time "

// Body returns the checkpoint's note text in the C2SP tlog-checkpoint form:
//
//	<origin>\n<size in decimal>\n<root in standard base64>\n
//
// followed, when Time is set, by the extension line "time <RFC 3339>\n".
func (c Checkpoint) Body() []byte {
	b := make([]byte, 0, len(c.Origin)+100)
	b = append(b, c.Origin...)
	b = append(b, '\n')
	b = strconv.AppendUint(b, c.Size, 10)
	b = append(b, '\n')
	b = base64.StdEncoding.AppendEncode(b, c.Root)
	b = append(b, '\n')
	if !c.Time.IsZero() {
		b = append(b, timePrefix...)
		b = c.Time.UTC().Truncate(time.Second).AppendFormat(b, time.RFC3339)
		b = append(b, '\n')
	}
	return b
}

func (c Checkpoint) validate() error {
	switch {
	case c.Origin == "":
		return errors.New("checkpoint origin is empty")
	case strings.ContainsRune(c.Origin, '\n') || !utf8.ValidString(c.Origin):
		return fmt.Errorf("checkpoint origin %q must be one line of UTF-8", c.Origin)
	case len(c.Root) != HashSize:
		return fmt.Errorf("checkpoint root is %d bytes, want %d", len(c.Root), HashSize)
	case c.Size == 0 && !bytes.Equal(c.Root, rfc6962.DefaultHasher.EmptyRoot()):
		return errors.New("checkpoint of size 0 must have the empty root, SHA-256 of the empty string")
	}
	return nil
}

// GenerateKey makes an ed25519 note key pair named name; skey is the private
// signer key and vkey the public verifier key, both in their note text
// forms ("PRIVATE+KEY+name+hash+..." and "name+hash+..."). By convention the
// name is the log's origin.
func GenerateKey(name string) (skey, vkey string, err error) {
	return note.GenerateKey(rand.Reader, name)
}

// NewSigner parses a note signer key (the skey text of GenerateKey).
func NewSigner(skey string) (note.Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("parse signer key: %w", err)
	}
	return s, nil
}

// NewVerifier parses a note verifier key (the vkey text of GenerateKey).
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("parse verifier key: %w", err)
	}
	return v, nil
}

// Sign returns the signed note text of c: its Body, a blank line and the
// signature line "— <key name> <base64 key hash and signature>", one line
// for s and one for each of more (a key rotation's handover checkpoint is
// signed by the old and the new key).
func Sign(c Checkpoint, s note.Signer, more ...note.Signer) ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	signed, err := note.Sign(&note.Note{Text: string(c.Body())}, append([]note.Signer{s}, more...)...)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	return signed, nil
}

// OpenCheckpoint verifies the signed checkpoint note signed with v and parses
// its body, whose origin line must be origin (the caller says which log it
// expects; a checkpoint of another log signed by the same key is refused).
// Other signatures on the note, e.g. witness cosignatures, are allowed as
// long as v's verifies.
//
// The body must be exactly what Checkpoint.Body writes: three lines (and
// optionally the time extension line), a decimal size without leading
// zeros, a 32-byte root in canonical standard base64, and for size 0 the
// empty root.
func OpenCheckpoint(signed []byte, origin string, v note.Verifier) (Checkpoint, error) {
	if v == nil {
		return Checkpoint{}, errors.New("open checkpoint: no verifier key")
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			var by []string
			for _, s := range unverified.Note.UnverifiedSigs {
				by = append(by, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
			}
			return Checkpoint{}, fmt.Errorf("checkpoint is signed by another key (%s), not by %s+%08x",
				strings.Join(by, ", "), v.Name(), v.KeyHash())
		case errors.As(err, &invalid):
			return Checkpoint{}, fmt.Errorf("checkpoint signature by %s+%08x is invalid: the checkpoint was altered or the signature is corrupt",
				invalid.Name, invalid.Hash)
		}
		return Checkpoint{}, fmt.Errorf("checkpoint is not a well-formed signed note: %w", err)
	}
	return parseCheckpointBody(n.Text, origin)
}

func parseCheckpointBody(text, origin string) (Checkpoint, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var published time.Time
	if len(lines) == 4 && strings.HasPrefix(lines[3], timePrefix) {
		t, err := time.Parse(time.RFC3339, strings.TrimPrefix(lines[3], timePrefix))
		if err != nil {
			return Checkpoint{}, fmt.Errorf("checkpoint time line %q is not an RFC 3339 time", lines[3])
		}
		published = t.UTC()
		lines = lines[:3]
	}
	if len(lines) != 3 || !strings.HasSuffix(text, "\n") {
		return Checkpoint{}, fmt.Errorf("checkpoint body has %d lines, want 3 (origin, size, root hash) and an optional time line", len(lines))
	}
	if lines[0] != origin {
		return Checkpoint{}, fmt.Errorf("checkpoint is for the log %q, want %q", lines[0], origin)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("checkpoint size %q is not a decimal number", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != HashSize {
		return Checkpoint{}, fmt.Errorf("checkpoint root hash %q is not %d bytes of standard base64", lines[2], HashSize)
	}
	c := Checkpoint{Origin: origin, Size: size, Root: root, Time: published}
	if string(c.Body()) != text {
		return Checkpoint{}, errors.New("checkpoint body is not in canonical form")
	}
	if err := c.validate(); err != nil {
		return Checkpoint{}, err
	}
	return c, nil
}
