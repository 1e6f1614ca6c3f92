package signin_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/signin"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

const villageA, villageB = "330483102201", "330483103205"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	st       *sqlstore.Store
	svc      *signin.Service
	clk      *clock
	operator *access.Principal
	clerkA   *access.Principal
	clerkB   *access.Principal
}

const goodPassword = "correct horse battery"

func setup(t *testing.T, st *sqlstore.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)}
	f := &fixture{st: st, svc: signin.NewService(st.SignIn(), clk.now), clk: clk,
		operator: &access.Principal{ID: "local-operator", Name: "local-operator", Role: access.Operator}}
	for _, p := range []**access.Principal{&f.clerkA, &f.clerkB} {
		v, name := villageA, "clerk-a"
		if p == &f.clerkB {
			v, name = villageB, "clerk-b"
		}
		*p = &access.Principal{ID: uuid.NewString(), Name: name, Role: access.VillageClerk,
			Scope: access.Scope{Villages: []string{v}}, CreateTime: clk.now()}
		require.NoError(t, st.Principals().CreatePrincipal(ctx, *p, []byte("key-"+name)))
	}
	require.NoError(t, f.svc.SetPassword(ctx, f.operator, "clerk-a", goodPassword))
	return f
}

func (f *fixture) household(t *testing.T, village string, n int) string {
	t.Helper()
	ctx := context.Background()
	id := uuid.NewString()
	idx := sha256.Sum256([]byte(id))
	h := &household.Household{ID: id, Village: village, HeadName: "户主", HeadIDMasked: "330483********123X",
		HeadID: household.SealedID{KeyID: "k1", Ciphertext: []byte{1, byte(n)}, Index: idx[:]},
		Group:  1, Address: "南阳村", Registered: "2020-01-02", CreateTime: f.clk.now(), UpdateTime: f.clk.now(),
		Facts: household.Facts{Version: 1, Members: 4, Labourers: 2, AnnualIncome: decimal.NewFromInt(1),
			LandAreaMu: decimal.Zero, CollectiveShares: decimal.Zero, ExistingDebt: decimal.Zero,
			Source: "村委会登记", AsOf: "2026-02-28", RecordedBy: "p1", RecordTime: f.clk.now()}}
	require.NoError(t, f.st.Households().Write(ctx, func(tx household.Writer) error {
		return tx.InsertHousehold(ctx, h, "req-"+id, "hash-"+id)
	}))
	return id
}

func reason(err error) string {
	var f *fault.Error
	if e, ok := err.(*fault.Error); ok {
		f = e
	}
	if f == nil {
		return ""
	}
	return f.Reason
}

func requireFault(t *testing.T, err error, k fault.Kind, r string) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, k, fault.KindOf(err), "%v", err)
	assert.Equal(t, r, reason(err), "%v", err)
}

// auditLog integrates the queue and returns every entry's canonical JSON.
func auditLog(t *testing.T, st *sqlstore.Store) []string {
	t.Helper()
	ctx := context.Background()
	head, _, err := st.Integrate(ctx, 10000)
	require.NoError(t, err)
	var out []string
	require.NoError(t, st.ScanLeaves(ctx, 0, head.Size, func(l sqlstore.Leaf) error {
		out = append(out, string(l.Data))
		return nil
	}))
	return out
}

func count(log []string, action string) int {
	n := 0
	for _, e := range log {
		if strings.Contains(e, `"action":"`+action+`"`) {
			n++
		}
	}
	return n
}

func TestSignIn(t *testing.T) {
	// One subtest per scenario around Backends: repeated subtest names
	// would get "#01" suffixes, and SQLite's file: URI cuts a path at '#'.
	// Only the timing scenario needs hashes at their production cost: it
	// compares the time of a wrong password with an unknown user's. It
	// runs on one engine, since what it times is the hash, not the store.
	// The others set and check passwords at the cost LowerCostForTests
	// sets, which under the race detector is most of a minute cheaper
	// (TestProductionCostIsOWASP checks the real cost).
	for name, fn := range map[string]func(*testing.T, *fixture){
		"password timing": testPasswordTiming, "password attacks": testPasswordAttacks,
		"sessions": testSessions, "codes": testCodes, "passwords": testPasswords,
	} {
		t.Run(name, func(t *testing.T) {
			if name == "password timing" {
				storetest.Engine(t, storetest.SQLite, func(t *testing.T, st *sqlstore.Store) { fn(t, setup(t, st)) })
				return
			}
			t.Cleanup(signin.LowerCostForTests())
			storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) { fn(t, setup(t, st)) })
		})
	}
}

