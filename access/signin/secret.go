package signin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/sanzhi/sanzhi/fault"
)

// Lengths of a hash's key and salt, in bytes.
const (
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashCost is an argon2id work factor.
type hashCost struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

var (
	// owaspCost is OWASP's recommendation (Password Storage Cheat Sheet)
	// for argon2id: 19 MiB of memory, 2 passes, 1 lane.
	owaspCost = hashCost{memory: 19 * 1024, time: 2, threads: 1}
	testCost  = hashCost{memory: 64, time: 1, threads: 1}
	// newHashCost is the cost new hashes are made at; only
	// LowerCostForTests changes it.
	newHashCost atomic.Pointer[hashCost]
)

func init() { newHashCost.Store(&owaspCost) }

// LowerCostForTests makes new hashes cheap (64 KiB, one pass) until the
// function it returns restores the cost before it. A test binary whose
// subject is not the hash calls it from TestMain: under the race detector
// one OWASP-strength hash costs about half a second of CPU, and the
// console's and server's tests set and check hundreds of passwords.
// Verification still honours the parameters stored in each hash. It
// panics outside a test binary, so no production path can weaken the
// hashes.
func LowerCostForTests() (restore func()) {
	if !testing.Testing() {
		panic("signin.LowerCostForTests called outside a test binary")
	}
	before := newHashCost.Swap(&testCost)
	return func() { newHashCost.Store(before) }
}

// Password length bounds, in characters. The upper bound keeps a hash
// request cheap; 128 characters is more than any passphrase needs.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
)

var b64 = base64.RawStdEncoding

// HashPassword returns password's argon2id hash as a PHC string with a
// fresh random salt.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	c := newHashCost.Load()
	key := argon2.IDKey([]byte(password), salt, c.time, c.memory, c.threads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, c.memory, c.time, c.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC string hash,
// comparing in constant time. It honours the parameters stored in the
// hash, so raising them later keeps old hashes working. A malformed hash
// is an error.
func VerifyPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errors.New("password hash: not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("password hash: version %q", parts[2])
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return false, fmt.Errorf("password hash: parameters %q", parts[3])
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("password hash: salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, fmt.Errorf("password hash: key: %v", err)
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHashes holds, per cost, the hash verified against when the
// username is unknown or has no password, so that answer costs the same
// time as a wrong password at the cost passwords are set at now.
var dummyHashes sync.Map // hashCost -> string

func dummyHash() string {
	c := *newHashCost.Load()
	if h, ok := dummyHashes.Load(c); ok {
		return h.(string)
	}
	h, err := HashPassword("dummy password never matches")
	if err != nil {
		panic(err)
	}
	h2, _ := dummyHashes.LoadOrStore(c, h)
	return h2.(string)
}

// CheckPassword applies the password policy: 10 to 128 characters, not the
// username (ignoring case), not one character repeated. It returns an
// Invalid fault with one violation on field "password" whose Reason
// (PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG, PASSWORD_IS_USERNAME,
// PASSWORD_ONE_CHARACTER) the console can word, and ZH set.
func CheckPassword(username, password string) error {
	n := utf8.RuneCountInString(password)
	var reason string
	switch {
	case !utf8.ValidString(password):
		reason = ReasonPasswordInvalid
	case n < MinPasswordLen:
		reason = ReasonPasswordTooShort
	case n > MaxPasswordLen:
		reason = ReasonPasswordTooLong
	case strings.EqualFold(password, username):
		reason = ReasonPasswordIsUsername
	case strings.Count(password, string([]rune(password)[:1])) == n:
		reason = ReasonPasswordOneChar
	default:
		return nil
	}
	m := Messages[reason]
	return &fault.Error{Kind: fault.Invalid, Reason: "INVALID_ARGUMENT", Message: "invalid request: password: " + m.EN,
		Violations: []fault.Violation{{Field: "password", Description: m.EN, ZH: m.ZH, Reason: reason}}}
}

// codeAlphabet has 32 symbols (5 bits each) and none of 0, O, 1, I, so a
// code read off a printed slip cannot be mistyped between look-alikes.
const codeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// CodeLen is a code's length in symbols: 16 × 5 = 80 random bits.
const CodeLen = 16

// NewCode returns a fresh household access code, formatted for a slip as
// four groups of four: "K7QD-M2XP-9HTA-WF3C".
func NewCode() (string, error) {
	b := make([]byte, CodeLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("access code: %w", err)
	}
	var sb strings.Builder
	for i, x := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[x&31]) // 256 is a multiple of 32: no bias
	}
	return sb.String(), nil
}

// NormaliseCode returns the code as stored and hashed: upper case, without
// separators or spaces. ok is false when what remains is not CodeLen
// symbols of the alphabet.
func NormaliseCode(code string) (norm string, ok bool) {
	var sb strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
		case r < utf8.RuneSelf && strings.IndexByte(codeAlphabet, byte(r)) >= 0:
			sb.WriteRune(r)
		default:
			return "", false
		}
	}
	s := sb.String()
	return s, len(s) == CodeLen
}

// HashCode is how a normalised code is stored and looked up.
func HashCode(norm string) []byte {
	h := sha256.Sum256([]byte(norm))
	return h[:]
}

// TokenPrefix starts every session token, so a leaked one is recognisable.
const TokenPrefix = "szs_"

// newSecret returns 256 random bits, URL-safe base64.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken is how session tokens are stored and looked up. Tokens carry
// 256 random bits, so plain SHA-256 is enough (as for API keys).
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
