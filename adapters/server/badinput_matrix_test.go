package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

const matrixVillage = "330483102201"

// badCase is one refused request over one transport.
type badCase struct {
	name string
	// Exactly one of grpc and http is set.
	grpc func(ctx context.Context, conn *grpc.ClientConn) error
	http *httpCall
	code codes.Code
	// field is the violation INVALID_ARGUMENT must name.
	field string
	// httpStatus overrides the status the code maps to.
	httpStatus int
}

// TestBadInputMatrix sends several hundred bad requests to a real server
// over TCP, on SQLite and PostgreSQL, over gRPC and HTTP/JSON: bytes that
// are not protobuf, strings that are not UTF-8, JSON that is cut short,
// of the wrong type, with unknown fields, bad path and query parameters,
// unknown routes, and requests that break the declared constraints. Each
// must answer the expected code with ErrorInfo (and a BadRequest naming
// the field), no Go-internal text, and change no row of any table.
func TestBadInputMatrix(t *testing.T) {
	t.Parallel()
	for _, backend := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{storetest.SQLite, sqliteURL},
		{storetest.Postgres, func(t *testing.T) string { return pgtest.NewURL(t) }},
	} {
		storetest.Run(t, backend.name, func(t *testing.T) {
			db := backend.url(t)
			// No background writers while rows are counted.
			srv := start(t, Config{Database: db, CheckpointInterval: time.Hour, ReassessInterval: time.Hour, WebhookPoll: time.Hour})
			keys := map[string]string{
				"clerk":     addPrincipal(t, db, "clerk", access.VillageClerk, access.Scope{Villages: []string{matrixVillage}}),
				"reviewer":  addPrincipal(t, db, "reviewer", access.VillageReviewer, access.Scope{Villages: []string{matrixVillage}}),
				"regulator": addPrincipal(t, db, "regulator", access.Regulator, access.Scope{}),
				"officer":   addPrincipal(t, db, "officer", access.BankOfficer, access.Scope{Bank: "tongxiang-rcb"}),
				"risk":      addPrincipal(t, db, "risk", access.BankRisk, access.Scope{Bank: "tongxiang-rcb"}),
				"operator":  addPrincipal(t, db, "operator", access.Operator, access.Scope{}),
			}
			conn := dial(t, srv.addrs.GRPC)
			as := func(who string) context.Context {
				return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+keys[who])
			}
			hh, err := sanzhiv1.NewHouseholdServiceClient(conn).CreateHousehold(as("clerk"), &sanzhiv1.CreateHouseholdRequest{
				Parent: "villages/" + matrixVillage, RequestId: "matrix-1", Household: validHousehold(t)})
			require.NoError(t, err)

			cases := undecodableGRPC(t, keys["officer"])
			cases = append(cases, undecodableHTTP(t, keys["clerk"])...)
			cases = append(cases, badParametersHTTP(t, keys["clerk"])...)
			cases = append(cases, routingHTTP(keys["clerk"])...)
			cases = append(cases, constraintCases(t, keys, hh.Name)...)
			require.GreaterOrEqual(t, len(cases), 300, "the suite is broad")

			counter := newRowCounter(t, db)
			before := counter.counts(t)
			base := "http://" + srv.addrs.HTTP
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					var st *status.Status
					if c.grpc != nil {
						ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
						defer cancel()
						err := c.grpc(ctx, conn)
						require.Error(t, err)
						st = status.Convert(err)
					} else {
						code, got := c.http.do(t, base)
						want := c.httpStatus
						if want == 0 {
							want = httpStatusOf(c.code)
						}
						require.NotNil(t, got, "HTTP %d", code)
						assert.Equal(t, want, code, "HTTP status; message %q", got.Message())
						st = got
					}
					require.Equal(t, c.code, st.Code(), "message %q", st.Message())
					contractOK(t, st, c.field)
					assert.Equal(t, before, counter.counts(t), "a refused request writes nothing")
				})
			}
		})
	}
}

