package policies

import (
	"context"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// ActionSimulate is the audit action of a policy simulation.
const ActionSimulate = "policy.simulate"

// Simulation is what the log keeps of one simulation run: who ran which
// policy version (and which it was compared with) over how many
// households, and the SHA-256 of exactly the bytes the caller received.
// Never a household's data: the output itself is not logged, only its hash,
// so a regulator holding the output can prove it is what was delivered.
type Simulation struct {
	Bank, Product string
	Version       int
	ContentHash   string // the simulated policy's canonical hash
	// Against is the compared version's name and hash; empty for none.
	Against, AgainstHash string
	AsOf                 string   // YYYY-MM-DD
	Villages             []string // the filter; empty for every village
	Households           int      // the population simulated
	View                 string   // "aggregate" or "masked"
	Format               string   // table, csv, html
	OutputSHA256         string   // lowercase hex SHA-256 of the delivered output
	// ExtraSHA256 is the hash of a second output, the CLI's per-household
	// CSV (regulators only); empty without one.
	ExtraSHA256 string
}

// Name is the simulated version's resource name, the entry's subject.
func (s Simulation) Name() string {
	return ProductName(s.Bank, s.Product) + "/policies/" + strconv.Itoa(s.Version)
}

// RecordSimulation appends the simulation's audit entry in its own
// transaction. The caller must hand out the output only after this returns
// nil: a simulation nobody can account for is not delivered.
func (s *Service) RecordSimulation(ctx context.Context, p *access.Principal, sim Simulation) error {
	if p == nil {
		return fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "a simulation needs a principal")
	}
	rec := audit.Record{
		Time: s.clock(), Actor: p.ID, Action: ActionSimulate, Subject: sim.Name(),
		RequestHash: audit.HashBytes([]byte(strings.Join([]string{ActionSimulate, sim.Name(), sim.ContentHash,
			sim.Against, sim.AgainstHash, sim.AsOf, strings.Join(sim.Villages, ","), sim.View, sim.Format}, "\x00"))),
		ResultHash: sim.OutputSHA256,
		Payload: map[string]string{
			"bank": sim.Bank, "product": sim.Product, "version": strconv.Itoa(sim.Version),
			"content_hash": sim.ContentHash, "against": sim.Against, "against_hash": sim.AgainstHash,
			"as_of": sim.AsOf, "villages": strings.Join(sim.Villages, ","),
			"households": strconv.Itoa(sim.Households), "view": sim.View, "format": sim.Format,
			"output_sha256": sim.OutputSHA256, "role": string(p.Role),
		},
	}
	if sim.ExtraSHA256 != "" {
		rec.Payload["households_csv_sha256"] = sim.ExtraSHA256
	}
	return s.store.Write(ctx, func(tx Writer) error { return tx.Record(ctx, rec) })
}
