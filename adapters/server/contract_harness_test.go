package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for row counts
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
)

// This file is the harness of the error-contract suites: the HTTP routes
// read from the gRPC API configuration, a raw codec that sends bytes a
// real client would refuse to marshal, row counts of every table (to prove
// a refused request wrote nothing) and the checks every error must pass.

// route is one HTTP binding of an RPC.
type route struct {
	method string // full gRPC method, /sanzhi.v1.Svc/M
	verb   string // GET, POST, …
	tmpl   string // /v1/{parent=villages/*}/households
	body   string // "", "*" or a field name
	in     protoreflect.MessageDescriptor
}

// routes parses proto/sanzhi/v1/sanzhi_http.yaml.
func routes(t testing.TB) []route {
	t.Helper()
	b, err := os.ReadFile("../../proto/sanzhi/v1/sanzhi_http.yaml")
	require.NoError(t, err)
	type binding struct {
		Get, Post, Patch, Delete, Put string
		Body                          string
	}
	var doc struct {
		HTTP struct {
			Rules []struct {
				Selector string
				binding  `yaml:",inline"`
				More     []binding `yaml:"additional_bindings"`
			}
		}
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	var out []route
	for _, r := range doc.HTTP.Rules {
		i := strings.LastIndexByte(r.Selector, '.')
		method := "/" + r.Selector[:i] + "/" + r.Selector[i+1:]
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(r.Selector))
		require.NoError(t, err, r.Selector)
		in := d.(protoreflect.MethodDescriptor).Input()
		for _, bd := range append([]binding{r.binding}, r.More...) {
			for verb, path := range map[string]string{"GET": bd.Get, "POST": bd.Post, "PATCH": bd.Patch, "DELETE": bd.Delete, "PUT": bd.Put} {
				if path != "" {
					out = append(out, route{method: method, verb: verb, tmpl: path, body: bd.Body, in: in})
				}
			}
		}
	}
	require.Greater(t, len(out), 40)
	return out
}

var pathVar = regexp.MustCompile(`\{([a-z_.]+)=([^}]+)\}`)

// path fills the template's variables; value(field, pattern) gives each.
func (r route) path(value func(field, pattern string) string) string {
	return pathVar.ReplaceAllStringFunc(r.tmpl, func(m string) string {
		sub := pathVar.FindStringSubmatch(m)
		return value(sub[1], sub[2])
	})
}

// samplePath fills every * of the variables with a plausible segment.
func (r route) samplePath() string {
	return r.path(func(_, pattern string) string {
		segs := strings.Split(pattern, "/")
		for i, s := range segs {
			if pre, ok := strings.CutSuffix(s, "*"); ok {
				switch {
				case i > 0 && segs[i-1] == "villages":
					segs[i] = pre + "330483102201"
				case i > 0 && segs[i-1] == "banks":
					segs[i] = pre + "tongxiang-rcb"
				case i > 0 && (segs[i-1] == "entries" || segs[i-1] == "deadLetters"):
					segs[i] = pre + "1"
				default:
					segs[i] = pre + "x1"
				}
			}
		}
		return strings.Join(segs, "/")
	})
}

// pathFields are the request fields bound in the path.
func (r route) pathFields() []string {
	var out []string
	for _, m := range pathVar.FindAllStringSubmatch(r.tmpl, -1) {
		out = append(out, m[1])
	}
	return out
}

// bodyMessage is the message the body decodes into and the path prefix
// its fields get in the request ("" for body "*").
func (r route) bodyMessage() (protoreflect.MessageDescriptor, string) {
	if r.body == "*" {
		return r.in, ""
	}
	fd := r.in.Fields().ByName(protoreflect.Name(r.body))
	return fd.Message(), r.body + "."
}

// firstField returns the first field of md of one of kinds that is not
// bound in the path (nil when none).
func firstField(md protoreflect.MessageDescriptor, skip []string, kinds ...protoreflect.Kind) protoreflect.FieldDescriptor {
	for i := range md.Fields().Len() {
		fd := md.Fields().Get(i)
		if slices.Contains(kinds, fd.Kind()) && !fd.IsList() && !fd.IsMap() && !slices.Contains(skip, string(fd.Name())) {
			return fd
		}
	}
	return nil
}

// rawCodec sends []byte as they are and decodes answers as protobuf.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}

func (rawCodec) Name() string { return "proto" }

// rowCounter counts the rows of every table of a database, in one
// statement, so a suite can prove a refused request wrote nothing.
type rowCounter struct {
	db    *sql.DB
	query string
}

