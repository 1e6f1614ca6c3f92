package rpc

import (
	"fmt"
	"strings"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// protovalidate's own messages read as code ("value does not match regex
// pattern `^[0-9]{1,12}…`", "must not be in list [0]"). A village clerk
// sees these next to a form field, so each rule kind our protos use gets
// a sentence in English and in zh-CN, and each pattern a description of
// what it accepts. TestEveryRuleHasASentence fails when a proto starts
// using a rule or pattern that has none.

// sentence is one explanation in both languages.
type sentence struct{ EN, ZH string }

// patterns describe, per regular expression used in proto/sanzhi/v1, what
// a matching value looks like.
var patterns = map[string]sentence{
	`^villages/[^/]+$`: {"must be a village name: villages/{village code}",
		"必须是村名称，形如 villages/{村代码}"},
	`^villages/[^/]+/households/[^/]+$`: {"must be a household name: villages/{village code}/households/{household id}",
		"必须是农户名称，形如 villages/{村代码}/households/{农户编号}"},
	`^villages/[0-9]{12}/households/[^/]+$`: {"must be a household name: villages/{12-digit village code}/households/{household id}",
		"必须是农户名称，形如 villages/{12位村代码}/households/{农户编号}"},
	`^villages/[^/]+(/households/[^/]+)?$`: {"must be a village or a household name: villages/{village code}, optionally followed by /households/{household id}",
		"必须是村或农户名称，形如 villages/{村代码} 或 villages/{村代码}/households/{农户编号}"},
	`^villages/[^/]+/households/[^/]+/evidence/[^/]+$`: {"must be an evidence name: villages/{village code}/households/{household id}/evidence/{evidence id}",
		"必须是积分凭证名称，形如 villages/{村代码}/households/{农户编号}/evidence/{凭证编号}"},
	`^villages/[0-9]{12}/households/[^/]+/consents/[^/]+$`: {"must be a consent name: villages/{12-digit village code}/households/{household id}/consents/{consent id}",
		"必须是授权名称，形如 villages/{12位村代码}/households/{农户编号}/consents/{授权编号}"},
	`^(counties|villages)/[^/]+$`: {"must be a county or a village: counties/{county code} or villages/{village code}",
		"必须是县或村，形如 counties/{县代码} 或 villages/{村代码}"},
	`^(counties|villages)/[^/]+/catalogues/[^/]+$`: {"must be a catalogue name: counties/{county code}/catalogues/{version} or villages/{village code}/catalogues/{version}",
		"必须是积分目录名称，形如 counties/{县代码}/catalogues/{版本} 或 villages/{村代码}/catalogues/{版本}"},
	`^banks/[^/]+$`: {"must be a bank name: banks/{bank id}",
		"必须是银行名称，形如 banks/{银行编号}"},
	`^banks/[a-z0-9][a-z0-9-]{0,62}$`: {"must be a bank name: banks/ followed by an id of lower-case letters, digits and hyphens",
		"必须是银行名称：banks/ 后接由小写字母、数字和连字符组成的编号"},
	`^(banks/[a-z0-9][a-z0-9-]{0,62})?$`: {"must be empty or a bank name: banks/ followed by an id of lower-case letters, digits and hyphens",
		"必须为空，或是银行名称：banks/ 后接由小写字母、数字和连字符组成的编号"},
	`^banks/[^/]+/products/[^/]+$`: {"must be a product name: banks/{bank id}/products/{product id}",
		"必须是信贷产品名称，形如 banks/{银行编号}/products/{产品编号}"},
	`^banks/[^/]+/products/[^/]+/policies/[^/]+$`: {"must be a policy name: banks/{bank id}/products/{product id}/policies/{version}",
		"必须是授信政策名称，形如 banks/{银行编号}/products/{产品编号}/policies/{版本}"},
	`^(banks/[^/]+/products/[^/]+/policies/[^/]+)?$`: {"must be empty or a policy name: banks/{bank id}/products/{product id}/policies/{version}",
		"必须为空，或是授信政策名称，形如 banks/{银行编号}/products/{产品编号}/policies/{版本}"},
	`^banks/[^/]+/products/[^/]+/creditLines/[^/]+$`: {"must be a credit line name: banks/{bank id}/products/{product id}/creditLines/{line id}",
		"必须是授信额度名称，形如 banks/{银行编号}/products/{产品编号}/creditLines/{额度编号}"},
	`^banks/[^/]+/products/[^/]+/decisions/[^/]+$`: {"must be a decision name: banks/{bank id}/products/{product id}/decisions/{decision id}",
		"必须是授信决定名称，形如 banks/{银行编号}/products/{产品编号}/decisions/{决定编号}"},
	`^banks/[^/]+/products/[^/]+/reviews/[^/]+$`: {"must be a review name: banks/{bank id}/products/{product id}/reviews/{review id}",
		"必须是复核名称，形如 banks/{银行编号}/products/{产品编号}/reviews/{复核编号}"},
	`^banks/[^/]+/products/[^/]+/reassessments/[^/]+$`: {"must be a re-assessment name: banks/{bank id}/products/{product id}/reassessments/{run id}",
		"必须是重新评估名称，形如 banks/{银行编号}/products/{产品编号}/reassessments/{批次编号}"},
	`^banks/[^/]+/webhook$`: {"must be a bank's webhook: banks/{bank id}/webhook",
		"必须是银行的回调设置，形如 banks/{银行编号}/webhook"},
	`^banks/[^/]+/webhook/deadLetters/[0-9]+$`: {"must be an undelivered event: banks/{bank id}/webhook/deadLetters/{number}",
		"必须是未送达事件，形如 banks/{银行编号}/webhook/deadLetters/{序号}"},
	`^villages/[^/]+/dividendRules/[^/]+$`: {"must be a village's dividend rule: villages/{village code}/dividendRules/{version}",
		"必须是村分红规则名称，形如 villages/{村代码}/dividendRules/{版本号}"},
	`^villages/[^/]+/dividendRounds/[^/]+$`: {"must be a village's dividend round: villages/{village code}/dividendRounds/{round id}",
		"必须是村分红批次名称，形如 villages/{村代码}/dividendRounds/{批次编号}"},
	`^villages/[^/]+/dividendRounds/[^/]+/objections/[^/]+$`: {"must be an objection to a dividend round: villages/{village code}/dividendRounds/{round id}/objections/{objection id}",
		"必须是分红异议名称，形如 villages/{村代码}/dividendRounds/{批次编号}/objections/{异议编号}"},
	`^villages/[^/]+/goods/[^/]+$`: {"must be a good of a village's points shop: villages/{village code}/goods/{good code}",
		"必须是兑换超市物品名称，形如 villages/{村代码}/goods/{物品编码}"},
	`^villages/[^/]+/households/[^/]+/redemptions/[^/]+$`: {"must be a redemption receipt: villages/{village code}/households/{household id}/redemptions/{receipt id}",
		"必须是兑换收据名称，形如 villages/{村代码}/households/{农户编号}/redemptions/{收据编号}"},
	`^[0-9]{4}-[0-9]{2}$`: {"must be a month written like 2026-03",
		"必须是形如 2026-03 的月份"},
	`^entries/[0-9]{1,19}$`: {"must be an audit entry name: entries/{number}",
		"必须是审计记录名称，形如 entries/{序号}"},
	`^[0-9]{12}$`: {"must be a 12-digit village code",
		"必须是 12 位村代码"},
	`^([0-9]{12})?$`: {"must be empty or a 12-digit village code",
		"必须为空，或是 12 位村代码"},
	`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`: {"must be a date written like 2026-01-31",
		"必须是形如 2026-01-31 的日期"},
	`^([0-9]{4}-[0-9]{2}-[0-9]{2})?$`: {"must be empty or a date written like 2026-01-31",
		"必须为空，或是形如 2026-01-31 的日期"},
	`^[0-9]{4}Q[1-4]$`: {"must be a quarter written like 2026Q1",
		"必须是形如 2026Q1 的季度"},
	`^[0-9]{4}(H[12]|Q[1-4])?$`: {"must be a year, half-year or quarter written like 2026, 2026H1 or 2026Q1",
		"必须是年度、半年或季度，如 2026、2026H1 或 2026Q1"},
	`^[0-9]{1,12}(\.[0-9]{1,2})?$`: {"must be an amount in yuan such as 54000 or 54000.50: digits only, at most 2 decimal places",
		"必须是以元为单位的金额，如 54000 或 54000.50：只能是数字，最多两位小数"},
	`^[0-9]{1,8}(\.[0-9]{1,2})?$`: {"must be a number such as 2.5: digits only, at most 2 decimal places",
		"必须是数字，如 2.5：只能是数字，最多两位小数"},
	`^[0-9]{1,7}(\.[0-9]{1,2})?$`: {"must be a number of points such as 12 or 12.5: digits only, at most 2 decimal places",
		"必须是积分数，如 12 或 12.5：只能是数字，最多两位小数"},
	`^[A-Za-z0-9._:-]+$`: {"may contain only letters, digits and the characters . _ : -",
		"只能包含字母、数字和 . _ : - 这几个符号"},
	`^[0-9a-f]{64}$`: {"must be a SHA-256 hash: 64 characters 0-9 and a-f",
		"必须是 SHA-256 哈希值：64 位 0-9 和 a-f 字符"},
}

// numeric are the rule families of numbers; their rules read alike.
var numeric = map[string]bool{"int32": true, "int64": true, "uint32": true, "uint64": true, "sint32": true, "sint64": true,
	"fixed32": true, "fixed64": true, "sfixed32": true, "sfixed64": true, "float": true, "double": true}

// describe returns the sentence for a broken rule: its id (e.g.
// "int32.gte_lte"), the rules message holding it (e.g. the field's
// Int32Rules, for the other bound) and the rule's own value.
func describe(ruleID string, rules protoreflect.Message, value protoreflect.Value) (sentence, bool) {
	get := func(name string) (string, bool) {
		if rules == nil {
			return "", false
		}
		fd := rules.Descriptor().Fields().ByName(protoreflect.Name(name))
		if fd == nil || !rules.Has(fd) {
			return "", false
		}
		return fmt.Sprint(rules.Get(fd).Interface()), true
	}
	list := func() (string, string) {
		var items []string
		if value.IsValid() {
			if l, ok := value.Interface().(protoreflect.List); ok {
				for i := range l.Len() {
					items = append(items, fmt.Sprint(l.Get(i).Interface()))
				}
			}
		}
		return strings.Join(items, ", "), strings.Join(items, "、")
	}
	family, kind, _ := strings.Cut(ruleID, ".")
	if numeric[family] {
		family = "number"
	}
	switch family + "." + kind {
	case "required.":
		return sentence{"is required", "必须填写"}, true
	case "string.min_len":
		if n, _ := get("min_len"); n == "1" {
			return sentence{"must not be empty", "不能为空"}, true
		}
		n, _ := get("min_len")
		return sentence{"must be at least " + n + " characters long", "至少要有 " + n + " 个字"}, true
	case "string.max_len":
		n, _ := get("max_len")
		return sentence{"must be at most " + n + " characters long", "最多 " + n + " 个字"}, true
	case "string.max_bytes":
		n, _ := get("max_bytes")
		return sentence{"is too long: at most " + n + " bytes", "太长：最多 " + n + " 字节"}, true
	case "string.pattern":
		p, _ := get("pattern")
		s, ok := patterns[p]
		return s, ok
	case "string.in":
		en, zh := list()
		return sentence{"must be one of: " + en, "必须是以下之一：" + zh}, true
	case "enum.defined_only":
		return sentence{"is not one of the allowed values", "不是允许的取值之一"}, true
	case "enum.not_in":
		// Our enums forbid only 0, *_UNSPECIFIED: the caller chose nothing.
		return sentence{"must be chosen", "必须选择一项"}, true
	case "repeated.min_items":
		n, _ := get("min_items")
		if n == "1" {
			return sentence{"must have at least one item", "至少要有一项"}, true
		}
		return sentence{"must have at least " + n + " items", "至少要有 " + n + " 项"}, true
	case "repeated.max_items":
		n, _ := get("max_items")
		return sentence{"must have at most " + n + " items", "最多 " + n + " 项"}, true
	case "repeated.unique":
		return sentence{"must not list the same item twice", "不能有重复项"}, true
	case "number.gte_lte":
		lo, _ := get("gte")
		hi, _ := get("lte")
		return sentence{"must be between " + lo + " and " + hi, "必须在 " + lo + " 到 " + hi + " 之间"}, true
	case "number.gte":
		lo, _ := get("gte")
		return sentence{"must be at least " + lo, "不能小于 " + lo}, true
	case "number.lte":
		hi, _ := get("lte")
		return sentence{"must be at most " + hi, "不能大于 " + hi}, true
	case "number.gt":
		lo, _ := get("gt")
		return sentence{"must be greater than " + lo, "必须大于 " + lo}, true
	case "number.lt":
		hi, _ := get("lt")
		return sentence{"must be less than " + hi, "必须小于 " + hi}, true
	}
	return sentence{}, false
}

// fallback is said of a rule describe does not know; the table test keeps
// it from being reached by our own protos.
var fallback = sentence{"is not valid", "取值无效"}

// rulesAt returns the rules message holding the rule at path (the
// violation's rule path, e.g. repeated.items.string.in), starting from
// fd's field rules.
func rulesAt(fd protoreflect.FieldDescriptor, path *validate.FieldPath) protoreflect.Message {
	if fd == nil || path == nil {
		return nil
	}
	fr, ok := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
	if !ok || fr == nil {
		return nil
	}
	m := fr.ProtoReflect()
	elems := path.GetElements()
	if len(elems) == 0 {
		return nil
	}
	for _, e := range elems[:len(elems)-1] {
		f := m.Descriptor().Fields().ByNumber(protoreflect.FieldNumber(e.GetFieldNumber()))
		if f == nil || f.Message() == nil {
			return nil
		}
		m = m.Get(f).Message()
	}
	return m
}

// ruleRef is one rule a field's rules can break, for the table test.
type ruleRef struct {
	ID    string               // e.g. "int32.gte_lte", "string.pattern", "required"
	Rules protoreflect.Message // the rules message holding it
	Value protoreflect.Value   // the rule's value (invalid for a range)
}

// ruleRefs lists the rules of a field: a range as one id (as protovalidate
// reports it), and the rules on a list's items.
func ruleRefs(fr *validate.FieldRules) []ruleRef {
	var out []ruleRef
	m := fr.ProtoReflect()
	if fr.GetRequired() {
		out = append(out, ruleRef{ID: "required", Rules: m})
	}
	f := m.WhichOneof(m.Descriptor().Oneofs().ByName("type"))
	if f == nil {
		return out
	}
	family := string(f.Name())
	rules := m.Get(f).Message()
	lower, upper := "", ""
	rules.Range(func(rf protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := string(rf.Name())
		if o := rf.ContainingOneof(); o != nil && o.Name() == "greater_than" {
			lower = name
			return true
		}
		if o := rf.ContainingOneof(); o != nil && o.Name() == "less_than" {
			upper = name
			return true
		}
		switch {
		case name == "items" || name == "keys" || name == "values":
			out = append(out, ruleRefs(v.Message().Interface().(*validate.FieldRules))...)
		case rf.Kind() == protoreflect.BoolKind && !v.Bool():
		default:
			out = append(out, ruleRef{ID: family + "." + name, Rules: rules, Value: v})
		}
		return true
	})
	switch {
	case lower != "" && upper != "":
		out = append(out, ruleRef{ID: family + "." + lower + "_" + upper, Rules: rules})
	case lower != "":
		out = append(out, ruleRef{ID: family + "." + lower, Rules: rules})
	case upper != "":
		out = append(out, ruleRef{ID: family + "." + upper, Rules: rules})
	}
	return out
}