func httpStatusOf(c codes.Code) int {
	switch c {
	case codes.InvalidArgument, codes.FailedPrecondition:
		return http.StatusBadRequest
	case codes.NotFound:
		return http.StatusNotFound
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

func validHousehold(t *testing.T) *sanzhiv1.Household {
	return &sanzhiv1.Household{HeadName: "徐阿大", HeadIdNumber: validID(t), Group: 2, RegisteredDate: "2010-01-01",
		Facts: &sanzhiv1.HouseholdFacts{Members: 3, Labourers: 2, AnnualIncome: "54000", LandAreaMu: "2.5",
			CollectiveShares: "0", ExistingBankDebt: "0", Source: "村委会登记", AsOfDate: "2026-01-01"}}
}

// servedMethods are the RPCs a default server registers.
func servedMethods(t *testing.T) []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	for _, full := range rpc.Methods() {
		if strings.HasPrefix(full, "/sanzhi.v1.FloorService/") {
			continue // only with --bench-floors
		}
		name := strings.ReplaceAll(strings.TrimPrefix(full, "/"), "/", ".")
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		require.NoError(t, err, full)
		out = append(out, d.(protoreflect.MethodDescriptor))
	}
	require.Greater(t, len(out), 40)
	return out
}

// rawCall sends raw bytes as the request of method, without credentials:
// a request that cannot be decoded is refused before authentication, as
// over HTTP.
func rawCall(method string, raw []byte, key string) func(ctx context.Context, conn *grpc.ClientConn) error {
	return func(ctx context.Context, conn *grpc.ClientConn) error {
		if key != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
		}
		s, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method, grpc.ForceCodecV2(rawCodec{}))
		if err != nil {
			return err
		}
		if err := s.SendMsg(raw); err != nil {
			return err
		}
		if err := s.CloseSend(); err != nil {
			return err
		}
		for {
			if err := s.RecvMsg(&emptypb.Empty{}); err != nil {
				return err
			}
		}
	}
}

// undecodableGRPC: per served method, a string field holding invalid
// UTF-8, the same field cut short, and bytes that are no message at all.
// A unary request is decoded before authentication; a stream's first
// message only when the handler reads it, after the stream was
// authenticated, so streams are sent with streamKey.
func undecodableGRPC(t *testing.T, streamKey string) []badCase {
	var out []badCase
	for _, md := range servedMethods(t) {
		key := ""
		if md.IsStreamingServer() || md.IsStreamingClient() {
			key = streamKey
		}
		full := "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
		short := string(md.Parent().Name()) + "." + string(md.Name())
		if fd := firstField(md.Input(), nil, protoreflect.StringKind); fd != nil {
			bad := protowire.AppendTag(nil, fd.Number(), protowire.BytesType)
			bad = protowire.AppendBytes(bad, []byte("ok\xff\xfe"))
			cut := protowire.AppendTag(nil, fd.Number(), protowire.BytesType)
			cut = append(protowire.AppendVarint(cut, 40), 'a')
			out = append(out,
				badCase{name: "grpc/utf8/" + short, grpc: rawCall(full, bad, key), code: codes.InvalidArgument, field: string(fd.Name())},
				badCase{name: "grpc/truncated/" + short, grpc: rawCall(full, cut, key), code: codes.InvalidArgument, field: string(fd.Name())})
		}
		out = append(out, badCase{name: "grpc/garbage/" + short, grpc: rawCall(full, []byte{0xff, 0xff, 0xff}, key), code: codes.InvalidArgument, field: "request"})
	}
	return out
}