func newRowCounter(t testing.TB, url string) *rowCounter {
	t.Helper()
	var db *sql.DB
	var err error
	var list string
	if strings.HasPrefix(url, "sqlite://") {
		path, perr := sqlite.PathFromURL(url)
		require.NoError(t, perr)
		db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
		list = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	} else {
		db, err = sql.Open("pgx", url)
		list = `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`
	}
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	rows, err := db.Query(list)
	require.NoError(t, err)
	var parts []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		parts = append(parts, `SELECT '`+name+`' AS t, count(*) AS n FROM "`+name+`"`)
	}
	require.NoError(t, rows.Err())
	require.Greater(t, len(parts), 10, "the schema has its tables")
	return &rowCounter{db: db, query: strings.Join(parts, " UNION ALL ")}
}

// counts returns table -> rows.
func (c *rowCounter) counts(t testing.TB) map[string]int64 {
	t.Helper()
	rows, err := c.db.Query(c.query)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		require.NoError(t, rows.Scan(&name, &n))
		out[name] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// goInternal are fragments of Go, protobuf and grpc error texts that must
// never reach a caller.
var goInternal = []string{"proto:", "grpc:", "strconv.", "json:", "unexpected EOF", "(line ", "syntax error",
	"invalid character", "type mismatch", "reflect", "<nil>", "%!", "goroutine", "runtime error"}

// readsAsCode matches protovalidate's default texts: regular expressions
// and Go-formatted lists.
var readsAsCode = regexp.MustCompile(`regex|\^\[|\]\{[0-9]|\$\x60|in list \[|value must|value length|value is required`)

// contractOK checks the error contract on a status: ErrorInfo with our
// domain and a reason; for INVALID_ARGUMENT a BadRequest with a violation
// of wantField (when set); for UNAVAILABLE a RetryInfo; no Go-internal
// text.
func contractOK(t testing.TB, st *status.Status, wantField string) {
	t.Helper()
	var info *errdetails.ErrorInfo
	var br *errdetails.BadRequest
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			br = d
		case *errdetails.RetryInfo:
			retry = d
		}
	}
	require.NotNil(t, info, "every error carries google.rpc.ErrorInfo: %s %q", st.Code(), st.Message())
	assert.Equal(t, rpc.ErrorDomain, info.Domain)
	assert.NotEmpty(t, info.Reason)
	for _, frag := range goInternal {
		assert.NotContains(t, st.Message(), frag, "no Go-internal text in the message")
	}
	assert.NotRegexp(t, readsAsCode, st.Message(), "the message is a sentence, not a regular expression")
	if st.Code() == codes.Unavailable {
		require.NotNil(t, retry, "UNAVAILABLE carries google.rpc.RetryInfo")
		assert.Positive(t, retry.RetryDelay.AsDuration())
	}
	if st.Code() != codes.InvalidArgument {
		return
	}
	require.NotNil(t, br, "INVALID_ARGUMENT carries google.rpc.BadRequest: %q", st.Message())
	require.NotEmpty(t, br.FieldViolations)
	var fields []string
	for _, v := range br.FieldViolations {
		fields = append(fields, v.Field)
		for _, frag := range goInternal {
			assert.NotContains(t, v.Description, frag, "no Go-internal text in %s's description", v.Field)
		}
		assert.NotRegexp(t, readsAsCode, v.Description, "%s's description is a sentence", v.Field)
	}
	if wantField != "" {
		assert.Contains(t, fields, wantField, "a violation names the field (message %q)", st.Message())
	}
}

// httpCall is one HTTP request of a suite.
type httpCall struct {
	verb, path, body, key string
}

// do sends c and returns the HTTP status and the body parsed as a
// google.rpc.Status (nil for a 2xx).
func (c httpCall) do(t testing.TB, base string) (int, *status.Status) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.verb, base+c.path, body)
	require.NoError(t, err)
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, parseStatus(t, b)
}

// parseStatus reads the gateway's JSON error body.
func parseStatus(t testing.TB, b []byte) *status.Status {
	t.Helper()
	// A stream's error is wrapped: {"error": Status}.
	var wrapped struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(b, &wrapped) == nil && len(wrapped.Error) > 0 {
		b = wrapped.Error
	}
	var raw struct {
		Code    int32             `json:"code"`
		Message string            `json:"message"`
		Details []json.RawMessage `json:"details"`
	}
	require.NoError(t, json.Unmarshal(b, &raw), "the error body is JSON: %s", b)
	st := status.New(codes.Code(raw.Code), raw.Message)
	for _, d := range raw.Details {
		var head struct {
			Type string `json:"@type"`
		}
		require.NoError(t, json.Unmarshal(d, &head))
		var m proto.Message
		switch head.Type {
		case "type.googleapis.com/google.rpc.ErrorInfo":
			m = &errdetails.ErrorInfo{}
		case "type.googleapis.com/google.rpc.BadRequest":
			m = &errdetails.BadRequest{}
		case "type.googleapis.com/google.rpc.RetryInfo":
			m = &errdetails.RetryInfo{}
		default:
			continue
		}
		require.NoError(t, protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(d, m))
		withD, err := st.WithDetails(protoadapt.MessageV1Of(m))
		require.NoError(t, err)
		st = withD
	}
	return st
}
