package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/fault"
)

// The HTTP gateway answers with the same error contract as gRPC: every
// error is a google.rpc.Status with ErrorInfo, bad input also with a
// BadRequest naming the field, rendered by rpc.Status. Errors the server
// returned already carry it and pass unchanged; what grpc-gateway itself
// produces (undecodable JSON, bad path or query parameters, unknown
// routes, an unreachable backend) is translated here, and no Go-internal
// text reaches the caller.

// BodyField is the field a violation names when the problem is the body
// as a whole (not JSON at all, cut short) rather than one field in it.
const BodyField = "request body"

// errorHandler is the mux's runtime.ErrorHandlerFunc. A RetryInfo also
// becomes a Retry-After header, which HTTP clients and proxies understand
// without reading the body.
func errorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	err = contractError(ctx, err)
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			secs := int(math.Ceil(ri.GetRetryDelay().AsDuration().Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// streamErrorHandler renders the error that ends a stream.
func streamErrorHandler(ctx context.Context, err error) *status.Status {
	err = contractError(ctx, err)
	var hs *runtime.HTTPStatusError
	if errors.As(err, &hs) {
		err = hs.Err
	}
	return status.Convert(err)
}

// routingErrorHandler answers unknown paths (404) and methods a path does
// not take (405) in the contract too; grpc-gateway's default makes the
// latter a 501, which would read as a server fault.
func routingErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	var f *fault.Error
	switch httpStatus {
	case http.StatusNotFound:
		f = fault.New(fault.NotFound, "NO_ROUTE", "no API resource at this path")
	case http.StatusMethodNotAllowed:
		f = invalid(fault.Violation{Field: "method", Reason: "METHOD_NOT_ALLOWED",
			Description: "this path does not take the " + safeMethod(r.Method) + " method", ZH: "此路径不接受 " + safeMethod(r.Method) + " 方法"})
		f.Reason = "METHOD_NOT_ALLOWED"
	default:
		f = invalid(fault.Violation{Field: "path", Reason: "MALFORMED_PATH",
			Description: "is not a valid resource path", ZH: "不是有效的资源路径"})
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: rpc.Status(f).Err()})
}

// notFound answers a path outside the API in the same shape.
func notFound(w http.ResponseWriter, r *http.Request) {
	b, _ := (&runtime.JSONPb{}).Marshal(rpc.Status(fault.New(fault.NotFound, "NO_ROUTE", "no API resource at this path")).Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(b)
}

func safeMethod(m string) string {
	if len(m) > 16 || strings.IndexFunc(m, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return "given"
	}
	return m
}

// contractError returns err if it already carries ErrorInfo (the server
// rendered it), else its translation.
func contractError(ctx context.Context, err error) error {
	var hs *runtime.HTTPStatusError
	if errors.As(err, &hs) {
		return &runtime.HTTPStatusError{HTTPStatus: hs.HTTPStatus, Err: contractError(ctx, hs.Err)}
	}
	st := status.Convert(err)
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			return err
		}
	}
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded:
		// No fault kind: these are the caller's own context, said as is.
		msg, reason := "request cancelled", "CANCELLED"
		if st.Code() == codes.DeadlineExceeded {
			msg, reason = "deadline exceeded", "DEADLINE_EXCEEDED"
		}
		out := status.New(st.Code(), msg)
		if d, derr := out.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: rpc.ErrorDomain}); derr == nil {
			out = d
		}
		return out.Err()
	}
	return rpc.Status(translate(ctx, st)).Err()
}

func invalid(v ...fault.Violation) *fault.Error {
	return fault.Violations(v).Err().(*fault.Error)
}

// queryField finds the parameter named in grpc-gateway's query and path
// parameter errors, e.g. `parsing field "page_size": …`.
var queryField = regexp.MustCompile(`^(?:parsing field|parsing list|parsing map key|parsing map value|too many values for field|duplicate field|field already set for oneof|field|invalid path:) "([^"]{1,200})"`)

