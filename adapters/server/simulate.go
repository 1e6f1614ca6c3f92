package server

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/simrun"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/policy"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// PolicySimulator answers SimulatePolicy: it reads the named versions,
// streams the population through adapters/simrun and renders the report.
// The policies must be stored (a draft is fine): the API simulates what a
// bank has uploaded, the CLI also takes files.
func PolicySimulator(st *sqlstore.Store, kr *pii.Keyring, pols *policies.Service, cats *catalogue.Service, now func() time.Time) func(context.Context, *sanzhiv1.SimulatePolicyRequest) (*sanzhiv1.SimulatePolicyResponse, error) {
	load := func(ctx context.Context, name, field string) (*policy.Policy, error) {
		v, err := pols.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		p, err := policy.Parse([]byte(v.Document), nil)
		if err != nil {
			return nil, fault.Wrap(err, fault.FailedPrecondition, "POLICY_UNREADABLE", "%s no longer passes validation", v.Name())
		}
		return p, nil
	}
	return func(ctx context.Context, req *sanzhiv1.SimulatePolicyRequest) (*sanzhiv1.SimulatePolicyResponse, error) {
		t := now()
		today := household.Today(t)
		day := today
		if req.GetAsOf() != "" {
			d, err := household.ParseDate(req.GetAsOf())
			if err != nil {
				return nil, fault.InvalidField("as_of", "%q is not a date", req.GetAsOf())
			}
			if d.After(today) {
				return nil, fault.InvalidField("as_of", "%s is in the future (today is %s in Asia/Shanghai)", d, today)
			}
			day = d
		}
		newP, err := load(ctx, req.GetName(), "name")
		if err != nil {
			return nil, err
		}
		var baseP *policy.Policy
		if req.GetAgainst() != "" {
			if baseP, err = load(ctx, req.GetAgainst(), "against"); err != nil {
				return nil, err
			}
			if baseP.Bank != newP.Bank || baseP.Product != newP.Product {
				return nil, fault.InvalidField("against", "is a policy of another product")
			}
		}
		run := simrun.Run{New: newP, Base: baseP, Day: day, Keyring: kr, Catalogues: cats, Now: t, Workers: runtime.GOMAXPROCS(0)}
		en := strings.HasPrefix(strings.ToLower(req.GetLanguage()), "en")
		format := req.GetFormat()
		if format == sanzhiv1.SimulationFormat_SIMULATION_FORMAT_UNSPECIFIED {
			format = sanzhiv1.SimulationFormat_SIMULATION_FORMAT_TABLE
		}
		rec := policies.Simulation{Bank: newP.Bank, Product: newP.Product, Version: newP.Version, ContentHash: newP.Hash(),
			AsOf: string(day), Villages: req.GetVillages(),
			Format: strings.ToLower(strings.TrimPrefix(format.String(), "SIMULATION_FORMAT_"))}
		if baseP != nil {
			rec.Against, rec.AgainstHash = req.GetAgainst(), baseP.Hash()
		}
		r, out, err := simrun.Simulate(ctx, st, pols, simrun.Job{
			Principal: access.FromContext(ctx), Run: run, Query: sqlstore.PopulationQuery{Villages: req.GetVillages()},
			Record: rec,
			Render: func(r *simulate.Report) ([]byte, error) {
				var buf bytes.Buffer
				var err error
				switch format {
				case sanzhiv1.SimulationFormat_SIMULATION_FORMAT_CSV:
					err = r.WriteCSV(&buf)
				case sanzhiv1.SimulationFormat_SIMULATION_FORMAT_HTML:
					err = r.WriteHTML(&buf, en)
				default:
					err = r.WriteTable(&buf, en)
				}
				if err != nil {
					return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "cannot render the report")
				}
				return buf.Bytes(), nil
			},
		})
		if err != nil {
			return nil, err
		}
		return &sanzhiv1.SimulatePolicyResponse{
			Report: string(out), Households: int32(r.Households),
			EligibleBase: int32(r.EligibleBase), EligibleNew: int32(r.EligibleNew),
			Gained: int32(r.Gained.Count), Lost: int32(r.Lost.Count),
			ExposureBase: r.ExposureBase.String(), ExposureNew: r.ExposureNew.String(),
		}, nil
	}
}
