package rekey_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/rekey"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/household"
)

const village = "330483102201"

var (
	clerk    = &access.Principal{ID: "clerk", Role: access.VillageClerk, Scope: access.Scope{Villages: []string{village}}}
	operator = &access.Principal{ID: "op", Name: "op", Role: access.Operator}
	banks    = []string{"tongxiang-rcb", "haining-rcb"}
)

// keys are a county's key material: the index secret and data keys k1
// and k2.
type keys struct{ index, k1, k2 []byte }

func newKeys() keys {
	k := keys{make([]byte, 32), make([]byte, 32), make([]byte, 32)}
	for _, b := range [][]byte{k.index, k.k1, k.k2} {
		_, _ = rand.Read(b)
	}
	return k
}

// ring builds a keyring of the named keys, in order.
func (k keys) ring(t *testing.T, ids ...string) *pii.Keyring {
	t.Helper()
	material := map[string][]byte{"k1": k.k1, "k2": k.k2}
	kr, err := pii.NewKeyring(k.index, ids[0], material[ids[0]])
	require.NoError(t, err)
	for _, id := range ids[1:] {
		kr, err = kr.WithDataKey(id, material[id])
		require.NoError(t, err)
	}
	return kr
}

// idNumber is a valid 身份证号, distinct for every n below 20000.
func idNumber(n int) string {
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n*37%20000)
	stem := fmt.Sprintf("330483%s%03d", birth.Format("20060102"), n%1000)
	check, err := idnum.CheckDigit(stem)
	if err != nil {
		panic(err)
	}
	return stem + string(check)
}

// person is a member as the county registered them.
type person struct {
	number             int32
	name, id, relation string
}

// numbered returns ps in h's member order with their numbers, matched by
// name (unique within a household).
func numbered(t *testing.T, h *household.Household, ps []person) []person {
	byName := map[string]person{}
	for _, p := range ps {
		byName[p.name] = p
	}
	out := make([]person, len(h.Members))
	for i, m := range h.Members {
		p, ok := byName[m.Name]
		if !ok {
			panic("no member named " + m.Name)
		}
		p.number = m.Number
		out[i] = p
	}
	return out
}

// county is households with members, in several facts versions, and
// webhook secrets (one bank's rotated, so with a previous secret), all
// sealed under k1.
type county struct {
	keys    keys
	members map[string][]person // by household id: the latest members, head first
	names   map[string]string   // by household id
	secrets map[string][2]string
}

func newCounty(t *testing.T, st *sqlstore.Store, households int) *county {
	t.Helper()
	ctx := context.Background()
	c := &county{keys: newKeys(), members: map[string][]person{}, names: map[string]string{}, secrets: map[string][2]string{}}
	kr := c.keys.ring(t, "k1")
	svc := household.NewService(st.Households(), pii.Sealer{Keyring: kr}, time.Now)
	for i := range households {
		head := person{name: fmt.Sprintf("户主%d", i), id: idNumber(3 * i), relation: "head"}
		in := []household.MemberInput{{Relation: "head", Labour: "labourer"}}
		ps := []person{head}
		for j := 1; j <= i%3; j++ {
			p := person{name: fmt.Sprintf("成员%d-%d", i, j), id: idNumber(3*i + j), relation: "child"}
			in = append(in, household.MemberInput{Name: p.name, Relation: "child", IDNumber: p.id, Labour: "student"})
			ps = append(ps, p)
		}
		h, err := svc.Create(ctx, clerk, household.CreateInput{Parent: "villages/" + village, HeadName: head.name,
			HeadIDNumber: head.id, Group: 1, Registered: "2020-01-01", RequestID: fmt.Sprintf("r%d", i), Facts: facts(1), Members: in})
		require.NoError(t, err)
		if i%4 == 0 { // a second facts version, members copied forward
			_, err = svc.Update(ctx, clerk, household.UpdateInput{Name: h.Name(), Paths: []string{"facts"}, Facts: facts(2)})
			require.NoError(t, err)
		}
		c.members[h.ID], c.names[h.ID] = numbered(t, h, ps), h.Name()
	}
	hooks := delivery.New(st.Webhooks(), kr, delivery.Config{AllowPrivateTargets: true})
	for i, bank := range banks {
		_, first, err := hooks.Set(ctx, operator, "banks/"+bank, "https://"+bank+".example/hook")
		require.NoError(t, err)
		c.secrets[bank] = [2]string{first}
		if i == 0 {
			_, second, err := hooks.Set(ctx, operator, "banks/"+bank, "https://"+bank+".example/hook2")
			require.NoError(t, err)
			c.secrets[bank] = [2]string{second, first}
		}
	}
	return c
}