// translate maps a status grpc-gateway made itself to a fault.
func translate(ctx context.Context, st *status.Status) *fault.Error {
	msg := st.Message()
	switch st.Code() {
	case codes.InvalidArgument:
		if d, ok := parseDecodeError(msg); ok {
			d.Field = qualify(ctx, d.message, d.Field)
			return invalid(d.Violation)
		}
		if name, ok := strings.CutPrefix(msg, "missing parameter "); ok {
			return invalid(fault.Violation{Field: name, Reason: "REQUIRED",
				Description: "is required in the path", ZH: "路径中缺少此项"})
		}
		if rest, ok := strings.CutPrefix(msg, "type mismatch, parameter: "); ok {
			name, _, _ := strings.Cut(rest, ",")
			return invalid(fault.Violation{Field: name, Reason: "INVALID_VALUE",
				Description: "has the wrong type or format", ZH: "类型或格式不对"})
		}
		if m := queryField.FindStringSubmatch(msg); m != nil && utf8.ValidString(m[1]) {
			return invalid(fault.Violation{Field: m[1], Reason: "INVALID_QUERY_PARAMETER",
				Description: "is not a valid value for this query parameter", ZH: "查询参数的取值无效"})
		}
		if strings.Contains(msg, "request body too large") {
			return invalid(fault.Violation{Field: BodyField, Reason: "BODY_TOO_LARGE",
				Description: "is too large", ZH: "请求体过大"})
		}
		return invalid(fault.Violation{Field: BodyField, Reason: "MALFORMED",
			Description: "cannot be read as this request", ZH: "无法按此请求读取"})
	case codes.Unavailable:
		return fault.New(fault.Unavailable, "SERVICE_UNAVAILABLE", "the service is unavailable at the moment; retry shortly")
	case codes.NotFound:
		return fault.New(fault.NotFound, "NO_ROUTE", "no API resource at this path")
	case codes.Unauthenticated:
		return fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "credentials are missing or not valid")
	case codes.ResourceExhausted:
		// Not a fault kind of the domain: render it by hand.
		return &fault.Error{Kind: fault.Invalid, Reason: "TOO_LARGE", Message: "the request or its answer is too large",
			Violations: []fault.Violation{{Field: BodyField, Reason: "TOO_LARGE", Description: "is too large", ZH: "请求体过大"}}}
	default:
		return &fault.Error{Kind: fault.Internal, Reason: "INTERNAL", Message: "internal error"}
	}
}

// decodeError is a body decoding failure located in the body. Its text is
// how it travels: grpc-gateway's generated handlers keep only the text of
// a decoder's error (status.Errorf("%v", err)).
type decodeError struct {
	fault.Violation
	message string // full name of the message decoded into
}

const decodeMarker = "sanzhi-gateway-decode:"

type decodeWire struct {
	Field, Reason, Description, ZH, Message string
}

func (e *decodeError) Error() string {
	b, _ := json.Marshal(decodeWire{e.Field, e.Reason, e.Description, e.ZH, e.message})
	return decodeMarker + string(b)
}

func parseDecodeError(msg string) (*decodeError, bool) {
	rest, ok := strings.CutPrefix(msg, decodeMarker)
	if !ok {
		return nil, false
	}
	var w decodeWire
	if json.Unmarshal([]byte(rest), &w) != nil {
		return nil, false
	}
	return &decodeError{Violation: fault.Violation{Field: w.Field, Reason: w.Reason, Description: w.Description, ZH: w.ZH}, message: w.Message}, true
}

// qualify prefixes field with the request field the body maps to
// (`body: household` decodes into CreateHouseholdRequest.household).
func qualify(ctx context.Context, message, field string) string {
	if field == BodyField || message == "" {
		return field
	}
	method, ok := runtime.RPCMethod(ctx)
	if !ok {
		return field
	}
	in := inputOf(method)
	if in == nil || string(in.FullName()) == message {
		return field
	}
	fields := in.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Message() != nil && string(fd.Message().FullName()) == message {
			return string(fd.Name()) + "." + field
		}
	}
	return field
}

// inputOf returns the request type of a full method name "/pkg.Svc/M".
func inputOf(method string) protoreflect.MessageDescriptor {
	svc, m, ok := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	if !ok {
		return nil
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok || sd.Methods().ByName(protoreflect.Name(m)) == nil {
		return nil
	}
	return sd.Methods().ByName(protoreflect.Name(m)).Input()
}

// marshaler is JSONPb whose decoder locates what is wrong in a body.
type marshaler struct{ *runtime.JSONPb }

func (m marshaler) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err // e.g. a body over the size cap: not the JSON's fault
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return io.EOF // no body: the handlers accept that
		}
		if err := m.JSONPb.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
			return locate(b, descriptorOf(v), err)
		}
		return nil
	})
}

var protoMessage = reflect.TypeFor[proto.Message]()