// testPasswordTiming: a wrong password and an unknown user get the same
// answer in similar time, at the production cost of a hash.
func testPasswordTiming(t *testing.T, f *fixture) {
	ctx := context.Background()

	timed := func(user, pw string) (time.Duration, error) {
		start := time.Now()
		_, err := f.svc.SignIn(ctx, user, pw, "")
		return time.Since(start), err
	}
	// One untimed attempt first: a process's first argon2id hash pays for
	// faulting in its 19 MiB, ten times a later one's cost, and would
	// tilt whichever side went first.
	_, err := f.svc.SignIn(ctx, "warm-up", "wrong password", "")
	requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	var wrong, unknown time.Duration
	for i := range 2 {
		d, err := timed("clerk-a", "wrong password "+string(rune('a'+i)))
		requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
		wrong += d
		d2, err2 := timed("nobody-"+string(rune('a'+i)), "wrong password")
		requireFault(t, err2, fault.Unauthenticated, signin.ReasonFailed)
		assert.Equal(t, err.Error(), err2.Error(), "the same words for both")
		unknown += d2
		// A staff principal without a password fails alike.
		_, err = f.svc.SignIn(ctx, "clerk-b", "anything at all", "")
		requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	}
	assert.Greater(t, unknown, wrong/3, "an unknown user costs a hash too (wrong %v, unknown %v)", wrong, unknown)
}

// testPasswordAttacks: throttles per username and per address, revoked
// principals, and an audit trail with no password in it.
func testPasswordAttacks(t *testing.T, f *fixture) {
	ctx := context.Background()

	// An unknown user and a staff principal without a password fail as a
	// wrong password does.
	_, err := f.svc.SignIn(ctx, "nobody-a", "wrong password", "")
	requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	_, err = f.svc.SignIn(ctx, "clerk-b", "anything at all", "")
	requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)

	// Throttle per username: MaxFailures failures lock it; then even the right
	// password is refused without being checked.
	for i := range signin.MaxFailures {
		_, err := f.svc.SignIn(ctx, "clerk-a", "still wrong!! "+string(rune('a'+i)), "")
		requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	}
	_, err = f.svc.SignIn(ctx, "clerk-a", goodPassword, "")
	requireFault(t, err, fault.ResourceExhausted, signin.ReasonThrottled)
	f.clk.add(14 * time.Minute)
	_, err = f.svc.SignIn(ctx, "clerk-a", goodPassword, "")
	requireFault(t, err, fault.ResourceExhausted, signin.ReasonThrottled)
	f.clk.add(time.Minute)
	in, err := f.svc.SignIn(ctx, "clerk-a", goodPassword, "")
	require.NoError(t, err)
	assert.Equal(t, "clerk-a", in.Principal.Name)
	assert.True(t, in.Session.MustChangePassword, "set by an operator: change at first sign-in")

	// A success clears the username's counter: four failures, a success,
	// four more, and the right password still works.
	for range 4 {
		_, err := f.svc.SignIn(ctx, "clerk-a", "wrong again!!", "")
		requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	}
	_, err = f.svc.SignIn(ctx, "clerk-a", goodPassword, "")
	require.NoError(t, err)
	for range 4 {
		_, err := f.svc.SignIn(ctx, "clerk-a", "wrong again!!", "")
		requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	}
	_, err = f.svc.SignIn(ctx, "clerk-a", goodPassword, "")
	require.NoError(t, err)

	// Failures spread over more than the window do not add up.
	f.clk.add(time.Hour)
	for range 4 {
		_, err := f.svc.SignIn(ctx, "clerk-a", "wrong again!!", "")
		requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	}
	f.clk.add(signin.FailureWindow)
	_, err = f.svc.SignIn(ctx, "clerk-a", "wrong again!!", "")
	requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	_, err = f.svc.SignIn(ctx, "clerk-a", goodPassword, "")
	require.NoError(t, err, "one failure in the new window")

	// Throttle per client address: five usernames tried from one address
	// lock the address, for every username, the right password included.
	for i := range 5 {
		_, err := f.svc.SignIn(ctx, "guess-"+string(rune('a'+i)), "password123", "198.51.100.7")
		requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	}
	_, err = f.svc.SignIn(ctx, "clerk-a", goodPassword, "198.51.100.7")
	requireFault(t, err, fault.ResourceExhausted, signin.ReasonThrottled)
	_, err = f.svc.SignIn(ctx, "clerk-a", goodPassword, "198.51.100.8")
	require.NoError(t, err, "another address is not locked")

	// A revoked principal cannot sign in, with the right password.
	require.NoError(t, f.st.Principals().RevokePrincipal(ctx, "clerk-a", f.clk.now()))
	_, err = f.svc.SignIn(ctx, "clerk-a", goodPassword, "")
	requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)

	// Every attempt is audited; no record holds a password.
	log := auditLog(t, f.st)
	assert.Positive(t, count(log, signin.ActionFailure))
	assert.Positive(t, count(log, signin.ActionSuccess))
	for _, e := range log {
		for _, secret := range []string{goodPassword, "wrong password", "still wrong", "password123"} {
			assert.NotContains(t, e, secret)
		}
		assert.NotContains(t, e, "nobody-", "an unknown username is not recorded: it may be a password typed in the wrong box")
	}
}