// undecodableHTTP: per route with a body, JSON that is cut short, not
// JSON, has an unknown field, a string where a number belongs and the
// reverse, invalid UTF-8, and a bad enum name.
func undecodableHTTP(t *testing.T, key string) []badCase {
	var out []badCase
	for _, r := range routes(t) {
		if r.body == "" {
			continue
		}
		md, prefix := r.bodyMessage()
		var skip []string
		for _, p := range r.pathFields() {
			skip = append(skip, strings.TrimPrefix(p, prefix))
		}
		name := func(kind string) string { return "http/" + kind + "/" + r.verb + r.tmpl }
		call := func(body string) *httpCall {
			return &httpCall{verb: r.verb, path: r.samplePath(), body: body, key: key}
		}
		out = append(out,
			badCase{name: name("truncated"), http: call(`{"a":`), code: codes.InvalidArgument, field: "request body"},
			badCase{name: name("not-json"), http: call(`hello`), code: codes.InvalidArgument, field: "request body"},
			badCase{name: name("unknown-field"), http: call(`{"bogusField": 1}`), code: codes.InvalidArgument, field: prefix + "bogusField"},
		)
		if fd := firstField(md, skip, protoreflect.StringKind); fd != nil {
			out = append(out,
				badCase{name: name("number-for-string"), http: call(fmt.Sprintf(`{%q: 12}`, fd.JSONName())), code: codes.InvalidArgument, field: prefix + string(fd.Name())},
				badCase{name: name("utf8"), http: call(fmt.Sprintf(`{%q: "a%sb"}`, fd.JSONName(), "\xff")), code: codes.InvalidArgument, field: prefix + string(fd.Name())},
			)
		}
		if fd := firstField(md, skip, protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint64Kind, protoreflect.BoolKind); fd != nil {
			out = append(out, badCase{name: name("string-for-number"), http: call(fmt.Sprintf(`{%q: "many"}`, fd.JSONName())), code: codes.InvalidArgument, field: prefix + string(fd.Name())})
		}
		if fd := firstField(md, skip, protoreflect.EnumKind); fd != nil {
			out = append(out, badCase{name: name("bad-enum"), http: call(fmt.Sprintf(`{%q: "NO_SUCH_VALUE"}`, fd.JSONName())), code: codes.InvalidArgument, field: prefix + string(fd.Name())})
		}
		if fd := firstField(md, skip, protoreflect.MessageKind); fd != nil && fd.Message().FullName() == "google.protobuf.Timestamp" {
			out = append(out, badCase{name: name("bad-timestamp"), http: call(fmt.Sprintf(`{%q: "yesterday"}`, fd.JSONName())), code: codes.InvalidArgument, field: prefix + string(fd.Name())})
		}
	}
	return out
}

// badParametersHTTP: per route, a path parameter that is not UTF-8;
// per GET route, a query parameter of the wrong type.
func badParametersHTTP(t *testing.T, key string) []badCase {
	var out []badCase
	for _, r := range routes(t) {
		vars := r.pathFields()
		if len(vars) > 0 {
			first := true
			path := r.path(func(field, pattern string) string {
				if !first {
					return route{tmpl: "{x=" + pattern + "}"}.samplePath()
				}
				first = false
				// The last * of the pattern gets a byte that is not UTF-8.
				i := strings.LastIndex(pattern, "*")
				return route{tmpl: "{x=" + pattern[:i] + "%FF" + pattern[i:] + "}"}.samplePath()
			})
			body := ""
			if r.body != "" {
				body = "{}"
			}
			out = append(out, badCase{name: "http/path-utf8/" + r.verb + r.tmpl, http: &httpCall{verb: r.verb, path: path, body: body, key: key},
				code: codes.InvalidArgument, field: vars[0]})
		}
		if r.verb != "GET" {
			continue
		}
		if fd := firstField(r.in, vars, protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint64Kind, protoreflect.BoolKind, protoreflect.EnumKind); fd != nil {
			out = append(out, badCase{name: "http/query-type/" + r.tmpl, http: &httpCall{verb: "GET", path: r.samplePath() + "?" + fd.JSONName() + "=many", key: key},
				code: codes.InvalidArgument, field: string(fd.Name())})
		}
	}
	return out
}

