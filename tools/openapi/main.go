// Command openapi finishes the OpenAPI document that protoc-gen-openapiv2
// writes (`make proto` runs it after buf generate), and converts it to
// OpenAPI 3:
//
//   - a request field is required when its buf.validate rules refuse its
//     zero value (a pattern "" does not match, min_len 1, required, …),
//     and a string field with an `in` rule lists those values as its enum.
//     The generator reads neither from buf.validate, and writing them again
//     by hand would let the two drift apart;
//   - the generator names an expanded path parameter after its collection
//     without the "s" ({policie}, {countie}); they are mended to {policy};
//   - the OpenAPI 3.0 document is converted from the finished 2.0 one
//     (kin-openapi's openapi2conv), its key scheme made an HTTP bearer one.
//
// The rules are read from the compiled descriptors of package sanzhi.v1, so
// the tool must be built after the Go code is regenerated.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	_ "github.com/sanzhi/sanzhi/proto/sanzhi/v1" // registers the descriptors read here
)

func main() {
	v2 := flag.String("swagger", "adapters/gateway/openapi/sanzhi.swagger.json", "the OpenAPI 2.0 document to finish in place")
	v3 := flag.String("openapi3", "adapters/gateway/openapi/sanzhi.openapi3.json", "where to write the OpenAPI 3.0 document")
	flag.Parse()
	if err := run(*v2, *v3); err != nil {
		fmt.Fprintln(os.Stderr, "openapi:", err)
		os.Exit(1)
	}
}

func run(v2Path, v3Path string) error {
	raw, err := os.ReadFile(v2Path)
	if err != nil {
		return fmt.Errorf("cannot read the generated document: %w", err)
	}
	doc, err := decode(raw)
	if err != nil {
		return fmt.Errorf("%s is not JSON: %w", v2Path, err)
	}
	v, err := protovalidate.New()
	if err != nil {
		return fmt.Errorf("cannot build the validator: %w", err)
	}
	f := finisher{doc: doc, v: v, required: map[protoreflect.FullName][]string{}}
	if err := f.finish(); err != nil {
		return err
	}
	out, err := encode(doc)
	if err != nil {
		return err
	}
	if err := os.WriteFile(v2Path, out, 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", v2Path, err)
	}
	out3, err := toV3(out)
	if err != nil {
		return err
	}
	if err := os.WriteFile(v3Path, out3, 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", v3Path, err)
	}
	return nil
}

type obj = map[string]any

type finisher struct {
	doc      obj
	v        protovalidate.Validator
	required map[protoreflect.FullName][]string // JSON names, by message
}

// singular mends a parameter the generator named by dropping an "s".
var singular = regexp.MustCompile(`\{([A-Za-z]+)ie\}`)

func (f *finisher) finish() error {
	methods := map[string]protoreflect.MethodDescriptor{}
	protoregistry.GlobalFiles.RangeFilesByPackage("sanzhi.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			s := fd.Services().Get(i)
			for j := range s.Methods().Len() {
				m := s.Methods().Get(j)
				methods[string(s.Name())+"_"+string(m.Name())] = m
			}
		}
		return true
	})
	if len(methods) == 0 {
		return errors.New("no sanzhi.v1 services are registered")
	}
	paths, _ := f.doc["paths"].(obj)
	mended := obj{}
	for path, item := range paths {
		mended[singular.ReplaceAllString(path, "{${1}y}")] = item
		for _, op := range item.(obj) {
			op := op.(obj)
			id, _ := op["operationId"].(string)
			// An additional binding's operation is numbered: ListReviews2.
			m, ok := methods[strings.TrimRight(id, "0123456789")]
			if !ok {
				return fmt.Errorf("operation %q names no sanzhi.v1 method", id)
			}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				if err := f.param(p.(obj), m.Input()); err != nil {
					return fmt.Errorf("%s: %w", id, err)
				}
			}
		}
	}
	f.doc["paths"] = mended
	return nil
}

func (f *finisher) param(p obj, req protoreflect.MessageDescriptor) error {
	name, _ := p["name"].(string)
	switch p["in"] {
	case "path":
		if fixed := singular.ReplaceAllString("{"+name+"}", "{${1}y}"); fixed != "{"+name+"}" {
			p["name"] = strings.Trim(fixed, "{}")
		}
	case "query":
		fd := req.Fields().ByJSONName(name)
		if fd == nil {
			return nil // a nested field (a.b): its rules are its message's
		}
		if slices.Contains(f.requiredOf(req), name) {
			p["required"] = true
		}
		if e := enum(fd); e != nil {
			if fd.IsList() {
				p["items"].(obj)["enum"] = e
			} else {
				p["enum"] = e
			}
		}
	case "body":
		msg := req
		if name != "body" { // body: "household" sends one field
			fd := req.Fields().ByJSONName(name)
			if fd == nil || fd.Message() == nil {
				return fmt.Errorf("body %q is not a message field of %s", name, req.FullName())
			}
			msg = fd.Message()
		}
		schema, _ := p["schema"].(obj)
		return f.schema(f.resolve(schema), msg, map[string]bool{})
	}
	return nil
}