func testSessions(t *testing.T, f *fixture) {
	ctx := context.Background()
	in, err := f.svc.SignIn(ctx, "clerk-a", goodPassword, "192.0.2.10")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(in.Token, signin.TokenPrefix))
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(in.Token, signin.TokenPrefix))
	require.NoError(t, err)
	assert.Len(t, raw, 32, "256-bit token")

	// The CSRF token is random, not derived from the session token.
	in2, err := f.svc.SignIn(ctx, "clerk-a", goodPassword, "192.0.2.10")
	require.NoError(t, err)
	h := sha256.Sum256([]byte(in.Token))
	for _, derived := range []string{in.Token, strings.TrimPrefix(in.Token, signin.TokenPrefix), hex.EncodeToString(h[:]),
		base64.RawURLEncoding.EncodeToString(h[:]), base64.StdEncoding.EncodeToString(h[:])} {
		assert.NotEqual(t, derived, in.Session.CSRF)
		assert.False(t, strings.Contains(derived, in.Session.CSRF) || strings.Contains(in.Session.CSRF, derived[:16]))
	}
	assert.NotEqual(t, in.Session.CSRF, in2.Session.CSRF)
	csrf, err := base64.RawURLEncoding.DecodeString(in.Session.CSRF)
	require.NoError(t, err)
	assert.Len(t, csrf, 32)

	// Session returns the session and principal; the stored token is only
	// its hash, so a token never stored is unknown.
	s, p, err := f.svc.Session(ctx, in.Token)
	require.NoError(t, err)
	assert.Equal(t, in.Session.ID, s.ID)
	assert.Equal(t, in.Session.CSRF, s.CSRF)
	assert.Equal(t, "clerk-a", p.Name)
	_, _, err = f.svc.Session(ctx, signin.TokenPrefix+"forged")
	requireFault(t, err, fault.Unauthenticated, signin.ReasonSessionUnknown)
	var stored int
	require.NoError(t, f.st.SignIn().Read(ctx, func(r signin.Reader) error {
		_, err := r.SessionByHash(ctx, []byte(in.Token))
		if fault.Is(err, fault.NotFound) {
			stored++
		}
		return nil
	}))
	assert.Equal(t, 1, stored, "the token itself is no key of the store")

	// Last-seen moves at most once a minute.
	f.clk.add(30 * time.Second)
	s, _, err = f.svc.Session(ctx, in.Token)
	require.NoError(t, err)
	assert.True(t, s.LastSeen.Equal(in.Session.CreateTime), "not written within a minute")
	f.clk.add(40 * time.Second)
	s, _, err = f.svc.Session(ctx, in.Token)
	require.NoError(t, err)
	assert.True(t, s.LastSeen.Equal(f.clk.now()), "written after a minute")

	// Idle expiry: 30 minutes without use.
	f.clk.add(signin.IdleTimeout)
	_, _, err = f.svc.Session(ctx, in.Token)
	requireFault(t, err, fault.Unauthenticated, signin.ReasonSessionExpired)

	// Absolute expiry: 12 hours whatever the use.
	in3, err := f.svc.SignIn(ctx, "clerk-a", goodPassword, "")
	require.NoError(t, err)
	for elapsed := time.Duration(0); elapsed < signin.AbsoluteTimeout-20*time.Minute; elapsed += 20 * time.Minute {
		f.clk.add(20 * time.Minute)
		_, _, err := f.svc.Session(ctx, in3.Token)
		require.NoError(t, err, "in use after %v", elapsed)
	}
	f.clk.add(20 * time.Minute)
	_, _, err = f.svc.Session(ctx, in3.Token)
	requireFault(t, err, fault.Unauthenticated, signin.ReasonSessionExpired)

	// Sign-out ends the session; twice is harmless.
	in4, err := f.svc.SignIn(ctx, "clerk-a", goodPassword, "")
	require.NoError(t, err)
	require.NoError(t, f.svc.SignOut(ctx, in4.Token))
	require.NoError(t, f.svc.SignOut(ctx, in4.Token))
	require.NoError(t, f.svc.SignOut(ctx, "never issued"))
	_, _, err = f.svc.Session(ctx, in4.Token)
	requireFault(t, err, fault.Unauthenticated, signin.ReasonSessionUnknown)

	// A revoked principal's sessions are dead.
	in5, err := f.svc.SignIn(ctx, "clerk-a", goodPassword, "")
	require.NoError(t, err)
	require.NoError(t, f.st.Principals().RevokePrincipal(ctx, "clerk-a", f.clk.now()))
	_, _, err = f.svc.Session(ctx, in5.Token)
	requireFault(t, err, fault.Unauthenticated, signin.ReasonSessionUnknown)

	log := auditLog(t, f.st)
	assert.Equal(t, 1, count(log, signin.ActionSignOut))
	for _, e := range log {
		assert.NotContains(t, e, in.Token)
		assert.NotContains(t, e, in.Session.CSRF)
	}
}

