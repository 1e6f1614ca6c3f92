package rpc

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the base codec
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sanzhi/sanzhi/fault"
)

// grpc-go turns any error of the server codec into INTERNAL "failed to
// unmarshal", before a single interceptor runs. A request that is not
// valid protobuf, or whose string field holds invalid UTF-8, is the
// caller's mistake, so the codec below never fails: it empties the
// message, remembers why (keyed by the message pointer) and lets the
// errors interceptor, which every call passes before authentication,
// answer INVALID_ARGUMENT with a BadRequest naming the field. Every entry
// is taken by that interceptor, so the table does not grow.

// undecodable maps a request message to the fault its bytes deserved;
// pending counts its entries so the common case (none) costs one atomic
// load per request instead of a map lookup.
var (
	undecodable sync.Map // proto.Message -> *fault.Error
	pending     atomic.Int64
)

// codec wraps grpc's proto codec; only Unmarshal differs.
type codec struct{ base encoding.CodecV2 }

// CodecOption is the server option installing the codec for every
// request, whatever content-subtype the client names.
func CodecOption() grpc.ServerOption {
	return grpc.ForceServerCodecV2(codec{base: encoding.GetCodecV2("proto")})
}

func (c codec) Name() string { return "proto" }

func (c codec) Marshal(v any) (mem.BufferSlice, error) { return c.base.Marshal(v) }

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.base.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return err
	}
	raw := data.Materialize()
	proto.Reset(m)
	undecodable.Store(m, decodeFault(raw, m.ProtoReflect().Descriptor()))
	pending.Add(1)
	return nil
}

// takeUndecodable returns (and forgets) the fault recorded for req, or nil.
func takeUndecodable(req any) *fault.Error {
	if pending.Load() == 0 {
		return nil
	}
	m, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	if f, ok := undecodable.LoadAndDelete(m); ok {
		pending.Add(-1)
		return f.(*fault.Error)
	}
	return nil
}

// decodeFault names the first string field holding invalid UTF-8, or the
// field where the wire format broke; "request" when nothing narrower can
// be named.
func decodeFault(b []byte, md protoreflect.MessageDescriptor) *fault.Error {
	path, utf8Bad := findBadField(b, md, "")
	var v fault.Violations
	if utf8Bad {
		v = append(v, fault.Violation{Field: path, Reason: "INVALID_UTF8",
			Description: "must be valid UTF-8 text", ZH: "必须是有效的 UTF-8 文本"})
	} else {
		if path == "" {
			path = "request"
		}
		v = append(v, fault.Violation{Field: path, Reason: "MALFORMED",
			Description: "is not valid protobuf", ZH: "不是有效的 protobuf 数据"})
	}
	return v.Err().(*fault.Error)
}

// findBadField walks b as a message of type md. It returns the path of
// the first string field that is not valid UTF-8 (utf8Bad true), else the
// path of the field where the encoding breaks (possibly "").
func findBadField(b []byte, md protoreflect.MessageDescriptor, prefix string) (path string, utf8Bad bool) {
	seen := map[protowire.Number]int{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return prefix, false
		}
		fd := md.Fields().ByNumber(num)
		name := prefix
		if fd != nil {
			name = join(prefix, string(fd.Name()))
			if fd.IsList() {
				name = fmt.Sprintf("%s[%d]", name, seen[num])
				seen[num]++
			}
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return name, false
		}
		if fd != nil && typ == protowire.BytesType {
			val, _ := protowire.ConsumeBytes(b[n:])
			switch {
			case fd.Kind() == protoreflect.StringKind && !utf8.Valid(val):
				return name, true
			case fd.IsMap():
				// A map entry is a message of key and value; name the map.
				if p, bad := findBadField(val, fd.Message(), name); bad || p != name {
					return strings.TrimSuffix(strings.TrimSuffix(p, ".key"), ".value"), bad
				}
			case fd.Kind() == protoreflect.MessageKind:
				if p, bad := findBadField(val, fd.Message(), name); bad || p != name {
					return p, bad
				}
			}
		}
		b = b[n+m:]
	}
	return prefix, false
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