// descriptorOf finds the message type v decodes into (*T or **T).
func descriptorOf(v any) protoreflect.MessageDescriptor {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		if t.Implements(protoMessage) {
			return reflect.Zero(t).Interface().(proto.Message).ProtoReflect().Descriptor()
		}
		t = t.Elem()
	}
	return nil
}

// position matches protojson's "(line L:C)".
var position = regexp.MustCompile(`\(line (\d+):(\d+)\)`)

// locate turns a decoding error into a decodeError naming the field at the
// error's position, in proto field names.
func locate(body []byte, md protoreflect.MessageDescriptor, err error) error {
	var name string
	if md != nil {
		name = string(md.FullName())
	}
	text := err.Error()
	whole := func(reason, en, zh string) error {
		return &decodeError{Violation: fault.Violation{Field: BodyField, Reason: reason, Description: en, ZH: zh}, message: name}
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(text, "syntax error") && !strings.Contains(text, "UTF-8") {
		return whole("MALFORMED_JSON", "is not valid JSON", "不是有效的 JSON")
	}
	var v fault.Violation
	switch {
	case strings.Contains(text, "UTF-8"):
		v = fault.Violation{Reason: "INVALID_UTF8", Description: "must be valid UTF-8 text", ZH: "必须是有效的 UTF-8 文本"}
	case strings.Contains(text, "unknown field"):
		v = fault.Violation{Reason: "UNKNOWN_FIELD", Description: "is not a field of this request", ZH: "不是此请求的字段"}
	case strings.Contains(text, "duplicate field"):
		v = fault.Violation{Reason: "DUPLICATE_FIELD", Description: "appears more than once", ZH: "出现了不止一次"}
	case strings.Contains(text, "oneof"):
		v = fault.Violation{Reason: "ONEOF_CONFLICT", Description: "conflicts with another field set in the same group", ZH: "与同组中已填写的字段冲突"}
	case strings.Contains(text, "Timestamp"):
		v = fault.Violation{Reason: "INVALID_TIMESTAMP", Description: "must be a time like 2026-01-02T15:04:05Z", ZH: "必须是形如 2026-01-02T15:04:05Z 的时间"}
	case strings.Contains(text, "Duration"):
		v = fault.Violation{Reason: "INVALID_DURATION", Description: "must be a duration like 3.5s", ZH: "必须是形如 3.5s 的时长"}
	case strings.Contains(text, "enum"):
		v = fault.Violation{Reason: "INVALID_ENUM", Description: "is not one of the allowed values", ZH: "不是允许的取值之一"}
	case strings.Contains(text, "invalid value"):
		v = fault.Violation{Reason: "INVALID_VALUE", Description: "has the wrong type or format", ZH: "类型或格式不对"}
	default:
		return whole("MALFORMED", "cannot be read as this request", "无法按此请求读取")
	}
	v.Field = fieldAt(body, text, md)
	if v.Field == "" {
		v.Field = BodyField
	}
	return &decodeError{Violation: v, message: name}
}

// fieldAt returns the proto path of the key or value at the position
// protojson reported, or "".
func fieldAt(body []byte, text string, md protoreflect.MessageDescriptor) string {
	m := position.FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	raw := bytes.TrimLeft(body, " \t\r\n") // protojson saw the value without leading space
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(raw[off:], '\n')
		if i < 0 {
			return ""
		}
		off += i + 1
	}
	for c := 1; c < col && off < len(raw); c++ {
		_, size := utf8.DecodeRune(raw[off:])
		off += size
	}
	return pathAt(raw, off, md)
}

// frame is one open object or array while pathAt walks a body.
type frame struct {
	md     protoreflect.MessageDescriptor // the message an object decodes into
	fd     protoreflect.FieldDescriptor   // the list or map field an array or object holds
	path   string
	array  bool
	index  int
	key    string // the last key read in an object
	expect bool   // object: the next token is a key
}

// done records that a value of f ended.
func (f *frame) done() {
	if f.array {
		f.index++
	} else {
		f.expect = true
	}
}

