package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/scoring/household"
)

const policyExample = "../../examples/policies/tongxiang-rcb-sanzhi.yaml"

func TestPolicyCommands(t *testing.T) {
	out, err := run(t, "policy", "lint", policyExample, "--catalogue", exampleFile("tongxiang-county.yaml"))
	require.NoError(t, err, out)
	assert.Contains(t, out, "valid policy of banks/tongxiang-rcb/products/sanzhi-xindai, version 1")

	src, err := os.ReadFile(policyExample)
	require.NoError(t, err)
	bad := strings.Replace(string(src), "\ncurrency: CNY", "\ncurrency: CNY\ncolour: red", 1)
	file := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(file, []byte(bad), 0o600))
	out, err = run(t, "policy", "lint", file)
	require.Error(t, err)
	assert.Contains(t, out, file+":")
	assert.Contains(t, out, "colour")

	db := "sqlite://" + filepath.Join(t.TempDir(), "p.db")
	keys := map[string]string{}
	for _, name := range []string{"risk-1", "risk-2"} {
		keys[name] = newPrincipal(t, db, "--name", name, "--role", "bank_risk", "--bank", "tongxiang-rcb")
	}
	keys["other"] = newPrincipal(t, db, "--name", "other", "--role", "bank_risk", "--bank", "other-bank")
	name := "banks/tongxiang-rcb/products/sanzhi-xindai/policies/1"

	_, err = run(t, "policy", "upload", policyExample, "--database", db)
	require.Error(t, err, "no key: a bank's policy is not the local operator's business")
	assert.Contains(t, err.Error(), "--key")
	out, err = run(t, "policy", "upload", policyExample, "--database", db, "--key", keys["other"])
	require.Error(t, err, "another bank's risk manager: %s", out)
	out, err = run(t, "policy", "upload", policyExample, "--database", db, "--key", keys["risk-1"])
	require.NoError(t, err, out)
	assert.Contains(t, out, name+": draft")
	out, err = run(t, "policy", "approve", name, "--database", db, "--key", keys["risk-1"])
	require.Error(t, err, out)
	assert.Contains(t, err.Error(), "second person")
	out, err = run(t, "policy", "approve", name, "--database", db, "--key", keys["risk-2"])
	require.NoError(t, err, out)
	out, err = run(t, "policy", "activate", name, "--database", db, "--key", keys["risk-1"])
	require.NoError(t, err, out)
	assert.Contains(t, out, name+": active")
	out, err = run(t, "policy", "diff", name, "banks/tongxiang-rcb/products/sanzhi-xindai/policies/active", "--database", db, "--key", keys["risk-2"])
	require.NoError(t, err, out)
	assert.Empty(t, out, "a version against itself")

	// The activation attached its gate report; --show prints it.
	out, err = run(t, "policy", "gate", "--show", name, "--database", db, "--key", keys["risk-2"], "--lang", "en")
	require.NoError(t, err, out)
	assert.Contains(t, out, name+": activation gate passed (report 1, no active version")
	assert.Contains(t, out, "[n/a] psi")
	out, err = run(t, "policy", "gate", name, "--database", db, "--key", keys["risk-2"])
	require.Error(t, err, out)
	assert.Contains(t, err.Error(), "draft or approved", "the active version is no candidate")
	out, err = run(t, "policy", "gate", "--show", name, "--database", db, "--key", keys["other"])
	require.Error(t, err, "another bank's report: %s", out)

	// Version 2, a draft, evaluated against version 1.
	v2 := filepath.Join(t.TempDir(), "v2.yaml")
	require.NoError(t, os.WriteFile(v2, []byte(strings.Replace(string(src), "\nversion: 1\n", "\nversion: 2\n", 1)), 0o600))
	out, err = run(t, "policy", "upload", v2, "--database", db, "--key", keys["risk-1"])
	require.NoError(t, err, out)
	name2 := "banks/tongxiang-rcb/products/sanzhi-xindai/policies/2"
	out, err = run(t, "policy", "gate", name2, "--database", db, "--key", keys["risk-2"])
	require.NoError(t, err, out)
	assert.Contains(t, out, name2+": 启用门槛通过（报告 1，对比第 1 版")
	out, err = run(t, "policy", "activate", name2, "--database", db, "--key", keys["risk-2"], "--gate-justification", "short")
	require.Error(t, err, out)
	assert.Contains(t, err.Error(), "gate_justification")

	// A challenger: version 3, uploaded and approved, then started,
	// shown and stopped; another bank's risk manager may do none of it.
	src3 := strings.Replace(string(src), "\nversion: 1\n", "\nversion: 3\n", 1)
	file3 := filepath.Join(t.TempDir(), "v3.yaml")
	require.NoError(t, os.WriteFile(file3, []byte(src3), 0o600))
	name3 := "banks/tongxiang-rcb/products/sanzhi-xindai/policies/3"
	parent := "banks/tongxiang-rcb/products/sanzhi-xindai"
	out, err = run(t, "policy", "upload", file3, "--database", db, "--key", keys["risk-1"])
	require.NoError(t, err, out)
	out, err = run(t, "policy", "challenger", "start", name3, "--database", db, "--key", keys["risk-1"])
	require.Error(t, err, "a draft: %s", out)
	out, err = run(t, "policy", "approve", name3, "--database", db, "--key", keys["risk-2"])
	require.NoError(t, err, out)
	out, err = run(t, "policy", "challenger", "start", name3, "--database", db, "--key", keys["other"])
	require.Error(t, err, "another bank: %s", out)
	out, err = run(t, "policy", "challenger", "start", name3, "--database", db, "--key", keys["risk-1"])
	require.NoError(t, err, out)
	assert.Contains(t, out, name3+": challenger of "+parent)
	out, err = run(t, "policy", "challenger", "show", parent, "--database", db, "--key", keys["risk-2"])
	require.NoError(t, err, out)
	assert.Contains(t, out, "shadow decisions 0, swap-in 0, swap-out 0")
	out, err = run(t, "policy", "challenger", "stop", parent, "--database", db, "--key", keys["risk-2"])
	require.NoError(t, err, out)
	assert.Contains(t, out, "stopped (stopped)")
	_, err = run(t, "policy", "challenger", "show", parent, "--database", db, "--key", keys["risk-2"])
	require.Error(t, err, "none now")
}

