package rpc_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/simrun"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// simPopulation registers six households in village A and two in village
// B, each with its own head's name, and stores the example policy as the
// active version 1 and, as draft version 2, the same policy with a
// knock-out that fires for everyone: every household eligible under 1
// loses its line under 2.
type simPopulation struct {
	names, heads []string
	product      string
}

func newSimPopulation(t *testing.T, e *env) simPopulation {
	t.Helper()
	e.noonTomorrow()
	activateCounty(t, e)
	heads := []string{"沈建国", "王秀英", "李明华", "张德福", "陈桂兰", "周永康", "吴晓梅", "郑国强"}
	var sp simPopulation
	for i, head := range heads {
		village, clerk := villageA, "clerk-a"
		if i >= 6 {
			village, clerk = villageB, "clerk-b"
		}
		req := validCreate(t, village)
		req.Household.HeadName = head
		h, err := e.client.CreateHousehold(e.as(clerk), req)
		require.NoError(t, err)
		sp.names, sp.heads = append(sp.names, h.Name), append(sp.heads, head)
	}
	sp.product = "banks/tongxiang-rcb/products/sanzhi-xindai"
	v1, err := e.policies.UploadPolicy(e.as("risk-1"), &sanzhiv1.UploadPolicyRequest{Parent: sp.product, Document: policyDoc(t, 1)})
	require.NoError(t, err)
	_, err = e.policies.ApprovePolicy(e.as("risk-2"), &sanzhiv1.ApprovePolicyRequest{Name: v1.Name})
	require.NoError(t, err)
	_, err = e.policies.ActivatePolicy(e.as("risk-1"), &sanzhiv1.ActivatePolicyRequest{Name: v1.Name})
	require.NoError(t, err)
	doc := strings.Replace(policyDoc(t, 2), "when: applicant.age < 18 or applicant.age > 65", "when: applicant.age >= 0", 1)
	require.NotEqual(t, policyDoc(t, 2), doc)
	_, err = e.policies.UploadPolicy(e.as("risk-2"), &sanzhiv1.UploadPolicyRequest{Parent: sp.product, Document: doc})
	require.NoError(t, err)
	return sp
}

func (sp simPopulation) req(format sanzhiv1.SimulationFormat) *sanzhiv1.SimulatePolicyRequest {
	return &sanzhiv1.SimulatePolicyRequest{Name: sp.product + "/policies/2", Against: sp.product + "/policies/active",
		Format: format, Language: "en"}
}

var simFormats = []sanzhiv1.SimulationFormat{sanzhiv1.SimulationFormat_SIMULATION_FORMAT_TABLE,
	sanzhiv1.SimulationFormat_SIMULATION_FORMAT_CSV, sanzhiv1.SimulationFormat_SIMULATION_FORMAT_HTML}

// A bank's risk manager simulating its policy over the county learns
// aggregates only: no household's name, id, grade or limit, and no
// by-village cell of fewer than five households.
func TestSimulationBankSeesAggregatesOnly(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		sp := newSimPopulation(t, e)
		for _, f := range simFormats {
			res, err := e.policies.SimulatePolicy(e.as("risk-1"), sp.req(f))
			require.NoError(t, err, f)
			assert.Equal(t, int32(8), res.Households)
			require.Positive(t, res.Lost, "the draft knocks every eligible household out")
			for i, name := range sp.names {
				_, id, err := household.ParseName(name, "")
				require.NoError(t, err)
				assert.NotContains(t, res.Report, id, "%s: household id in a bank's report", f)
				assert.NotContains(t, res.Report, sp.heads[i], "%s: head name in a bank's report", f)
				assert.NotContains(t, res.Report, simulate.MaskName(sp.heads[i]), "%s: even masked", f)
			}
			// Village B's two households would be recoverable from the
			// total: they are pooled with village A.
			assert.NotContains(t, res.Report, villageB, f)
			assert.NotContains(t, res.Report, villageA, f)
			assert.Contains(t, res.Report, map[bool]string{true: "pooled:2", false: simulate.PooledLabel(true)}[f == sanzhiv1.SimulationFormat_SIMULATION_FORMAT_CSV], f)
		}
	})
}

// A regulator gets the sample rows, masked: the household's id and the
// head's masked name, never the name itself.
func TestSimulationRegulatorSeesMaskedRows(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		sp := newSimPopulation(t, e)
		res, err := e.policies.SimulatePolicy(e.as("regulator"), sp.req(sanzhiv1.SimulationFormat_SIMULATION_FORMAT_CSV))
		require.NoError(t, err)
		require.Positive(t, res.Lost)
		listed := 0
		for i, name := range sp.names {
			assert.NotContains(t, res.Report, sp.heads[i])
			if strings.Contains(res.Report, name) {
				listed++
				assert.Contains(t, res.Report, simulate.MaskName(sp.heads[i]))
			}
		}
		assert.Equal(t, int(res.Lost), listed, "every household losing its line is listed, masked")
		assert.Contains(t, res.Report, villageB, "a regulator's by-village table is not pooled")
	})
}