// resolve follows a local $ref into the definitions.
func (f *finisher) resolve(s obj) obj {
	ref, ok := s["$ref"].(string)
	if !ok {
		return s
	}
	defs, _ := f.doc["definitions"].(obj)
	d, _ := defs[strings.TrimPrefix(ref, "#/definitions/")].(obj)
	return d
}

// schema writes msg's required fields and enums into its schema s, and
// into the schemas of the sanzhi.v1 messages it holds.
func (f *finisher) schema(s obj, msg protoreflect.MessageDescriptor, seen map[string]bool) error {
	if s == nil || seen[string(msg.FullName())] {
		return nil
	}
	seen[string(msg.FullName())] = true
	props, _ := s["properties"].(obj)
	var req []string
	if old, ok := s["required"].([]any); ok {
		for _, r := range old {
			req = append(req, r.(string))
		}
	}
	for _, name := range f.requiredOf(msg) {
		if _, ok := props[name]; ok { // a path parameter is not in the body
			req = append(req, name)
		}
	}
	if len(req) > 0 {
		slices.Sort(req)
		req = slices.Compact(req)
		s["required"] = toAny(req)
	}
	for i := range msg.Fields().Len() {
		fd := msg.Fields().Get(i)
		prop, _ := props[fd.JSONName()].(obj)
		if prop == nil {
			continue
		}
		if e := enum(fd); e != nil {
			if fd.IsList() {
				prop["items"].(obj)["enum"] = e
			} else {
				prop["enum"] = e
			}
		}
		if fd.Message() != nil && fd.Message().ParentFile().Package() == "sanzhi.v1" && !fd.IsMap() {
			inner := prop
			if fd.IsList() {
				inner, _ = prop["items"].(obj)
			}
			if err := f.schema(f.resolve(inner), fd.Message(), seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// requiredOf lists the JSON names of msg's fields whose zero value its
// buf.validate rules refuse: what a request must carry.
func (f *finisher) requiredOf(msg protoreflect.MessageDescriptor) []string {
	if r, ok := f.required[msg.FullName()]; ok {
		return r
	}
	var names []string
	var ve *protovalidate.ValidationError
	if err := f.v.Validate(dynamicpb.NewMessage(msg)); errors.As(err, &ve) {
		for _, viol := range ve.Violations {
			elems := viol.Proto.GetField().GetElements()
			if len(elems) == 0 {
				continue // a rule on the whole message
			}
			if fd := msg.Fields().ByName(protoreflect.Name(elems[0].GetFieldName())); fd != nil {
				names = append(names, fd.JSONName())
			}
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	f.required[msg.FullName()] = names
	return names
}

// enum is the values a string field's `in` rule allows, less "" (the
// field left out).
func enum(fd protoreflect.FieldDescriptor) []any {
	rules, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
	in := rules.GetString().GetIn()
	if fd.IsList() {
		in = rules.GetRepeated().GetItems().GetString().GetIn()
	}
	var out []any
	for _, v := range in {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func decode(b []byte) (obj, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // 100000000 stays 100000000, not 1e+08
	var doc obj
	return doc, dec.Decode(&doc)
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("cannot encode the document: %w", err)
	}
	return buf.Bytes(), nil
}

// toV3 converts the finished 2.0 document, and checks the result.
func toV3(v2 []byte) ([]byte, error) {
	var d2 openapi2.T
	if err := json.Unmarshal(v2, &d2); err != nil {
		return nil, fmt.Errorf("cannot read the 2.0 document for conversion: %w", err)
	}
	d3, err := openapi2conv.ToV3(&d2)
	if err != nil {
		return nil, fmt.Errorf("cannot convert to OpenAPI 3: %w", err)
	}
	// 2.0 has no bearer scheme: there it is an API key in Authorization.
	if ref := d3.Components.SecuritySchemes["BearerAuth"]; ref != nil && ref.Value != nil {
		desc := ref.Value.Description
		ref.Value = openapi3.NewSecurityScheme().WithType("http").WithScheme("bearer").WithDescription(desc)
	}
	// Relative: the API is where the document is served (GET /openapi3.json).
	if len(d3.Servers) == 0 {
		d3.Servers = openapi3.Servers{{URL: "/", Description: "the sanzhid HTTP listener that serves this document"}}
	}
	if err := d3.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the converted OpenAPI 3 document is not valid: %w", err)
	}
	b, err := json.Marshal(d3)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the OpenAPI 3 document: %w", err)
	}
	doc, err := decode(b)
	if err != nil {
		return nil, err
	}
	return encode(doc)
}
