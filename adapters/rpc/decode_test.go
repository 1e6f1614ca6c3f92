package rpc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// bytesCodec sends a request's bytes as given: a real client refuses to
// marshal a string that is not UTF-8, an attacker does not.
type bytesCodec struct{}

func (bytesCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}
func (bytesCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}
func (bytesCodec) Name() string { return "proto" }

// TestUndecodableRequest: bytes that are not a valid request are the
// caller's mistake: INVALID_ARGUMENT with ErrorInfo and a BadRequest
// naming the field (nested or repeated ones too), never INTERNAL "failed
// to unmarshal"; nothing is written.
func TestUndecodableRequest(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		valid := &sanzhiv1.CreateHouseholdRequest{Parent: "villages/" + villageA, RequestId: "r1",
			Household: &sanzhiv1.Household{HeadName: "PLACEHOLDER", HeadIdNumber: "330483197506120017", Group: 1}}
		good, err := proto.Marshal(valid)
		require.NoError(t, err)
		// The same request with the head's name replaced by bytes that
		// are not UTF-8 (the name's length is unchanged).
		badName := []byte(string(good))
		i := indexOf(badName, []byte("PLACEHOLDER"))
		require.GreaterOrEqual(t, i, 0)
		copy(badName[i:], "\xff\xfe\xfd")

		batch := protowire.AppendTag(nil, 1, protowire.BytesType)
		batch = protowire.AppendString(batch, "villages/"+villageA)
		for _, s := range []string{"fine", "fi\xffne"} {
			item := protowire.AppendTag(nil, 3, protowire.BytesType) // request_id
			item = protowire.AppendString(item, s)
			batch = protowire.AppendTag(batch, 2, protowire.BytesType)
			batch = protowire.AppendBytes(batch, item)
		}

		for _, c := range []struct {
			name, method string
			raw          []byte
			field        string
		}{
			{"nested string", sanzhiv1.HouseholdService_CreateHousehold_FullMethodName, badName, "household.head_name"},
			{"second item of a list", sanzhiv1.EvidenceService_BatchSubmitEvidence_FullMethodName, batch, "requests[1].request_id"},
			{"cut short", sanzhiv1.HouseholdService_CreateHousehold_FullMethodName, good[:len(good)-1], "request_id"}, // the last field, request_id, lost its last byte,
			{"not protobuf", sanzhiv1.HouseholdService_GetHousehold_FullMethodName, []byte{0xff}, "request"},
		} {
			t.Run(c.name, func(t *testing.T) {
				var out sanzhiv1.Household
				err := e.conn.Invoke(e.as("clerk-a"), c.method, c.raw, &out, grpc.ForceCodecV2(bytesCodec{}))
				requireCode(t, err, codes.InvalidArgument, c.field, "")
				var br *errdetails.BadRequest
				for _, d := range status.Convert(err).Details() {
					if d, ok := d.(*errdetails.BadRequest); ok {
						br = d
					}
				}
				require.NotNil(t, br)
				assert.Equal(t, "zh-CN", br.FieldViolations[0].GetLocalizedMessage().GetLocale())
				assert.NotContains(t, status.Convert(err).Message(), "unmarshal")
			})
		}
		list, err := e.client.ListHouseholds(e.as("clerk-a"), &sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + villageA})
		require.NoError(t, err)
		assert.Empty(t, list.Households, "nothing was created")

		// A stream's first message goes the same way.
		s, err := e.conn.NewStream(e.as("bank"), &grpc.StreamDesc{ServerStreams: true},
			sanzhiv1.CreditService_WatchCreditLines_FullMethodName, grpc.ForceCodecV2(bytesCodec{}))
		require.NoError(t, err)
		require.NoError(t, s.SendMsg(append(protowire.AppendTag(nil, 1, protowire.BytesType), 2, 0xc3, 0x28)))
		require.NoError(t, s.CloseSend())
		err = s.RecvMsg(&sanzhiv1.CreditLineEvent{})
		requireCode(t, err, codes.InvalidArgument, "bank", "")
	})
}

func indexOf(b, sub []byte) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	return -1
}