func facts(n int) *household.FactsInput {
	return &household.FactsInput{Members: 6, Labourers: 3, AnnualIncome: fmt.Sprint(50000 + n), LandAreaMu: "2",
		CollectiveShares: "0", ExistingDebt: "0", Source: "村委会登记", AsOf: "2026-04-01"}
}

// total counts the county's sealed values.
func total(t *testing.T, st *sqlstore.Store) int64 {
	t.Helper()
	counts, err := st.SealedCounts(context.Background())
	require.NoError(t, err)
	var n int64
	for _, c := range counts {
		n += c.Values
	}
	return n
}

// readsTheSame checks that everything the county sealed opens with kr
// to what was sealed: every household's head and members through the
// household service, a look-up by the head's 身份证号 (the blind index),
// every stored member row of every version, and the webhook secrets.
func (c *county) readsTheSame(t *testing.T, st *sqlstore.Store, kr *pii.Keyring) {
	t.Helper()
	ctx := context.Background()
	sealer := pii.Sealer{Keyring: kr}
	svc := household.NewService(st.Households(), sealer, time.Now)
	for id, ps := range c.members {
		h, err := svc.Get(ctx, c.names[id])
		require.NoError(t, err)
		assert.Equal(t, ps[0].name, h.HeadName)
		head, err := sealer.Open(h.ID, h.HeadID)
		require.NoError(t, err)
		assert.Equal(t, ps[0].id, head.Raw())
		require.Len(t, h.Members, len(ps))
		for i, m := range h.Members {
			assert.Equal(t, ps[i].name, m.Name)
			pid, err := sealer.Open(h.ID, m.ID)
			require.NoError(t, err)
			assert.Equal(t, ps[i].id, pid.Raw())
		}
		found, err := svc.Lookup(ctx, "villages/"+village, ps[0].id)
		require.NoError(t, err, "the blind index still finds the household")
		assert.Equal(t, h.ID, found.ID)
	}
	for _, id := range kr.KeyIDs() {
		var after rekey.Ref
		for {
			batch, err := st.SealedBatch(ctx, rekey.Member, id, after, 100)
			require.NoError(t, err)
			if len(batch) == 0 {
				break
			}
			for _, v := range batch {
				_, err := kr.Open(v.Sealed, []byte(v.Ref.ID))
				require.NoError(t, err, "member %+v", v.Ref)
			}
			after = batch[len(batch)-1].Ref
		}
	}
	for bank, want := range c.secrets {
		var ep *delivery.Endpoint
		require.NoError(t, st.Webhooks().Read(ctx, func(tx delivery.Reader) error {
			var err error
			ep, err = tx.Endpoint(ctx, bank)
			return err
		}))
		got, err := kr.Open(ep.Secret, delivery.SecretContext(bank))
		require.NoError(t, err)
		assert.Equal(t, want[0], string(got))
		if want[1] != "" {
			require.NotNil(t, ep.Previous)
			got, err := kr.Open(*ep.Previous, delivery.SecretContext(bank))
			require.NoError(t, err)
			assert.Equal(t, want[1], string(got))
		}
	}
}

// record is an audit record as queued.
type record struct {
	actor, action, subject string
	payload                map[string]string
}

