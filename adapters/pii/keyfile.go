package pii

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// ParseKeyring parses key file text, as passed in SANZHI_DATA_KEY. Errors
// name the offending line as "keyring line N: ...".
func ParseKeyring(text string) (*Keyring, error) {
	return parseKeyring("keyring", text)
}

// ParseKeyringFrom parses key file text that came from source, which names
// it in errors ("<source> line N: ..."), e.g. a key command's output.
func ParseKeyringFrom(source, text string) (*Keyring, error) {
	return parseKeyring(source, text)
}

// LoadKeyringFile reads and parses the key file at path. Errors name the
// file and line, as in "key file /etc/sanzhi/keys line 3: key must be 32
// bytes, got 16".
func LoadKeyringFile(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read key file %s: %w", path, err)
	}
	return parseKeyring("key file "+path, string(b))
}

// dataKeyLine is a parsed data key and where it was.
type dataKeyLine struct {
	id   string
	key  []byte
	line int
}

// parseKeyring parses text; src names it in errors. Error messages never
// include anything from the right-hand side of a line, which is secret even
// when malformed.
func parseKeyring(src, text string) (*Keyring, error) {
	var (
		indexSecret []byte
		indexAlg    IndexAlgorithm
		indexLine   int
		keys        []dataKeyLine
		seen        = map[string]int{}
	)
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, b64, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s line %d: expected id:base64key", src, n)
		}
		id, b64 = strings.TrimSpace(id), strings.TrimSpace(b64)
		material, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %s is not valid base64: %w", src, n, describe(id), err)
		}

		if id == reservedIndexID || id == reservedSM3IndexID {
			if indexLine != 0 {
				return nil, fmt.Errorf("%s line %d: second index line (first on line %d)", src, n, indexLine)
			}
			if len(material) < MinIndexSecretSize {
				return nil, fmt.Errorf("%s line %d: index secret must be at least %d bytes, got %d",
					src, n, MinIndexSecretSize, len(material))
			}
			indexSecret, indexLine = material, n
			if id == reservedSM3IndexID {
				indexAlg = IndexHMACSM3
			}
			continue
		}

		if err := validateKeyID(id); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", src, n, err)
		}
		if first, dup := seen[id]; dup {
			return nil, fmt.Errorf("%s line %d: duplicate key id %q (first on line %d)", src, n, id, first)
		}
		if err := checkKeySize(id, len(material)); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", src, n, err)
		}
		seen[id] = n
		keys = append(keys, dataKeyLine{id: id, key: material, line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no data keys (expected lines like k1:<base64 of %d random bytes>)", src, KeySize)
	}
	if indexLine == 0 {
		return nil, fmt.Errorf("%s: no index secret (expected a line index:<base64 of %d random bytes>)", src, MinIndexSecretSize)
	}

	k, err := NewKeyringWithIndex(indexAlg, indexSecret, keys[0].id, keys[0].key)
	if err != nil {
		return nil, fmt.Errorf("%s line %d: %w", src, keys[0].line, err)
	}
	for _, dk := range keys[1:] {
		if k, err = k.WithDataKey(dk.id, dk.key); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", src, dk.line, err)
		}
	}
	return k, nil
}

func describe(id string) string {
	if id == reservedIndexID || id == reservedSM3IndexID {
		return "index secret"
	}
	return fmt.Sprintf("key %q", id)
}

// GenerateKeyFile writes a new key file at path with a fresh index secret
// and one data key, k1, readable only by its owner (mode 0600). It is meant
// for demo and development setups. It never overwrites: if path exists,
// even as a dangling symlink, it fails with an error wrapping fs.ErrExist,
// because replacing a key file would make everything sealed under it
// unreadable.
func GenerateKeyFile(path string) error { return generateKeyFile(path, false) }

// GenerateGMKeyFile is GenerateKeyFile for a 国密-only deployment: an
// index-sm3 secret and one SM4 data key, sm4-k1.
func GenerateGMKeyFile(path string) error { return generateKeyFile(path, true) }

func generateKeyFile(path string, gm bool) (err error) {
	indexID, keyID, size, rotate := reservedIndexID, "k1", KeySize, "id:key"
	if gm {
		indexID, keyID, size, rotate = reservedSM3IndexID, SM4Prefix+"k1", SM4KeySize, SM4Prefix+"id:key (16 bytes)"
	}
	index := make([]byte, MinIndexSecretSize)
	key := make([]byte, size)
	_, _ = rand.Read(index) // crypto/rand.Read never fails (Go 1.24+)
	_, _ = rand.Read(key)
	content := fmt.Sprintf("# sanzhi PII key file, generated %s.\n"+
		"# Keep secret. Losing it makes every stored ID number unreadable.\n"+
		"# To rotate, append a new %s line; the last key line is current.\n"+
		"%s:%s\n"+
		"%s:%s\n",
		time.Now().UTC().Format(time.RFC3339), rotate,
		indexID, base64.StdEncoding.EncodeToString(index),
		keyID, base64.StdEncoding.EncodeToString(key))

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("key file %s already exists, refusing to overwrite it: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("create key file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close key file %s: %w", path, cerr)
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	// The umask may have stripped bits from 0600 (0400, say); set it exactly.
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod key file %s: %w", path, err)
	}
	if _, err := f.WriteString(content); err != nil {
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync key file %s: %w", path, err)
	}
	return nil
}
