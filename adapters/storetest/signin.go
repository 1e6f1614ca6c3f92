package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/signin"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// testSignIn holds the sign-in port: passwords, sessions, household codes
// (one live per household), the household principal, failure counters,
// and that a failed transaction keeps none of it.
func testSignIn(t *testing.T, s Store) {
	ctx := context.Background()
	st := s.SignIn()
	clerk := &access.Principal{ID: uuid.NewString(), Name: "clerk-a", Role: access.VillageClerk,
		Scope: access.Scope{Villages: []string{villageA}}, CreateTime: base}
	require.NoError(t, s.Principals().CreatePrincipal(ctx, clerk, []byte("hash-clerk")))
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	write := func(fn func(signin.Writer) error) { t.Helper(); require.NoError(t, st.Write(ctx, fn)) }

	// Principals: by id and name; a household principal without a key.
	hp := &access.Principal{ID: uuid.NewString(), Name: "household-" + h.ID, Role: access.Household,
		Scope: access.Scope{Household: h.ID}, CreateTime: base}
	hp2 := &access.Principal{ID: uuid.NewString(), Name: "household-2", Role: access.Household,
		Scope: access.Scope{Household: uuid.NewString()}, CreateTime: base}
	write(func(w signin.Writer) error {
		_, err := w.HouseholdPrincipal(ctx, h.ID)
		assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
		if err := w.InsertPrincipal(ctx, hp); err != nil {
			return err
		}
		return w.InsertPrincipal(ctx, hp2) // two without a key: NULL is not unique
	})
	// (A failed statement ends a PostgreSQL transaction: its own.)
	err := st.Write(ctx, func(w signin.Writer) error {
		return w.InsertPrincipal(ctx, &access.Principal{ID: uuid.NewString(), Name: hp.Name, Role: access.Household,
			Scope: access.Scope{Household: h.ID}, CreateTime: base})
	})
	assert.True(t, fault.Is(err, fault.AlreadyExists), "taken name, got %v", err)
	require.NoError(t, st.Read(ctx, func(r signin.Reader) error {
		got, err := r.HouseholdPrincipal(ctx, h.ID)
		require.NoError(t, err)
		assert.Equal(t, hp.ID, got.ID)
		got, err = r.PrincipalByID(ctx, clerk.ID)
		require.NoError(t, err)
		assert.Equal(t, "clerk-a", got.Name)
		got, err = r.PrincipalByName(ctx, "clerk-a")
		require.NoError(t, err)
		assert.Equal(t, clerk.ID, got.ID)
		_, err = r.PrincipalByID(ctx, "ghost")
		assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
		assert.NoError(t, r.HouseholdInVillage(ctx, villageA, h.ID))
		assert.True(t, fault.Is(r.HouseholdInVillage(ctx, villageB, h.ID), fault.NotFound), "another village's household")
		return nil
	}))
	require.NoError(t, s.Principals().RevokePrincipal(ctx, hp.Name, base.Add(time.Minute)))
	require.NoError(t, st.Read(ctx, func(r signin.Reader) error {
		_, err := r.HouseholdPrincipal(ctx, h.ID)
		assert.True(t, fault.Is(err, fault.NotFound), "a revoked household principal is not the household's, got %v", err)
		return nil
	}))

	// Passwords: none, then set, then replaced.
	write(func(w signin.Writer) error {
		_, err := w.Password(ctx, clerk.ID)
		assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
		if err := w.PutPassword(ctx, &signin.Password{PrincipalID: clerk.ID, Hash: "$h1", MustChange: true, SetBy: "op", SetTime: base}); err != nil {
			return err
		}
		return w.PutPassword(ctx, &signin.Password{PrincipalID: clerk.ID, Hash: "$h2", MustChange: false, SetBy: clerk.ID, SetTime: base.Add(time.Second)})
	})
	require.NoError(t, st.Read(ctx, func(r signin.Reader) error {
		pw, err := r.Password(ctx, clerk.ID)
		require.NoError(t, err)
		assert.Equal(t, "$h2", pw.Hash)
		assert.False(t, pw.MustChange)
		assert.Equal(t, clerk.ID, pw.SetBy)
		assert.True(t, base.Add(time.Second).Equal(pw.SetTime))
		return nil
	}))

	// Sessions: stored by token hash; touch; revoke one, revoke all but one.
	sess := func(id string) *signin.Session {
		return &signin.Session{ID: id, PrincipalID: clerk.ID, CSRF: "csrf-" + id, Village: "", ClientAddr: "192.0.2.1",
			CreateTime: base, LastSeen: base, ExpireTime: base.Add(signin.AbsoluteTimeout)}
	}
	write(func(w signin.Writer) error {
		for _, id := range []string{"s1", "s2", "s3"} {
			if err := w.InsertSession(ctx, sess(id), []byte("tok-"+id)); err != nil {
				return err
			}
		}
		return w.TouchSession(ctx, "s1", base.Add(2*time.Minute))
	})
	require.NoError(t, st.Read(ctx, func(r signin.Reader) error {
		got, err := r.SessionByHash(ctx, []byte("tok-s1"))
		require.NoError(t, err)
		assert.Equal(t, "s1", got.ID)
		assert.Equal(t, "csrf-s1", got.CSRF)
		assert.Equal(t, "192.0.2.1", got.ClientAddr)
		assert.True(t, base.Add(2*time.Minute).Equal(got.LastSeen))
		assert.True(t, base.Add(signin.AbsoluteTimeout).Equal(got.ExpireTime))
		assert.Nil(t, got.RevokeTime)
		_, err = r.SessionByHash(ctx, []byte("nope"))
		assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
		return nil
	}))
	end := base.Add(time.Hour)
	write(func(w signin.Writer) error {
		ok, err := w.RevokeSession(ctx, "s2", end)
		require.NoError(t, err)
		assert.True(t, ok)
		ok, err = w.RevokeSession(ctx, "s2", end.Add(time.Hour))
		require.NoError(t, err)
		assert.False(t, ok, "revoking twice")
		n, err := w.RevokeSessionsOf(ctx, clerk.ID, "s1", end.Add(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, 1, n, "s3 only: s1 is kept, s2 was revoked")
		return nil
	})
	require.NoError(t, st.Read(ctx, func(r signin.Reader) error {
		for id, want := range map[string]*time.Time{"s1": nil, "s2": &end} {
			got, err := r.SessionByHash(ctx, []byte("tok-"+id))
			require.NoError(t, err)
			if want == nil {
				assert.Nil(t, got.RevokeTime, id)
			} else {
				require.NotNil(t, got.RevokeTime, id)
				assert.True(t, want.Equal(*got.RevokeTime), "%s keeps its first revoke time", id)
			}
		}
		return nil
	}))

	// Codes: one live per household; revoke; look up revoked.
	code := func(hash string) *signin.HouseholdCode {
		return &signin.HouseholdCode{Hash: []byte(hash), Household: h.ID, Village: villageA, PrincipalID: hp.ID,
			IssuedBy: clerk.ID, IssueTime: base}
	}
	write(func(w signin.Writer) error { return w.InsertCode(ctx, code("c1")) })
	err = st.Write(ctx, func(w signin.Writer) error { return w.InsertCode(ctx, code("c2")) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "a second live code, got %v", err)
	write(func(w signin.Writer) error {
		n, err := w.RevokeCodes(ctx, h.ID, end)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		return w.InsertCode(ctx, code("c2"))
	})
	require.NoError(t, st.Read(ctx, func(r signin.Reader) error {
		c, err := r.CodeByHash(ctx, []byte("c1"))
		require.NoError(t, err)
		require.NotNil(t, c.RevokeTime)
		assert.Equal(t, villageA, c.Village)
		assert.Equal(t, hp.ID, c.PrincipalID)
		c, err = r.CodeByHash(ctx, []byte("c2"))
		require.NoError(t, err)
		assert.Nil(t, c.RevokeTime)
		assert.True(t, base.Equal(c.IssueTime))
		_, err = r.CodeByHash(ctx, []byte("c3"))
		assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
		return nil
	}))

	// Throttle: zero when absent, put, replace, clear.
	write(func(w signin.Writer) error {
		th, err := w.Throttle(ctx, "user:x")
		require.NoError(t, err)
		assert.Equal(t, signin.Throttle{Key: "user:x"}, th)
		if err := w.PutThrottle(ctx, signin.Throttle{Key: "user:x", Failures: 1, WindowStart: base, LockedUntil: time.Time{}}); err != nil {
			return err
		}
		return w.PutThrottle(ctx, signin.Throttle{Key: "user:x", Failures: 4, WindowStart: base, LockedUntil: end})
	})
	require.NoError(t, st.Read(ctx, func(r signin.Reader) error {
		th, err := r.Throttle(ctx, "user:x")
		require.NoError(t, err)
		assert.Equal(t, 4, th.Failures)
		assert.True(t, base.Equal(th.WindowStart))
		assert.True(t, end.Equal(th.LockedUntil))
		return nil
	}))
	write(func(w signin.Writer) error { return w.ClearThrottle(ctx, "user:x") })

	// A failed transaction keeps nothing, its audit record included.
	before, err := s.QueueLength(ctx)
	require.NoError(t, err)
	boom := errors.New("boom")
	err = st.Write(ctx, func(w signin.Writer) error {
		if err := w.PutThrottle(ctx, signin.Throttle{Key: "user:y", Failures: 1, WindowStart: base}); err != nil {
			return err
		}
		if err := w.Record(ctx, audit.Record{Time: base, Actor: "anonymous", Action: signin.ActionFailure, Subject: "signin"}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.NoError(t, st.Read(ctx, func(r signin.Reader) error {
		th, err := r.Throttle(ctx, "user:x")
		require.NoError(t, err)
		assert.Zero(t, th.Failures, "cleared")
		th, err = r.Throttle(ctx, "user:y")
		require.NoError(t, err)
		assert.Zero(t, th.Failures, "rolled back")
		return nil
	}))
	after, err := s.QueueLength(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}
