package rpc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// Members travel on the household resource: written at creation or with
// update_mask "members", returned with their 身份证号 masked only.
func TestHouseholdMembers(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		ctx := e.as("clerk-a")
		req := validCreate(t, villageA)
		spouseID := personID(t, "19700520")
		req.Household.Members = []*sanzhiv1.HouseholdMember{
			{Relation: sanzhiv1.HouseholdRelation_HOUSEHOLD_RELATION_HEAD, LabourStatus: sanzhiv1.LabourStatus_LABOUR_STATUS_LABOURER},
			{Name: "沈秀兰", Relation: sanzhiv1.HouseholdRelation_HOUSEHOLD_RELATION_SPOUSE, IdNumber: spouseID,
				LabourStatus: sanzhiv1.LabourStatus_LABOUR_STATUS_LABOURER},
		}
		h, err := e.client.CreateHousehold(ctx, req)
		require.NoError(t, err)
		require.Len(t, h.Members, 2)
		assert.Equal(t, "沈建国", h.Members[0].Name)
		assert.Equal(t, h.HeadIdNumberMasked, h.Members[0].IdNumberMasked)
		assert.Equal(t, sanzhiv1.HouseholdRelation_HOUSEHOLD_RELATION_SPOUSE, h.Members[1].Relation)
		assert.Equal(t, spouseID[:6]+"********"+spouseID[14:], h.Members[1].IdNumberMasked)
		assert.Equal(t, "1970-05-20", h.Members[1].BirthDate)
		assert.Empty(t, h.Members[1].IdNumber, "the raw number is never returned")
		assert.NotContains(t, prototext.Format(h), spouseID)

		childID := personID(t, "20120901")
		members := func(child string) []*sanzhiv1.HouseholdMember {
			return []*sanzhiv1.HouseholdMember{
				{Number: 1, Relation: sanzhiv1.HouseholdRelation_HOUSEHOLD_RELATION_HEAD, LabourStatus: sanzhiv1.LabourStatus_LABOUR_STATUS_LABOURER},
				{Number: 2, Name: "沈秀兰", Relation: sanzhiv1.HouseholdRelation_HOUSEHOLD_RELATION_SPOUSE, LabourStatus: sanzhiv1.LabourStatus_LABOUR_STATUS_LABOURER},
				{Name: "沈小军", Relation: sanzhiv1.HouseholdRelation_HOUSEHOLD_RELATION_CHILD, IdNumber: child, LabourStatus: sanzhiv1.LabourStatus_LABOUR_STATUS_STUDENT},
			}
		}
		update := func(who string, ms []*sanzhiv1.HouseholdMember) (*sanzhiv1.Household, error) {
			return e.client.UpdateHousehold(e.as(who), &sanzhiv1.UpdateHouseholdRequest{
				Household:  &sanzhiv1.Household{Name: h.Name, Members: ms},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"members"}}})
		}
		before := countAll(t, e)
		_, err = update("clerk-a", members(childID[:17]+map[bool]string{true: "1", false: "2"}[childID[17] != '1']))
		requireCode(t, err, codes.InvalidArgument, "household.members[2].id_number", "check")
		_, err = update("clerk-a", members(spouseID))
		requireCode(t, err, codes.InvalidArgument, "household.members[2].id_number", "same")
		unspecified := members(childID)
		unspecified[2].Relation = sanzhiv1.HouseholdRelation_HOUSEHOLD_RELATION_UNSPECIFIED
		_, err = update("clerk-a", unspecified)
		requireCode(t, err, codes.InvalidArgument, "household.members[2].relation", "")
		_, err = update("clerk-b", members(childID))
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = update("reviewer-a", members(childID))
		requireCode(t, err, codes.PermissionDenied, "", "")
		assert.Equal(t, before, countAll(t, e), "nothing written")

		up, err := update("clerk-a", members(childID))
		require.NoError(t, err)
		assert.Equal(t, int64(2), up.Facts.Version)
		require.Len(t, up.Members, 3)
		assert.Equal(t, int32(3), up.Members[2].Number)
		assert.Equal(t, sanzhiv1.LabourStatus_LABOUR_STATUS_STUDENT, up.Members[2].LabourStatus)
		assert.Equal(t, [2]int32{4, 2}, [2]int32{up.Facts.Members, up.Facts.Labourers}, "the list fits in the counts: they stay")
	})
}