func queued(t *testing.T, st *sqlstore.Store) []record {
	t.Helper()
	var out []record
	require.NoError(t, st.Conn().ReadTx(context.Background(), func(q sqlstore.Querier) error {
		out = out[:0]
		rows, err := q.Query(context.Background(), `SELECT actor, action, subject, payload FROM audit_queue
			WHERE action LIKE 'data_key.%' ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r record
			var payload string
			if err := rows.Scan(&r.actor, &r.action, &r.subject, &payload); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(payload), &r.payload); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	}))
	return out
}

func TestRekeyCounty(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		c := newCounty(t, st, 12)
		kr := c.keys.ring(t, "k1", "k2")
		all := total(t, st)

		s, err := rekey.ReadStatus(ctx, st, kr)
		require.NoError(t, err)
		assert.Equal(t, "k2", s.Current)
		assert.Equal(t, all, s.Pending)
		assert.Equal(t, map[string]int64{"k1": all}, s.ByKey)
		assert.Empty(t, s.Unused, "k1 is in use and k2 is current")
		assert.Empty(t, s.Missing)

		var calls []rekey.Progress
		res, err := rekey.Run(ctx, st, kr, rekey.Options{BatchSize: 4, Actor: operator.ID, ActorName: operator.Name,
			Progress: func(p rekey.Progress) { calls = append(calls, p) }})
		require.NoError(t, err)
		assert.Equal(t, rekey.Result{To: "k2", From: []string{"k1"}, Resealed: all, Passes: 1}, res)
		require.NotEmpty(t, calls)
		assert.Equal(t, rekey.Progress{Done: all, Total: all}, calls[len(calls)-1])
		assert.Greater(t, len(calls), int(all/4), "batches of at most 4, one call each")

		s, err = rekey.ReadStatus(ctx, st, kr)
		require.NoError(t, err)
		assert.Equal(t, int64(0), s.Pending)
		assert.Equal(t, map[string]int64{"k2": all}, s.ByKey)
		assert.Equal(t, []string{"k1"}, s.Unused, "k1 can be retired")

		// k1 is no longer needed: a keyring without it reads everything.
		c.readsTheSame(t, st, c.keys.ring(t, "k2"))
		require.NoError(t, rekey.CheckKeys(ctx, st, c.keys.ring(t, "k2")))

		recs := queued(t, st)
		require.Len(t, recs, 2)
		assert.Equal(t, record{actor: "op", action: rekey.ActionStart, subject: "data-keys/k2", payload: map[string]string{
			"to": "k2", "from": "k1", "pending": fmt.Sprint(all), "batch_size": "4", "actor_name": "op"}}, recs[0])
		assert.Equal(t, record{actor: "op", action: rekey.ActionFinish, subject: "data-keys/k2", payload: map[string]string{
			"to": "k2", "outcome": "done", "resealed": fmt.Sprint(all), "skipped": "0", "remaining": "0", "passes": "1",
			"actor_name": "op"}}, recs[1])

		// Again: nothing to do, nothing written.
		res, err = rekey.Run(ctx, st, kr, rekey.Options{BatchSize: 4, Actor: operator.ID})
		require.NoError(t, err)
		assert.Equal(t, rekey.Result{To: "k2"}, res)
		assert.Len(t, queued(t, st), 2)
	})
}

// A run cancelled after its first batch has committed that batch and
// says so; running again finishes the rest.
func TestRekeyResumes(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		c := newCounty(t, st, 8)
		kr := c.keys.ring(t, "k1", "k2")
		all := total(t, st)

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res, err := rekey.Run(ctx, st, kr, rekey.Options{BatchSize: 5, Actor: operator.ID,
			Progress: func(rekey.Progress) { cancel() }})
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, int64(5), res.Resealed)
		assert.Equal(t, all-5, res.Remaining)
		s, err := rekey.ReadStatus(context.Background(), st, kr)
		require.NoError(t, err)
		assert.Equal(t, map[string]int64{"k1": all - 5, "k2": 5}, s.ByKey)
		recs := queued(t, st)
		require.Len(t, recs, 2, "an interrupted run is recorded as such")
		assert.Equal(t, "interrupted", recs[1].payload["outcome"])
		assert.Equal(t, fmt.Sprint(all-5), recs[1].payload["remaining"])

		res, err = rekey.Run(context.Background(), st, kr, rekey.Options{BatchSize: 5, Actor: operator.ID})
		require.NoError(t, err)
		assert.Equal(t, all-5, res.Resealed)
		assert.Equal(t, int64(0), res.Remaining)
		c.readsTheSame(t, st, c.keys.ring(t, "k2"))
		recs = queued(t, st)
		require.Len(t, recs, 4)
		assert.Equal(t, fmt.Sprint(all-5), recs[2].payload["pending"])
		assert.Equal(t, "done", recs[3].payload["outcome"])
	})
}

// The service goes on changing households while rekey runs: renaming
// heads, replacing member lists (new facts versions, old members' sealed
// numbers copied forward, new members sealed under k2). Nothing it writes
// is lost or overwritten, and what it copies forward under k1 is found by
// a later pass or run. Run with -race.
func TestRekeyConcurrentUpdates(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		c := newCounty(t, st, 10)
		kr := c.keys.ring(t, "k1", "k2")
		svc := household.NewService(st.Households(), pii.Sealer{Keyring: kr}, time.Now)
		hooks := delivery.New(st.Webhooks(), kr, delivery.Config{AllowPrivateTargets: true})
		ids := make([]string, 0, len(c.members))
		for id := range c.members {
			ids = append(ids, id)
		}

		var stop atomic.Bool
		var writes atomic.Int64
		var wg sync.WaitGroup
		var writerErr error
		started := make(chan struct{})
		var once sync.Once
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load() || n < len(ids); n++ {
				id := ids[n%len(ids)]
				ps := c.members[id]
				next := append([]person{}, ps...)
				next[0].name = fmt.Sprintf("改名%d", n)
				if len(ps) <= 3 { // someone joins, sealed under k2
					next = append(next, person{name: fmt.Sprintf("新成员%d", n), id: idNumber(1000 + n), relation: "spouse"})
				} else { // the last one leaves
					next = next[:len(next)-1]
				}
				in := make([]household.MemberInput, len(next))
				for i, p := range next {
					in[i] = household.MemberInput{Number: p.number, Name: p.name, Relation: p.relation, Labour: "student"}
					if p.number == 0 {
						in[i].IDNumber = p.id
					}
				}
				in[0] = household.MemberInput{Number: 1, Relation: "head", Labour: "labourer"}
				h, err := svc.Update(ctx, clerk, household.UpdateInput{Name: c.names[id], Paths: []string{"head_name", "members"},
					HeadName: next[0].name, Members: in})
				if err != nil {
					writerErr = fmt.Errorf("update %d: %w", n, err)
					once.Do(func() { close(started) })
					return
				}
				c.members[id] = numbered(t, h, next)
				if n%5 == 0 { // a bank's webhook secret rotates
					bank := banks[n/5%len(banks)]
					_, secret, err := hooks.Set(ctx, operator, "banks/"+bank, "https://"+bank+".example/hook")
					if err != nil {
						writerErr = fmt.Errorf("webhook %d: %w", n, err)
						once.Do(func() { close(started) })
						return
					}
					c.secrets[bank] = [2]string{secret, c.secrets[bank][0]}
				}
				writes.Add(1)
				once.Do(func() { close(started) })
			}
		}()
		<-started
		before := writes.Load()
		// Each batch waits for the service's next write, so the two
		// interleave however fast either engine is.
		waitForWrite := func(rekey.Progress) {
			w := writes.Load()
			for deadline := time.Now().Add(5 * time.Second); writes.Load() == w && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		}
		res, err := rekey.Run(ctx, st, kr, rekey.Options{BatchSize: 3, Actor: operator.ID, Progress: waitForWrite})
		during := writes.Load() - before
		stop.Store(true)
		wg.Wait()
		require.NoError(t, writerErr)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, during, res.Resealed/3, "the service wrote between batches")
		t.Logf("%d updates during the run; resealed %d, skipped %d, remaining %d after %d passes",
			during, res.Resealed, res.Skipped, res.Remaining, res.Passes)

		// What the service copied forward under k1 after the run: another
		// run finds it.
		res, err = rekey.Run(ctx, st, kr, rekey.Options{BatchSize: 3, Actor: operator.ID})
		require.NoError(t, err)
		assert.Equal(t, int64(0), res.Remaining)
		s, err := rekey.ReadStatus(ctx, st, kr)
		require.NoError(t, err)
		assert.Equal(t, []string{"k1"}, s.Unused)
		c.readsTheSame(t, st, c.keys.ring(t, "k2"))
	})
}

// interleaved is a store where something happens between a batch's read
// and its write: what the service does when it writes at that moment.
type interleaved struct {
	*sqlstore.Store
	between func(f rekey.Field)
}

func (s interleaved) SealedBatch(ctx context.Context, f rekey.Field, keyID string, after rekey.Ref, limit int) ([]rekey.Value, error) {
	vs, err := s.Store.SealedBatch(ctx, f, keyID, after, limit)
	if err == nil && len(vs) > 0 {
		s.between(f)
	}
	return vs, err
}

// A value that changes between a batch's read and its write is skipped,
// not overwritten, and the next pass re-encrypts what it changed to. Here
// a sanzhid not yet restarted with the new key rotates a webhook secret
// under k1 at that moment.
func TestRekeySkipsWhatChanged(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		c := newCounty(t, st, 2)
		all := total(t, st)
		old := delivery.New(st.Webhooks(), c.keys.ring(t, "k1"), delivery.Config{AllowPrivateTargets: true})
		bank := banks[1]
		var rotated bool
		between := func(f rekey.Field) {
			if f != rekey.WebhookSecret || rotated {
				return
			}
			rotated = true
			_, secret, err := old.Set(ctx, operator, "banks/"+bank, "https://"+bank+".example/new")
			require.NoError(t, err)
			c.secrets[bank] = [2]string{secret, c.secrets[bank][0]}
		}
		kr := c.keys.ring(t, "k1", "k2")
		res, err := rekey.Run(ctx, interleaved{st, between}, kr, rekey.Options{BatchSize: 100, Actor: operator.ID})
		require.NoError(t, err)
		assert.True(t, rotated)
		assert.Equal(t, int64(1), res.Skipped, "the secret that changed")
		assert.Equal(t, 2, res.Passes)
		assert.Equal(t, int64(0), res.Remaining)
		// Its new secret and the previous one (now that bank's first) were
		// sealed under k1 by the old service, and re-encrypted in pass 2.
		assert.Equal(t, all+1, res.Resealed)
		c.readsTheSame(t, st, c.keys.ring(t, "k2"))
	})
}

// Bad inputs are refused with a clear error before anything is written.
func TestRekeyRefuses(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		c := newCounty(t, st, 3)
		both := c.keys.ring(t, "k1", "k2")
		before, err := st.SealedCounts(ctx)
		require.NoError(t, err)
		ok := rekey.Options{BatchSize: 10, Actor: operator.ID}
		for _, tc := range []struct {
			name string
			kr   *pii.Keyring
			o    rekey.Options
			want string
		}{
			{"batch size 0", both, rekey.Options{BatchSize: 0, Actor: "op"}, "the batch size must be between 1 and 10000, got 0"},
			{"negative batch size", both, rekey.Options{BatchSize: -5, Actor: "op"}, "the batch size must be between 1 and 10000, got -5"},
			{"batch size too large", both, rekey.Options{BatchSize: 10001, Actor: "op"}, "got 10001"},
			{"no keyring", nil, ok, "no data key is loaded"},
			{"no actor", both, rekey.Options{BatchSize: 10}, "no actor"},
			{"no new key", c.keys.ring(t, "k1"), ok, `the data key file has one key, "k1", and everything is sealed under it: append a new key line`},
			{"the old key missing", c.keys.ring(t, "k2"), ok, `lacks key id "k1"`},
		} {
			_, err := rekey.Run(ctx, st, tc.kr, tc.o)
			require.Error(t, err, tc.name)
			assert.Contains(t, err.Error(), tc.want, tc.name)
		}
		_, err = rekey.Run(ctx, st, c.keys.ring(t, "k2"), ok)
		var missing *rekey.MissingKeysError
		require.True(t, errors.As(err, &missing))
		assert.Equal(t, []string{"k1"}, missing.Missing)
		assert.Contains(t, err.Error(), "`sanzhi rekey --status`")

		after, err := st.SealedCounts(ctx)
		require.NoError(t, err)
		assert.Equal(t, before, after, "nothing re-encrypted")
		assert.Empty(t, queued(t, st), "nothing recorded")
		c.readsTheSame(t, st, both)
	})
}

// CheckKeys passes a keyring holding every key in use, and names the ones
// a keyring lacks.
func TestCheckKeys(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		k := newKeys()
		require.NoError(t, rekey.CheckKeys(ctx, st, k.ring(t, "k2")), "an empty database needs no key")
		c := newCounty(t, st, 2)
		require.NoError(t, rekey.CheckKeys(ctx, st, c.keys.ring(t, "k1")))
		require.NoError(t, rekey.CheckKeys(ctx, st, c.keys.ring(t, "k1", "k2")))
		err := rekey.CheckKeys(ctx, st, c.keys.ring(t, "k2"))
		var missing *rekey.MissingKeysError
		require.True(t, errors.As(err, &missing), "got %v", err)
		assert.Equal(t, []string{"k1"}, missing.Missing)
		assert.Equal(t, "the data key file lacks key id \"k1\", which sealed values in the database still use: "+
			"put the line back in the key file (`sanzhi rekey --status` lists the keys in use)", err.Error())
		assert.Contains(t, (&rekey.MissingKeysError{Missing: []string{"k0", "k1"}}).Error(), `lacks key ids "k0", "k1",`)
	})
}