func testPasswords(t *testing.T, f *fixture) {
	ctx := context.Background()

	// Only operators set passwords; the policy refuses weak ones.
	err := f.svc.SetPassword(ctx, f.clerkA, "clerk-b", goodPassword)
	requireFault(t, err, fault.PermissionDenied, "ROLE_NOT_ALLOWED")
	for pw, want := range map[string]string{
		"short":                       signin.ReasonPasswordTooShort,
		strings.Repeat("x", 129):      signin.ReasonPasswordTooLong,
		"CLERK-B":                     signin.ReasonPasswordTooShort,
		"aaaaaaaaaaaa":                signin.ReasonPasswordOneChar,
		"一一一一一一一一一一":                  signin.ReasonPasswordOneChar,
		"clerk-b-":                    signin.ReasonPasswordTooShort,
		"Clerk-B-Long":                "",
		strings.Repeat("密码", 5):       "",
		strings.Repeat("ab", 64):      "",
		strings.Repeat("ab", 64) + "": "",
	} {
		err := signin.CheckPassword("clerk-b", pw)
		if want == "" {
			assert.NoError(t, err, pw)
			continue
		}
		var fe *fault.Error
		require.ErrorAs(t, err, &fe, pw)
		require.Len(t, fe.Violations, 1)
		assert.Equal(t, want, fe.Violations[0].Reason, pw)
		assert.NotEmpty(t, fe.Violations[0].ZH)
	}
	err = signin.CheckPassword("long-username-x", "LONG-USERNAME-X")
	var fe *fault.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, signin.ReasonPasswordIsUsername, fe.Violations[0].Reason)
	requireFault(t, f.svc.SetPassword(ctx, f.operator, "ghost", goodPassword), fault.NotFound, "PRINCIPAL_NOT_FOUND")

	// The stored hash is argon2id with a fresh salt, at the cost new
	// hashes are made at (lowered here; TestProductionCostIsOWASP).
	require.NoError(t, f.svc.SetPassword(ctx, f.operator, "clerk-b", goodPassword))
	var hash string
	require.NoError(t, f.st.SignIn().Read(ctx, func(r signin.Reader) error {
		pw, err := r.Password(ctx, f.clerkB.ID)
		hash = pw.Hash
		return err
	}))
	assert.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$"), hash)
	assert.NotContains(t, hash, goodPassword)
	other, err := signin.HashPassword(goodPassword)
	require.NoError(t, err)
	assert.NotEqual(t, hash, other, "salted")

	// The user changes it: other sessions end, this one stays.
	a, err := f.svc.SignIn(ctx, "clerk-b", goodPassword, "")
	require.NoError(t, err)
	b, err := f.svc.SignIn(ctx, "clerk-b", goodPassword, "")
	require.NoError(t, err)
	requireFault(t, f.svc.ChangePassword(ctx, a.Token, "not the old one", "a new password 1"),
		fault.Invalid, "INVALID_ARGUMENT")
	err = f.svc.ChangePassword(ctx, a.Token, "not the old one", "a new password 1")
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, signin.ReasonPasswordWrong, fe.Violations[0].Reason)
	requireFault(t, f.svc.ChangePassword(ctx, a.Token, goodPassword, "short"), fault.Invalid, "INVALID_ARGUMENT")
	require.NoError(t, f.svc.ChangePassword(ctx, a.Token, goodPassword, "a new password 1"))
	s, _, err := f.svc.Session(ctx, a.Token)
	require.NoError(t, err)
	assert.False(t, s.MustChangePassword)
	_, _, err = f.svc.Session(ctx, b.Token)
	requireFault(t, err, fault.Unauthenticated, signin.ReasonSessionUnknown)
	_, err = f.svc.SignIn(ctx, "clerk-b", goodPassword, "")
	requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	_, err = f.svc.SignIn(ctx, "clerk-b", "a new password 1", "")
	require.NoError(t, err)

	// An operator's reset ends every session and asks for a change again.
	require.NoError(t, f.svc.SetPassword(ctx, f.operator, "clerk-b", "reset password 2"))
	_, _, err = f.svc.Session(ctx, a.Token)
	requireFault(t, err, fault.Unauthenticated, signin.ReasonSessionUnknown)

	log := auditLog(t, f.st)
	assert.Equal(t, 3, count(log, signin.ActionPasswordSet), "clerk-a in setup, clerk-b twice")
	assert.Equal(t, 1, count(log, signin.ActionPasswordChange))
	for _, e := range log {
		assert.NotContains(t, e, "a new password")
		assert.NotContains(t, e, "argon2")
	}
}

