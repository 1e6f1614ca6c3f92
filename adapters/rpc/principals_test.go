package rpc_test

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/principals"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// Creating, revoking and re-keying a principal each commit with exactly
// one audit entry (who, which principal, its role and scope; never the key
// or its hash); only an operator may do any of them.
func TestPrincipalChangesAreAudited(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		svc := principals.NewService(st.PrincipalAdmin(), access.NewKeyAndHash, e.clock.Now)
		op, err := st.Principals().PrincipalByName(ctx, "operator")
		require.NoError(t, err)
		with := func(key string) context.Context {
			return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
		}
		// The last entry appended since before, which must be exactly one.
		one := func(before uint64, action, subject string) {
			t.Helper()
			cp, err := e.log.Publish(ctx)
			require.NoError(t, err)
			require.Equal(t, before+1, cp.Size, "%s appends exactly one entry", action)
			p, err := e.log.Entry(ctx, cp.Size-1, cp.Size)
			require.NoError(t, err)
			assert.Equal(t, action, p.Entry.Action)
			assert.Equal(t, subject, p.Entry.Subject)
			assert.Equal(t, op.ID, p.Entry.Actor)
			assert.Equal(t, "clerk-new", p.Entry.Payload["name"])
			assert.Equal(t, villageA, p.Entry.Payload["scope_villages"])
		}
		size := func() uint64 {
			cp, err := e.log.Publish(ctx)
			require.NoError(t, err)
			return cp.Size
		}

		// Nobody but an operator.
		for _, who := range []string{"clerk-a", "risk-1", "regulator"} {
			actor, err := st.Principals().PrincipalByName(ctx, who)
			require.NoError(t, err)
			s0 := size()
			_, err = svc.Create(ctx, actor, &access.Principal{ID: uuid.NewString(), Name: "sneaky-" + who, Role: access.Regulator})
			assert.True(t, fault.Is(err, fault.PermissionDenied), "%s creates: %v", who, err)
			_, err = svc.Revoke(ctx, actor, "clerk-b")
			assert.True(t, fault.Is(err, fault.PermissionDenied), "%s revokes: %v", who, err)
			_, err = svc.Rekey(ctx, actor, "clerk-b")
			assert.True(t, fault.Is(err, fault.PermissionDenied), "%s re-keys: %v", who, err)
			assert.Equal(t, s0, size(), "a refusal writes nothing")
		}

		s0 := size()
		p := &access.Principal{ID: uuid.NewString(), Name: "clerk-new", Role: access.VillageClerk, Scope: access.Scope{Villages: []string{villageA}}}
		key, err := svc.Create(ctx, op, p)
		require.NoError(t, err)
		one(s0, principals.ActionCreate, "principals/"+p.ID)
		cp, _ := e.log.Publish(ctx)
		leaf, err := e.log.Entry(ctx, cp.Size-1, cp.Size)
		require.NoError(t, err)
		assert.NotContains(t, string(leaf.Leaf.Data), key)
		assert.NotContains(t, string(leaf.Leaf.Data), hex.EncodeToString(access.HashKey(key)))
		_, err = e.client.ListHouseholds(with(key), &sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + villageA})
		require.NoError(t, err, "the new key works")

		s0 = size()
		newKey, err := svc.Rekey(ctx, op, "clerk-new")
		require.NoError(t, err)
		require.NotEqual(t, key, newKey)
		one(s0, principals.ActionRekey, "principals/"+p.ID)
		_, err = e.client.ListHouseholds(with(newKey), &sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + villageA})
		require.NoError(t, err, "the new key works")
		got, err := st.Principals().PrincipalByKey(ctx, access.HashKey(key))
		assert.True(t, fault.Is(err, fault.NotFound), "the old key is gone: %v %v", got, err)

		s0 = size()
		_, err = svc.Revoke(ctx, op, "clerk-new")
		require.NoError(t, err)
		one(s0, principals.ActionRevoke, "principals/"+p.ID)
		s0 = size()
		_, err = svc.Revoke(ctx, op, "clerk-new")
		require.NoError(t, err, "revoking twice is harmless")
		_, err = svc.Rekey(ctx, op, "clerk-new")
		assert.True(t, fault.Is(err, fault.FailedPrecondition), "a revoked principal is not re-keyed: %v", err)
		assert.Equal(t, s0, size(), "and neither writes")
		// (The server's authenticator caches a key for seconds: the store
		// is where revocation and re-keying take effect at once.)
		rp, err := st.Principals().PrincipalByKey(ctx, access.HashKey(newKey))
		require.NoError(t, err)
		assert.False(t, rp.Active())

		// The audit API shows principal changes to operators, not to banks.
		list, err := e.audit.ListEntries(e.as("operator-2"), &sanzhiv1.ListEntriesRequest{Subject: "principals/" + p.ID})
		require.NoError(t, err)
		assert.Len(t, list.Entries, 3)
		list, err = e.audit.ListEntries(e.as("risk-1"), &sanzhiv1.ListEntriesRequest{Subject: "principals/" + p.ID})
		require.NoError(t, err)
		assert.Empty(t, list.Entries)
	})
}