// explain evaluates a policy on a household of the seeded demo county: the
// decision, its reasons and the hashes, the same every time.
func TestPolicyExplain(t *testing.T) {
	db := demoCopy(t)
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	var homes []*household.Household
	require.NoError(t, st.Store().Households().Read(ctx, func(r household.Reader) error {
		homes, err = r.Households(ctx, household.ListQuery{Village: nanyang, Limit: 3})
		return err
	}))
	st.Close()
	require.Len(t, homes, 3)
	name := homes[2].Name()

	explain := func(extra ...string) (string, error) {
		return run(t, append([]string{"policy", "explain", "--database", db, "--household", name, "--policy", policyExample}, extra...)...)
	}
	zh, err := explain()
	require.NoError(t, err, zh)
	assert.Contains(t, zh, "政策 tongxiang-rcb/sanzhi-xindai v1")
	assert.Contains(t, zh, "结论：")
	assert.Contains(t, zh, "评分卡：")
	assert.Regexp(t, `政策哈希 [0-9a-f]{64}\n输入哈希 [0-9a-f]{64}\n$`, zh)
	again, err := explain()
	require.NoError(t, err)
	assert.Equal(t, zh, again, "the same household, day and policy give the same decision")
	en, err := explain("--lang", "en")
	require.NoError(t, err)
	assert.Contains(t, en, "Scorecard:")

	active, err := run(t, "policy", "explain", "--database", db, "--household", name)
	require.NoError(t, err, "the demo activates the example policy")
	assert.Equal(t, zh, active, "the active version is the example: the same decision")
	_, err = run(t, "policy", "explain", "--database", db, "--household", name, "--bank", "other-bank")
	require.Error(t, err, "no active policy stored")
	assert.Contains(t, err.Error(), "active policy")
	_, err = run(t, "policy", "explain", "--database", db, "--household", "villages/330483102215/households/42", "--policy", policyExample)
	require.Error(t, err)
}