// Each run appends exactly one audit entry before the output is returned:
// who, which versions, how many households and the SHA-256 of the output.
func TestSimulationIsAudited(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		sp := newSimPopulation(t, e)
		ctx := context.Background()
		before, err := e.log.Publish(ctx)
		require.NoError(t, err)
		res, err := e.policies.SimulatePolicy(e.as("risk-1"), sp.req(sanzhiv1.SimulationFormat_SIMULATION_FORMAT_TABLE))
		require.NoError(t, err)
		after, err := e.log.Publish(ctx)
		require.NoError(t, err)
		require.Equal(t, before.Size+1, after.Size, "one entry per simulation")
		p, err := e.log.Entry(ctx, after.Size-1, after.Size)
		require.NoError(t, err)
		sum := sha256.Sum256([]byte(res.Report))
		assert.Equal(t, policies.ActionSimulate, p.Entry.Action)
		assert.Equal(t, e.ids["risk-1"], p.Entry.Actor)
		assert.Equal(t, sp.product+"/policies/2", p.Entry.Subject)
		assert.Equal(t, hex.EncodeToString(sum[:]), p.Entry.ResultHash)
		assert.Equal(t, hex.EncodeToString(sum[:]), p.Entry.Payload["output_sha256"])
		assert.Equal(t, "8", p.Entry.Payload["households"])
		assert.Equal(t, "aggregate", p.Entry.Payload["view"])
		assert.Equal(t, sp.product+"/policies/active", p.Entry.Payload["against"])
		assert.Len(t, p.Entry.Payload["content_hash"], 64)
		assert.Len(t, p.Entry.Payload["against_hash"], 64)
		for _, h := range sp.heads {
			assert.NotContains(t, string(p.Leaf.Data), h)
		}
	})
}

// One simulation per bank at a time; a selection too small to aggregate
// is refused for a bank; neither refusal writes anything.
func TestSimulationLimits(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		sp := newSimPopulation(t, e)
		release, ok := simrun.TryAcquire(st, "tongxiang-rcb")
		require.True(t, ok)
		before := snapshot(t, e)
		_, err := e.policies.SimulatePolicy(e.as("risk-1"), sp.req(0))
		requireCode(t, err, codes.FailedPrecondition, "", "")
		assert.Equal(t, simrun.ReasonRunning, reasonOf(err))
		_, err = e.policies.SimulatePolicy(e.as("regulator"), sp.req(0))
		assert.Equal(t, simrun.ReasonRunning, reasonOf(err), "the slot is the bank's, whoever asks")
		small := sp.req(0)
		small.Villages = []string{villageB}
		_, err = e.policies.SimulatePolicy(e.as("risk-2"), small)
		assert.Equal(t, simrun.ReasonRunning, reasonOf(err), "checked before anything else")
		assert.Equal(t, before, snapshot(t, e), "a refused simulation writes nothing")
		release()
		release() // twice is harmless
		_, err = e.policies.SimulatePolicy(e.as("risk-1"), sp.req(0))
		require.NoError(t, err, "free again once the first has ended")
	})
}

// A selection of fewer than five households is refused for a bank (its
// totals would be those households' limits); a regulator may run it.
func TestSimulationTooSmall(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		sp := newSimPopulation(t, e)
		small := sp.req(0)
		small.Villages = []string{villageB}
		before := snapshot(t, e)
		_, err := e.policies.SimulatePolicy(e.as("risk-1"), small)
		requireCode(t, err, codes.FailedPrecondition, "", "")
		assert.Equal(t, simrun.ReasonTooSmall, reasonOf(err))
		assert.Equal(t, before, snapshot(t, e))
		res, err := e.policies.SimulatePolicy(e.as("regulator"), small)
		require.NoError(t, err)
		assert.Equal(t, int32(2), res.Households)
	})
}

// A simulation stops reading the population when its caller goes away,
// and leaves no audit entry.
func TestSimulationCancelled(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		sp := newSimPopulation(t, e)
		pols := policies.NewService(st.Policies(), nil, e.clock.Now)
		load := func(n int) *rules.Policy {
			v, err := pols.Get(context.Background(), sp.product+"/policies/"+strconv.Itoa(n))
			require.NoError(t, err)
			p, err := rules.Parse([]byte(v.Document), nil)
			require.NoError(t, err)
			return p
		}
		p := &access.Principal{ID: e.ids["risk-1"], Role: access.BankRisk, Scope: access.Scope{Bank: "tongxiang-rcb"}}
		now := e.clock.Now()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var seen atomic.Int32
		before := snapshot(t, e)
		_, _, err := simrun.Simulate(ctx, st, pols, simrun.Job{
			Principal: p,
			Run: simrun.Run{New: load(2), Base: load(1), Day: household.Today(now), Keyring: e.keyring,
				Catalogues: e.cats2, Now: now, Workers: 1},
			Query:    sqlstore.PopulationQuery{PageSize: 1},
			Record:   policies.Simulation{Bank: "tongxiang-rcb", Product: "sanzhi-xindai", Version: 2},
			Render:   func(*simulate.Report) ([]byte, error) { return []byte("x"), nil },
			Progress: func() { seen.Add(1); cancel() }, // the caller goes away after the first household
		})
		require.Error(t, err)
		assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
		assert.Less(t, int(seen.Load()), len(sp.names), "the scan stopped before the end of the population")
		assert.Equal(t, before, snapshot(t, e), "a cancelled simulation writes nothing")
		// And the bank's slot is free again.
		release, ok := simrun.TryAcquire(st, "tongxiang-rcb")
		require.True(t, ok)
		release()
	})
}