// child returns the path and types of the value f holds next.
func (f *frame) child() (string, protoreflect.MessageDescriptor, protoreflect.FieldDescriptor) {
	if f.array {
		var md protoreflect.MessageDescriptor
		if f.fd != nil {
			md = f.fd.Message()
		}
		return fmt.Sprintf("%s[%d]", f.path, f.index), md, nil
	}
	if f.fd != nil && f.fd.IsMap() { // a map's key is data, not a field
		return f.path + "[" + strconv.Quote(f.key) + "]", f.fd.MapValue().Message(), nil
	}
	var fd protoreflect.FieldDescriptor
	name := f.key
	if f.md != nil {
		if fd = f.md.Fields().ByJSONName(f.key); fd == nil {
			fd = f.md.Fields().ByTextName(f.key)
		}
		if fd != nil {
			name = string(fd.Name())
		}
	}
	p := name
	if f.path != "" {
		p = f.path + "." + name
	}
	switch {
	case fd == nil:
		return p, nil, nil
	case fd.IsList() || fd.IsMap():
		return p, nil, fd
	default:
		return p, fd.Message(), nil
	}
}

// pathAt walks the JSON in raw and returns the path of the token starting
// at off: for a key, the key's path; for a value, the path of the key or
// array element holding it. Keys become proto field names while the
// descriptor knows them; unknown keys stay as sent.
func pathAt(raw []byte, off int, md protoreflect.MessageDescriptor) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var stack []*frame
	for {
		start := int(dec.InputOffset())
		for start < len(raw) && strings.IndexByte(" \t\r\n,:", raw[start]) >= 0 {
			start++
		}
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if !top.array && top.expect {
				if d, ok := tok.(json.Delim); ok && d == '}' {
					stack = pop(stack)
					continue
				}
				top.key, _ = tok.(string)
				top.expect = false
				if start >= off {
					p, _, _ := top.child()
					return p
				}
				continue
			}
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = pop(stack)
			continue
		}
		p, cmd, cfd := "", md, (protoreflect.FieldDescriptor)(nil)
		if len(stack) > 0 {
			p, cmd, cfd = stack[len(stack)-1].child()
		}
		if start >= off {
			return p
		}
		if d, ok := tok.(json.Delim); ok {
			fr := &frame{md: cmd, fd: cfd, path: p, array: d == '[', expect: d == '{'}
			if cfd != nil && cfd.IsList() && d == '{' {
				fr.fd, fr.md = nil, nil // a list where an object was sent: no names below
			}
			stack = append(stack, fr)
			continue
		}
		if len(stack) > 0 {
			stack[len(stack)-1].done()
		}
	}
}

// pop closes the innermost container, which ends a value of its parent.
func pop(stack []*frame) []*frame {
	stack = stack[:len(stack)-1]
	if len(stack) > 0 {
		stack[len(stack)-1].done()
	}
	return stack
}

// Path and query parameters reach the request unchecked; one holding
// invalid UTF-8 (e.g. %FF) makes grpc's client refuse to marshal the
// request with INTERNAL. These client interceptors turn that refusal into
// INVALID_ARGUMENT naming the parameter.

func utf8Unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return utf8Refusal(req, invoker(ctx, method, req, reply, cc, opts...))
}

func utf8Stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, err
	}
	return utf8ClientStream{cs}, nil
}

type utf8ClientStream struct{ grpc.ClientStream }

func (s utf8ClientStream) SendMsg(m any) error { return utf8Refusal(m, s.ClientStream.SendMsg(m)) }

func utf8Refusal(req any, err error) error {
	if status.Code(err) != codes.Internal {
		return err
	}
	m, ok := req.(proto.Message)
	if !ok {
		return err
	}
	if path := invalidUTF8(m.ProtoReflect(), ""); path != "" {
		return rpc.Status(invalid(fault.Violation{Field: path, Reason: "INVALID_UTF8",
			Description: "must be valid UTF-8 text", ZH: "必须是有效的 UTF-8 文本"})).Err()
	}
	return err
}

// invalidUTF8 returns the path of the first string field of m that is not
// valid UTF-8, or "".
func invalidUTF8(m protoreflect.Message, prefix string) string {
	var found string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := string(fd.Name())
		if prefix != "" {
			p = prefix + "." + p
		}
		check := func(p string, v protoreflect.Value, kind protoreflect.Kind) string {
			switch kind {
			case protoreflect.StringKind:
				if !utf8.ValidString(v.String()) {
					return p
				}
			case protoreflect.MessageKind, protoreflect.GroupKind:
				return invalidUTF8(v.Message(), p)
			}
			return ""
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				if found = check(fmt.Sprintf("%s[%d]", p, i), l.Get(i), fd.Kind()); found != "" {
					return false
				}
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				if !utf8.ValidString(k.String()) {
					found = p
					return false
				}
				found = check(p, mv, fd.MapValue().Kind())
				return found == ""
			})
		default:
			found = check(p, v, fd.Kind())
		}
		return found == ""
	})
	return found
}