func routingHTTP(key string) []badCase {
	return []badCase{
		{name: "http/route/unknown-api-path", http: &httpCall{verb: "GET", path: "/v1/no/such/thing", key: key}, code: codes.NotFound},
		{name: "http/route/outside-api", http: &httpCall{verb: "GET", path: "/nothing-here", key: key}, code: codes.NotFound},
		{name: "http/route/no-key-unknown", http: &httpCall{verb: "POST", path: "/v1/villages/" + matrixVillage + "/nowhere"}, code: codes.NotFound},
		{name: "http/route/method-not-allowed", http: &httpCall{verb: "DELETE", path: "/v1/villages/" + matrixVillage + "/households", key: key},
			code: codes.InvalidArgument, httpStatus: http.StatusMethodNotAllowed},
		{name: "http/route/put-on-household", http: &httpCall{verb: "PUT", path: "/v1/villages/" + matrixVillage + "/households/x1", key: key},
			code: codes.InvalidArgument, httpStatus: http.StatusMethodNotAllowed},
	}
}

// constraint is a request breaking a declared or business rule, sent as
// who over both transports.
type constraint struct {
	name   string
	who    string
	method string
	req    proto.Message
	code   codes.Code
	field  string
}

func constraintCases(t *testing.T, keys map[string]string, household string) []badCase {
	hhWith := func(edit func(h *sanzhiv1.Household)) *sanzhiv1.CreateHouseholdRequest {
		h := validHousehold(t)
		edit(h)
		return &sanzhiv1.CreateHouseholdRequest{Parent: "villages/" + matrixVillage, RequestId: "bad", Household: h}
	}
	village := "villages/" + matrixVillage
	product := "banks/tongxiang-rcb/products/nonghu-xindai"
	list := []constraint{
		{"create/id-check-digit", "clerk", sanzhiv1.HouseholdService_CreateHousehold_FullMethodName,
			hhWith(func(h *sanzhiv1.Household) { h.HeadIdNumber = "330483197506120000" }), codes.InvalidArgument, "household.head_id_number"},
		{"create/name-too-long", "clerk", sanzhiv1.HouseholdService_CreateHousehold_FullMethodName,
			hhWith(func(h *sanzhiv1.Household) { h.HeadName = strings.Repeat("徐", 65) }), codes.InvalidArgument, "household.head_name"},
		{"create/group-range", "clerk", sanzhiv1.HouseholdService_CreateHousehold_FullMethodName,
			hhWith(func(h *sanzhiv1.Household) { h.Group = 100 }), codes.InvalidArgument, "household.group"},
		{"create/members-range", "clerk", sanzhiv1.HouseholdService_CreateHousehold_FullMethodName,
			hhWith(func(h *sanzhiv1.Household) { h.Facts.Members = 0 }), codes.InvalidArgument, "household.facts.members"},
		{"create/income-pattern", "clerk", sanzhiv1.HouseholdService_CreateHousehold_FullMethodName,
			hhWith(func(h *sanzhiv1.Household) { h.Facts.AnnualIncome = "5万" }), codes.InvalidArgument, "household.facts.annual_income"},
		{"create/date-pattern", "clerk", sanzhiv1.HouseholdService_CreateHousehold_FullMethodName,
			hhWith(func(h *sanzhiv1.Household) { h.Facts.AsOfDate = "2026/01/01" }), codes.InvalidArgument, "household.facts.as_of_date"},
		{"create/source-empty", "clerk", sanzhiv1.HouseholdService_CreateHousehold_FullMethodName,
			hhWith(func(h *sanzhiv1.Household) { h.Facts.Source = "" }), codes.InvalidArgument, "household.facts.source"},
		{"create/no-request-id", "clerk", sanzhiv1.HouseholdService_CreateHousehold_FullMethodName,
			&sanzhiv1.CreateHouseholdRequest{Parent: village, Household: validHousehold(t)}, codes.InvalidArgument, "request_id"},
		{"create/other-village", "clerk", sanzhiv1.HouseholdService_CreateHousehold_FullMethodName,
			&sanzhiv1.CreateHouseholdRequest{Parent: "villages/330483103205", RequestId: "x", Household: validHousehold(t)}, codes.PermissionDenied, ""},
		{"list/page-size", "clerk", sanzhiv1.HouseholdService_ListHouseholds_FullMethodName,
			&sanzhiv1.ListHouseholdsRequest{Parent: village, PageSize: 5000}, codes.InvalidArgument, "page_size"},
		{"lookup/id-too-long", "clerk", sanzhiv1.HouseholdService_LookupHousehold_FullMethodName,
			&sanzhiv1.LookupHouseholdRequest{Parent: village, HeadIdNumber: strings.Repeat("1", 19)}, codes.InvalidArgument, "head_id_number"},
		{"entry/name-pattern", "regulator", sanzhiv1.AuditService_GetEntry_FullMethodName,
			&sanzhiv1.GetEntryRequest{Name: "entries/first"}, codes.InvalidArgument, "name"},
		{"entries/village-pattern", "regulator", sanzhiv1.AuditService_ListEntries_FullMethodName,
			&sanzhiv1.ListEntriesRequest{Village: "3304"}, codes.InvalidArgument, "village"},
		{"entries/page-size", "regulator", sanzhiv1.AuditService_ListEntries_FullMethodName,
			&sanzhiv1.ListEntriesRequest{PageSize: -1}, codes.InvalidArgument, "page_size"},
		{"redeem/amount-pattern", "clerk", sanzhiv1.PointsService_RedeemPoints_FullMethodName,
			&sanzhiv1.RedeemPointsRequest{Household: household, Amount: "1.234", RequestId: "r"}, codes.InvalidArgument, "amount"},
		{"redeem/no-request-id", "clerk", sanzhiv1.PointsService_RedeemPoints_FullMethodName,
			&sanzhiv1.RedeemPointsRequest{Household: household, Amount: "1"}, codes.InvalidArgument, "request_id"},
		{"review/decision-unspecified", "reviewer", sanzhiv1.EvidenceService_ReviewEvidence_FullMethodName,
			&sanzhiv1.ReviewEvidenceRequest{Name: household + "/evidence/e1"}, codes.InvalidArgument, "decision"},
		{"revoke/no-reason", "clerk", sanzhiv1.EvidenceService_RevokeEvidence_FullMethodName,
			&sanzhiv1.RevokeEvidenceRequest{Name: household + "/evidence/e1"}, codes.InvalidArgument, "reason"},
		{"assess/household-pattern", "officer", sanzhiv1.CreditService_AssessCredit_FullMethodName,
			&sanzhiv1.AssessCreditRequest{Product: product, Household: "villages/x/households/y"}, codes.InvalidArgument, "household"},
		{"drawdown/transaction-id", "officer", sanzhiv1.CreditService_ReportDrawdown_FullMethodName,
			&sanzhiv1.ReportDrawdownRequest{Line: product + "/creditLines/l1", TransactionId: "a b", Amount: "1", Use: "seeds"}, codes.InvalidArgument, "transaction_id"},
		{"consent/channel-in", "officer", sanzhiv1.ConsentService_GrantConsent_FullMethodName,
			&sanzhiv1.GrantConsentRequest{Parent: household, Bank: "banks/tongxiang-rcb", Purposes: []string{"assessment"}, Channel: "fax",
				AuthorisationHash: strings.Repeat("a", 64)}, codes.InvalidArgument, "channel"},
		{"consent/purpose-in", "officer", sanzhiv1.ConsentService_GrantConsent_FullMethodName,
			&sanzhiv1.GrantConsentRequest{Parent: household, Bank: "banks/tongxiang-rcb", Purposes: []string{"marketing"}, Channel: "paper",
				AuthorisationHash: strings.Repeat("a", 64)}, codes.InvalidArgument, "purposes[0]"},
		{"consent/no-purpose", "officer", sanzhiv1.ConsentService_GrantConsent_FullMethodName,
			&sanzhiv1.GrantConsentRequest{Parent: household, Bank: "banks/tongxiang-rcb", Channel: "paper",
				AuthorisationHash: strings.Repeat("a", 64)}, codes.InvalidArgument, "purposes"},
		{"consent/hash-pattern", "officer", sanzhiv1.ConsentService_GrantConsent_FullMethodName,
			&sanzhiv1.GrantConsentRequest{Parent: household, Bank: "banks/tongxiang-rcb", Purposes: []string{"assessment"}, Channel: "paper",
				AuthorisationHash: "abc"}, codes.InvalidArgument, "authorisation_hash"},
		{"policy/empty-document", "risk", sanzhiv1.PolicyService_UploadPolicy_FullMethodName,
			&sanzhiv1.UploadPolicyRequest{Parent: product}, codes.InvalidArgument, "document"},
		{"policies/page-size", "risk", sanzhiv1.PolicyService_ListPolicies_FullMethodName,
			&sanzhiv1.ListPoliciesRequest{Parent: product, PageSize: 1001}, codes.InvalidArgument, "page_size"},
		{"webhook/empty-url", "risk", sanzhiv1.WebhookService_SetWebhook_FullMethodName,
			&sanzhiv1.SetWebhookRequest{Bank: "banks/tongxiang-rcb"}, codes.InvalidArgument, "url"},
		{"household/unauthenticated", "", sanzhiv1.HouseholdService_GetHousehold_FullMethodName,
			&sanzhiv1.GetHouseholdRequest{Name: household}, codes.Unauthenticated, ""},
		{"household/bank-may-not", "officer", sanzhiv1.HouseholdService_GetHousehold_FullMethodName,
			&sanzhiv1.GetHouseholdRequest{Name: household}, codes.PermissionDenied, ""},
		{"household/not-found", "clerk", sanzhiv1.HouseholdService_GetHousehold_FullMethodName,
			&sanzhiv1.GetHouseholdRequest{Name: village + "/households/01936a4e-0000-7000-8000-000000000000"}, codes.NotFound, ""},
	}
	rs := routes(t)
	var out []badCase
	for _, c := range list {
		key := keys[c.who]
		req := c.req
		out = append(out, badCase{name: "grpc/rule/" + c.name, code: c.code, field: c.field,
			grpc: func(ctx context.Context, conn *grpc.ClientConn) error {
				if key != "" {
					ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
				}
				return conn.Invoke(ctx, c.method, req, &emptypb.Empty{})
			}})
		out = append(out, badCase{name: "http/rule/" + c.name, code: c.code, field: c.field, http: transcode(t, rs, c.method, req, key)})
	}
	return out
}

