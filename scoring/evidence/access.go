package evidence

import (
	"context"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
)

// CheckVillager decides whether p may see what a village shows its
// villagers (the 公示 board, the ranking): regulators see every village,
// village staff the villages in their scope, and a household principal
// its own village, which needs the store: the household must be one of
// village's. Any other role is refused. A malformed village code passes,
// so that the method called next names the bad field.
func (s *Service) CheckVillager(ctx context.Context, p *access.Principal, village string) error {
	if p == nil {
		return fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "missing credentials")
	}
	if _, err := idnum.ParseVillageCode(village); err != nil {
		return nil
	}
	outOfScope := fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "village %s is outside the scope of %s", village, p.Name)
	switch p.Role {
	case access.Regulator, access.VillageClerk, access.VillageReviewer:
		if p.CoversVillage(village) {
			return nil
		}
		return outOfScope
	case access.Household:
		err := s.store.Read(ctx, func(tx Reader) error {
			_, err := tx.Household(ctx, village, p.Scope.Household)
			return err
		})
		if fault.Is(err, fault.NotFound) {
			return outOfScope
		}
		return err
	}
	return outOfScope
}