func testCodes(t *testing.T, f *fixture) {
	ctx := context.Background()
	h1 := f.household(t, villageA, 1)
	h2 := f.household(t, villageA, 2)
	hB := f.household(t, villageB, 3)

	// Only a clerk of the household's village issues its code.
	_, _, err := f.svc.IssueCode(ctx, f.clerkB, villageA, h1)
	requireFault(t, err, fault.PermissionDenied, "OUT_OF_SCOPE")
	_, _, err = f.svc.IssueCode(ctx, f.clerkA, villageA, hB)
	requireFault(t, err, fault.NotFound, "HOUSEHOLD_NOT_FOUND")
	_, _, err = f.svc.IssueCode(ctx, f.operator, villageA, h1)
	requireFault(t, err, fault.PermissionDenied, "ROLE_NOT_ALLOWED")

	code1, hp1, err := f.svc.IssueCode(ctx, f.clerkA, villageA, h1)
	require.NoError(t, err)
	assert.Regexp(t, `^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$`, code1)
	assert.Equal(t, access.Household, hp1.Role)
	assert.Equal(t, h1, hp1.Scope.Household)
	code2, hp2, err := f.svc.IssueCode(ctx, f.clerkA, villageA, h2)
	require.NoError(t, err)
	assert.NotEqual(t, hp1.ID, hp2.ID)

	// A code signs in as its own household, never another's; case and
	// separators do not matter.
	in, err := f.svc.SignInCode(ctx, strings.ToLower(strings.ReplaceAll(code1, "-", " ")), "192.0.2.20")
	require.NoError(t, err)
	assert.Equal(t, hp1.ID, in.Principal.ID)
	assert.Equal(t, h1, in.Principal.Scope.Household)
	assert.Equal(t, villageA, in.Session.Village)
	require.NoError(t, access.Authorise(in.Principal, access.HouseholdRead, access.Target{Village: villageA, Household: h1}))
	assert.Error(t, access.Authorise(in.Principal, access.HouseholdRead, access.Target{Village: villageA, Household: h2}))
	in2, err := f.svc.SignInCode(ctx, code2, "")
	require.NoError(t, err)
	assert.Equal(t, h2, in2.Principal.Scope.Household)

	// A household principal has no password to sign in with.
	_, err = f.svc.SignIn(ctx, hp1.Name, "whatever it is", "")
	requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)

	// Issuing again revokes the old code and ends its sessions; the same
	// principal stays.
	code1b, hp1b, err := f.svc.IssueCode(ctx, f.clerkA, villageA, h1)
	require.NoError(t, err)
	assert.Equal(t, hp1.ID, hp1b.ID)
	_, err = f.svc.SignInCode(ctx, code1, "")
	requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	_, _, err = f.svc.Session(ctx, in.Token)
	requireFault(t, err, fault.Unauthenticated, signin.ReasonSessionUnknown)
	_, err = f.svc.SignInCode(ctx, code1b, "")
	require.NoError(t, err)

	// Revoked: the code no longer works; revoking again records nothing.
	require.NoError(t, f.svc.RevokeCode(ctx, f.clerkA, villageA, h1))
	require.NoError(t, f.svc.RevokeCode(ctx, f.clerkA, villageA, h1))
	requireFault(t, f.svc.RevokeCode(ctx, f.clerkB, villageA, h1), fault.PermissionDenied, "OUT_OF_SCOPE")
	_, err = f.svc.SignInCode(ctx, code1b, "")
	requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	// The other household is untouched.
	_, _, err = f.svc.Session(ctx, in2.Token)
	require.NoError(t, err)

	// Malformed and guessed codes fail alike; guesses are throttled per
	// address.
	_, err = f.svc.SignInCode(ctx, "not a code", "")
	requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	for i := range 5 {
		guess := strings.Repeat(string("23456"[i]), 16)
		_, err := f.svc.SignInCode(ctx, guess, "203.0.113.9")
		requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	}
	_, err = f.svc.SignInCode(ctx, code2, "203.0.113.9")
	requireFault(t, err, fault.ResourceExhausted, signin.ReasonThrottled)
	// ... and per code prefix, whatever the address.
	prefix := code2[:4]
	for i := range 5 {
		_, err := f.svc.SignInCode(ctx, prefix+strings.Repeat("Z", 11)+string("23456"[i]), "203.0.113."+string(rune('a'+i)))
		requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)
	}
	_, err = f.svc.SignInCode(ctx, code2, "")
	requireFault(t, err, fault.ResourceExhausted, signin.ReasonThrottled)

	// A revoked household principal cannot sign in with its code.
	f.clk.add(signin.LockoutTime)
	require.NoError(t, f.st.Principals().RevokePrincipal(ctx, hp2.Name, f.clk.now()))
	_, err = f.svc.SignInCode(ctx, code2, "")
	requireFault(t, err, fault.Unauthenticated, signin.ReasonFailed)

	log := auditLog(t, f.st)
	assert.Equal(t, 3, count(log, signin.ActionCodeIssue))
	assert.Equal(t, 1, count(log, signin.ActionCodeRevoke))
	for _, e := range log {
		for _, c := range []string{code1, code2, code1b} {
			assert.NotContains(t, e, c)
			n, _ := signin.NormaliseCode(c)
			assert.NotContains(t, e, n)
		}
	}
}

func TestCodeFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := signin.NewCode()
		require.NoError(t, err)
		n, ok := signin.NormaliseCode(c)
		require.True(t, ok, c)
		assert.Len(t, n, signin.CodeLen)
		assert.NotContains(t, n, "0")
		assert.NotContains(t, n, "O")
		assert.NotContains(t, n, "1")
		assert.NotContains(t, n, "I")
		assert.False(t, seen[n])
		seen[n] = true
	}
	_, ok := signin.NormaliseCode("K7QD-M2XP-9HTA-WF3")
	assert.False(t, ok, "too short")
	_, ok = signin.NormaliseCode("K7QD-M2XP-9HTA-WF30")
	assert.False(t, ok, "0 is no symbol")
}

func TestPasswordHash(t *testing.T) {
	h, err := signin.HashPassword("pässwörd 密码")
	require.NoError(t, err)
	ok, err := signin.VerifyPassword(h, "pässwörd 密码")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = signin.VerifyPassword(h, "pässwörd 密碼")
	require.NoError(t, err)
	assert.False(t, ok)
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "plain"} {
		_, err := signin.VerifyPassword(bad, "x")
		assert.Error(t, err, bad)
	}
}