// transcode builds the HTTP request grpc-gateway maps to req.
func transcode(t *testing.T, rs []route, method string, req proto.Message, key string) *httpCall {
	t.Helper()
	for _, r := range rs {
		if r.method != method {
			continue
		}
		m := proto.Clone(req).ProtoReflect()
		get := func(path string) string {
			msg := m
			parts := strings.Split(path, ".")
			for _, p := range parts[:len(parts)-1] {
				msg = msg.Get(msg.Descriptor().Fields().ByName(protoreflect.Name(p))).Message()
			}
			fd := msg.Descriptor().Fields().ByName(protoreflect.Name(parts[len(parts)-1]))
			v := msg.Get(fd).String()
			msg.Clear(fd)
			return v
		}
		path := r.path(func(field, _ string) string { return get(field) })
		call := &httpCall{verb: r.verb, path: path, key: key}
		switch r.body {
		case "":
			q := url.Values{}
			m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
				q.Set(fd.JSONName(), fmt.Sprint(v.Interface()))
				return true
			})
			if len(q) > 0 {
				call.path += "?" + q.Encode()
			}
		case "*":
			b, err := protojson.Marshal(m.Interface())
			require.NoError(t, err)
			call.body = string(b)
		default:
			fd := m.Descriptor().Fields().ByName(protoreflect.Name(r.body))
			b, err := protojson.Marshal(m.Get(fd).Message().Interface())
			require.NoError(t, err)
			call.body = string(b)
			m.Clear(fd)
			q := url.Values{}
			m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
				q.Set(fd.JSONName(), fmt.Sprint(v.Interface()))
				return true
			})
			if len(q) > 0 {
				call.path += "?" + q.Encode()
			}
		}
		return call
	}
	t.Fatalf("no HTTP route for %s", method)
	return nil
}
