package rpc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// A clerk who types a 身份证号 that heads a household in another village
// learns only that the person cannot be registered here: not that the
// person is registered, not where, not as which household. In the clerk's
// own villages the answer names the household, which the clerk may read.
func TestHeadRegisteredElsewhereIsNotRevealed(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		e.addPrincipal(t, "clerk-ab", access.VillageClerk, access.Scope{Villages: []string{villageA, villageB}}, false)
		inB := validCreate(t, villageB)
		hB, err := e.client.CreateHousehold(e.as("clerk-b"), inB)
		require.NoError(t, err)
		_, idB, err := household.ParseName(hB.Name, "")
		require.NoError(t, err)

		// Clerk A tries the same head in village A.
		again := validCreate(t, villageA)
		again.Household.HeadIdNumber = inB.Household.HeadIdNumber
		before := snapshot(t, e)
		_, err = e.client.CreateHousehold(e.as("clerk-a"), again)
		requireCode(t, err, codes.FailedPrecondition, "", "")
		assert.Equal(t, "HEAD_NOT_REGISTRABLE", reasonOf(err))
		msg := status.Convert(err).Message()
		for _, leak := range []string{villageB, idB, hB.HeadIdNumberMasked, inB.Household.HeadIdNumber[14:], "already", "registered in", "已登记"} {
			assert.NotContains(t, msg, leak)
		}
		assert.Contains(t, msg, "county")
		assert.Equal(t, before, snapshot(t, e), "the refusal writes nothing")

		// A clerk of both villages, and village B's own clerk, are told
		// which household it is.
		for _, who := range []string{"clerk-ab", "clerk-b"} {
			dup := validCreate(t, villageB)
			dup.Household.HeadIdNumber = inB.Household.HeadIdNumber
			_, err = e.client.CreateHousehold(e.as(who), dup)
			requireCode(t, err, codes.AlreadyExists, "", "")
			assert.Equal(t, "HEAD_ALREADY_REGISTERED", reasonOf(err))
			assert.Contains(t, status.Convert(err).Message(), hB.Name)
		}
		// clerk-ab registering in village A: the head's household is in
		// its scope, so it is named too.
		_, err = e.client.CreateHousehold(e.as("clerk-ab"), again)
		assert.Equal(t, "HEAD_ALREADY_REGISTERED", reasonOf(err))
	})
}
