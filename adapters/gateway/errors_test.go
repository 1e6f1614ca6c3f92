package gateway

import (
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// TestDecodeErrorNamesTheField: the gateway's decoder turns protojson's
// position into the proto path of the offending field, through nested
// messages, lists, maps, several lines and multi-byte characters.
func TestDecodeErrorNamesTheField(t *testing.T) {
	m := marshaler{&runtime.JSONPb{UnmarshalOptions: protojson.UnmarshalOptions{}}}
	for _, c := range []struct {
		name, body string
		into       any
		field      string
		reason     string
	}{
		{"unknown top-level", `{"bogus": 1}`, &sanzhiv1.CreateHouseholdRequest{}, "bogus", "UNKNOWN_FIELD"},
		{"nested wrong type", `{"household": {"facts": {"members": "many"}}}`, &sanzhiv1.CreateHouseholdRequest{}, "household.facts.members", "INVALID_VALUE"},
		{"proto name accepted as key", `{"household": {"head_name": 12}}`, &sanzhiv1.CreateHouseholdRequest{}, "household.head_name", "INVALID_VALUE"},
		{"list item", `{"requests": [{}, {"evidence": {"quantity": "x"}}]}`, &sanzhiv1.BatchSubmitEvidenceRequest{}, "requests[1].evidence.quantity", "INVALID_VALUE"},
		{"enum in a list", `{"attachments": [{"kind": "NOPE"}]}`, &sanzhiv1.Evidence{}, "attachments[0].kind", "INVALID_ENUM"},
		{"after Chinese text on another line", "{\n  \"headName\": \"徐阿大\",\n  \"group\": \"一\"\n}", &sanzhiv1.Household{}, "group", "INVALID_VALUE"},
		{"timestamp", `{"startTime": "yesterday"}`, &sanzhiv1.ListEntriesRequest{}, "start_time", "INVALID_TIMESTAMP"},
		{"map value", `{"payload": {"k": 1}}`, &sanzhiv1.AuditEntry{}, `payload["k"]`, "INVALID_VALUE"},
		{"invalid UTF-8", "{\"headName\": \"a\xffb\"}", &sanzhiv1.Household{}, "head_name", "INVALID_UTF8"},
		{"body into a pointer field", `{"facts": {"cattle": 3}}`, new(*sanzhiv1.Household), "facts.cattle", "UNKNOWN_FIELD"},
		{"cut short", `{"headName": "x"`, &sanzhiv1.Household{}, BodyField, "MALFORMED_JSON"},
		{"not JSON", `headName=x`, &sanzhiv1.Household{}, BodyField, "MALFORMED_JSON"},
		{"not an object", `[1, 2]`, &sanzhiv1.Household{}, BodyField, "MALFORMED_JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := m.NewDecoder(stringsReader(c.body)).Decode(c.into)
			require.Error(t, err)
			d, ok := parseDecodeError(err.Error())
			require.True(t, ok, "a located decode error, got %v", err)
			assert.Equal(t, c.field, d.Field)
			assert.Equal(t, c.reason, d.Reason)
			assert.NotEmpty(t, d.Description)
			assert.NotEmpty(t, d.ZH)
		})
	}
	var h sanzhiv1.Household
	assert.NoError(t, m.NewDecoder(stringsReader(`{"headName":"徐"}`)).Decode(&h))
	assert.Equal(t, "徐", h.HeadName)
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
