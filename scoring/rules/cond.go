package rules

import (
	"cmp"
	"fmt"
	"math/bits"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// This file is the condition language of knock-outs and conditional
// adjustments. It is deliberately tiny and total, so that a policy is data,
// never code:
//
//	cond    := or
//	or      := and { "or" and }
//	and     := unary { "and" unary }
//	unary   := "not" unary | primary
//	primary := "(" cond ")" | NAME [ OP literal | "in" list | "not" "in" list ]
//	OP      := "<" | "<=" | "==" | "!=" | ">=" | ">"
//	list    := "[" literal { "," literal } "]"
//	literal := NUMBER | "true" | "false" | WORD | 'quoted word'
//
// NAME is a declared input. A bare NAME must be a bool input; decimal and
// int inputs compare with a number of their type (an int with a whole
// number), bools with == or != true/false, enums with == or != one of
// their words or "in" a list of them. Everything is type-checked when the
// policy loads; evaluation is a walk over a flat node array with no
// allocation, no division and no undefined case.

// Bounds on a condition, to keep loading cheap whatever the input.
const (
	maxCondLen   = 2000
	maxCondDepth = 32
	maxLitLen    = 24
)

var decimalText = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// Cond is a compiled, type-checked condition.
type Cond struct {
	nodes []cnode
	root  int32
	// slots lists the inputs the condition reads (indexes into
	// Policy.Inputs), each once, in order of first use.
	slots []int
}

type nodeOp uint8

const (
	opAnd nodeOp = iota + 1
	opOr
	opNot
	opBool // a bare bool input
	opCmp  // numeric or bool input OP literal
	opEnum // enum input ==, != or (not) in a set
)

type cmpOp uint8

const (
	cmpLT cmpOp = iota + 1
	cmpLE
	cmpEQ
	cmpNE
	cmpGE
	cmpGT
)

var cmpText = map[cmpOp]string{cmpLT: "<", cmpLE: "<=", cmpEQ: "==", cmpNE: "!=", cmpGE: ">=", cmpGT: ">"}

type cnode struct {
	op   nodeOp
	cmp  cmpOp
	typ  Type
	l, r int32
	slot int32
	i    int64           // int and bool literal (bool: 0 or 1)
	d    decimal.Decimal // decimal literal
	set  uint64          // enum: bit i set for Values[i]
	neg  bool            // enum: != or "not in"
	in   bool            // enum: written as a list ("in")
	name string          // input name, for String
	vals []string        // enum words in vocabulary order, for String
}

// Eval reports whether the condition holds for vals (one value per
// declared input, as Evaluate builds them).
func (c *Cond) eval(vals []value) bool { return c.evalNode(c.root, vals) }

func (c *Cond) evalNode(i int32, vals []value) bool {
	n := &c.nodes[i]
	switch n.op {
	case opAnd:
		return c.evalNode(n.l, vals) && c.evalNode(n.r, vals)
	case opOr:
		return c.evalNode(n.l, vals) || c.evalNode(n.r, vals)
	case opNot:
		return !c.evalNode(n.l, vals)
	case opBool:
		return vals[n.slot].i != 0
	case opCmp:
		v := &vals[n.slot]
		var c int
		if n.typ == TypeDecimal {
			c = v.d.Cmp(n.d)
		} else {
			c = cmp.Compare(v.i, n.i)
		}
		return holds(n.cmp, c)
	case opEnum:
		hit := v1(vals[n.slot].i, n.set)
		return hit != n.neg
	}
	return false // unreachable: every node has an op
}

func v1(i int64, set uint64) bool { return i >= 0 && i < 64 && set&(1<<uint(i)) != 0 }

func holds(op cmpOp, c int) bool {
	switch op {
	case cmpLT:
		return c < 0
	case cmpLE:
		return c <= 0
	case cmpEQ:
		return c == 0
	case cmpNE:
		return c != 0
	case cmpGE:
		return c >= 0
	case cmpGT:
		return c > 0
	}
	return false
}

// String returns the condition in canonical form: single spaces, enum
// lists in vocabulary order, numbers in shortest form, parentheses only
// where an and/or nests in the other. The policy hash covers this form,
// so re-spacing a condition does not change the policy's identity.
func (c *Cond) String() string {
	var b strings.Builder
	c.write(&b, c.root, 0)
	return b.String()
}

func (c *Cond) write(b *strings.Builder, i int32, parent nodeOp) {
	n := &c.nodes[i]
	switch n.op {
	case opAnd, opOr:
		paren := parent != 0 && parent != n.op
		if paren {
			b.WriteByte('(')
		}
		c.write(b, n.l, n.op)
		if n.op == opAnd {
			b.WriteString(" and ")
		} else {
			b.WriteString(" or ")
		}
		c.write(b, n.r, n.op)
		if paren {
			b.WriteByte(')')
		}
	case opNot:
		b.WriteString("not ")
		c.write(b, n.l, opNot)
	case opBool:
		b.WriteString(n.name)
	case opCmp:
		b.WriteString(n.name)
		b.WriteByte(' ')
		b.WriteString(cmpText[n.cmp])
		b.WriteByte(' ')
		switch n.typ {
		case TypeDecimal:
			b.WriteString(n.d.String())
		case TypeBool:
			b.WriteString(strconv.FormatBool(n.i != 0))
		default:
			b.WriteString(strconv.FormatInt(n.i, 10))
		}
	case opEnum:
		b.WriteString(n.name)
		switch {
		case n.in && n.neg:
			b.WriteString(" not in [" + strings.Join(n.vals, ", ") + "]")
		case n.in:
			b.WriteString(" in [" + strings.Join(n.vals, ", ") + "]")
		case n.neg:
			b.WriteString(" != " + n.vals[0])
		default:
			b.WriteString(" == " + n.vals[0])
		}
	}
}

// thresholds returns the literals that numeric comparisons on slot use,
// in node order: the points where the condition can change its value.
func (c *Cond) thresholds(slot int) []decimal.Decimal {
	var out []decimal.Decimal
	for _, n := range c.nodes {
		if n.op != opCmp || int(n.slot) != slot {
			continue
		}
		switch n.typ {
		case TypeDecimal:
			out = append(out, n.d)
		case TypeInt:
			out = append(out, decimal.NewFromInt(n.i))
		}
	}
	return out
}

// reads reports whether the condition reads slot.
func (c *Cond) reads(slot int) bool { return slices.Contains(c.slots, slot) }

// --- parsing ----------------------------------------------------------------

// condEnv resolves an input name for the type checker: its slot and spec,
// or a message saying why the condition may not read it.
type condEnv func(name string) (slot int, spec *InputSpec, problem string)

// condError is a problem at a byte offset of the condition's source.
type condError struct {
	off int
	msg string
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tName
	tNumber
	tString
	tOp
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
)

type token struct {
	kind tokKind
	text string
	off  int
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "the end of the condition"
	case tString:
		return "'" + t.text + "'"
	}
	return fmt.Sprintf("%q", t.text)
}

// lex splits src into tokens, or reports the first character it cannot
// read.
func lex(src string) ([]token, *condError) {
	var out []token
	i := 0
	for i < len(src) {
		ch := src[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			i++
		case ch == '(' || ch == ')' || ch == '[' || ch == ']' || ch == ',':
			k := map[byte]tokKind{'(': tLParen, ')': tRParen, '[': tLBrack, ']': tRBrack, ',': tComma}[ch]
			out = append(out, token{k, string(ch), i})
			i++
		case ch == '<' || ch == '>' || ch == '=' || ch == '!':
			if i+1 < len(src) && src[i+1] == '=' {
				out = append(out, token{tOp, src[i : i+2], i})
				i += 2
				continue
			}
			switch ch {
			case '=':
				return nil, &condError{i, "use == to compare for equality"}
			case '!':
				return nil, &condError{i, "use not to negate, or != to compare"}
			}
			out = append(out, token{tOp, string(ch), i})
			i++
		case ch == '&' || ch == '|':
			return nil, &condError{i, "write and / or, not && / ||"}
		case ch == '\'' || ch == '"':
			end := strings.IndexByte(src[i+1:], ch)
			if end < 0 {
				return nil, &condError{i, "unterminated quoted word"}
			}
			out = append(out, token{tString, src[i+1 : i+1+end], i})
			i += end + 2
		case ch == '-' || (ch >= '0' && ch <= '9'):
			j := i + 1
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			text := src[i:j]
			if !decimalText.MatchString(text) {
				return nil, &condError{i, fmt.Sprintf("%q is not a number (write e.g. 90, -5 or 0.5)", text)}
			}
			if len(text) > maxLitLen {
				return nil, &condError{i, fmt.Sprintf("number %s has more than %d characters", text, maxLitLen)}
			}
			out = append(out, token{tNumber, text, i})
			i = j
		case ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z':
			j := i + 1
			for j < len(src) && isNameByte(src[j]) {
				j++
			}
			out = append(out, token{tName, src[i:j], i})
			i = j
		default:
			r := []rune(src[i:])[0]
			return nil, &condError{i, fmt.Sprintf("unexpected character %q", r)}
		}
	}
	return append(out, token{tEOF, "", len(src)}), nil
}

func isNameByte(c byte) bool {
	return c == '_' || c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

var keywords = map[string]bool{"and": true, "or": true, "not": true, "in": true, "true": true, "false": true}

type condParser struct {
	toks  []token
	pos   int
	env   condEnv
	c     *Cond
	errs  []condError
	depth int
}

// errSyntax aborts parsing: the rest of a malformed condition cannot be
// read reliably.
type errSyntax struct{ condError }

// parseCond parses and type-checks src. It returns the condition, or every
// type problem (or the first syntax problem) found.
func parseCond(src string, env condEnv) (c *Cond, errs []condError) {
	if strings.TrimSpace(src) == "" {
		return nil, []condError{{0, "the condition is empty"}}
	}
	if len(src) > maxCondLen {
		return nil, []condError{{0, fmt.Sprintf("the condition is %d characters; at most %d", len(src), maxCondLen)}}
	}
	toks, lerr := lex(src)
	if lerr != nil {
		return nil, []condError{*lerr}
	}
	p := &condParser{toks: toks, env: env, c: &Cond{}}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(errSyntax)
			if !ok {
				panic(r)
			}
			c, errs = nil, append(p.errs, se.condError)
		}
	}()
	root := p.or()
	if t := p.peek(); t.kind != tEOF {
		p.fail(t, "unexpected %s; join conditions with and / or", t.describe())
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	p.c.root = root
	return p.c, nil
}

func (p *condParser) peek() token { return p.toks[p.pos] }
func (p *condParser) next() token { t := p.toks[p.pos]; p.pos++; return t }

func (p *condParser) isKeyword(word string) bool {
	t := p.peek()
	return t.kind == tName && t.text == word
}

func (p *condParser) fail(t token, format string, args ...any) {
	panic(errSyntax{condError{t.off, fmt.Sprintf(format, args...)}})
}

func (p *condParser) typeErr(t token, format string, args ...any) {
	p.errs = append(p.errs, condError{t.off, fmt.Sprintf(format, args...)})
}

func (p *condParser) add(n cnode) int32 {
	p.c.nodes = append(p.c.nodes, n)
	return int32(len(p.c.nodes) - 1)
}

func (p *condParser) or() int32 {
	l := p.and()
	for p.isKeyword("or") {
		p.next()
		r := p.and()
		l = p.add(cnode{op: opOr, l: l, r: r})
	}
	return l
}

func (p *condParser) and() int32 {
	l := p.unary()
	for p.isKeyword("and") {
		p.next()
		r := p.unary()
		l = p.add(cnode{op: opAnd, l: l, r: r})
	}
	return l
}

func (p *condParser) unary() int32 {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxCondDepth {
		p.fail(p.peek(), "nested more than %d deep", maxCondDepth)
	}
	if p.isKeyword("not") {
		p.next()
		return p.add(cnode{op: opNot, l: p.unary()})
	}
	return p.primary()
}

func (p *condParser) primary() int32 {
	t := p.next()
	switch {
	case t.kind == tLParen:
		n := p.or()
		if c := p.next(); c.kind != tRParen {
			p.fail(c, "expected ) to close the ( at offset %d, found %s", t.off+1, c.describe())
		}
		return n
	case t.kind == tName && !keywords[t.text]:
		return p.comparison(t)
	case t.kind == tEOF:
		p.fail(t, "the condition ends too early; expected an input name")
	}
	p.fail(t, "expected an input name or (, found %s", t.describe())
	return 0
}

// comparison parses what follows an input name and type-checks it.
func (p *condParser) comparison(name token) int32 {
	slot, spec, problem := p.env(name.text)
	ok := problem == ""
	if !ok {
		p.typeErr(name, "%s", problem)
	} else if !slices.Contains(p.c.slots, slot) {
		p.c.slots = append(p.c.slots, slot)
	}
	n := cnode{slot: int32(slot), name: name.text}
	if ok {
		n.typ = spec.Type
	}
	t := p.peek()
	switch {
	case t.kind == tOp:
		p.next()
		n.op, n.cmp = opCmp, opFromText(t.text)
		lit := p.literal()
		if ok {
			p.checkCmp(&n, spec, t, lit)
		}
	case t.kind == tName && (t.text == "in" || t.text == "not"):
		p.next()
		if t.text == "not" {
			if in := p.next(); in.kind != tName || in.text != "in" {
				p.fail(in, "expected in after %s not", name.text)
			}
			n.neg = true
		}
		n.op, n.in = opEnum, true
		lits := p.list()
		if ok {
			p.checkIn(&n, spec, t, lits)
		}
	default:
		n.op = opBool
		if ok && spec.Type != TypeBool {
			p.typeErr(name, "%s is %s; compare it with a value (e.g. %s)", name.text, spec.Type, example(spec))
		}
	}
	return p.add(n)
}

func opFromText(s string) cmpOp {
	for op, txt := range cmpText {
		if txt == s {
			return op
		}
	}
	return 0
}

func example(spec *InputSpec) string {
	switch spec.Type {
	case TypeEnum:
		return spec.Name + " == " + spec.Values[len(spec.Values)-1]
	case TypeInt:
		return spec.Name + " > 0"
	}
	return spec.Name + " >= 100"
}

func (p *condParser) literal() token {
	t := p.next()
	switch {
	case t.kind == tNumber, t.kind == tString:
		if len(t.text) > maxLitLen {
			p.fail(t, "value has more than %d characters", maxLitLen)
		}
		return t
	case t.kind == tName && (t.text == "true" || t.text == "false" || !keywords[t.text]):
		return t
	}
	p.fail(t, "expected a value to compare with, found %s", t.describe())
	return t
}

func (p *condParser) list() []token {
	if t := p.next(); t.kind != tLBrack {
		p.fail(t, "expected [ to start a list of values, found %s", t.describe())
	}
	var out []token
	for {
		out = append(out, p.literal())
		t := p.next()
		if t.kind == tRBrack {
			return out
		}
		if t.kind != tComma {
			p.fail(t, "expected , or ] in the list, found %s", t.describe())
		}
	}
}

// checkCmp types "input OP literal".
func (p *condParser) checkCmp(n *cnode, spec *InputSpec, op, lit token) {
	switch spec.Type {
	case TypeDecimal, TypeInt:
		if lit.kind != tNumber {
			p.typeErr(lit, "%s is %s; compare it with a number, not %s", spec.Name, spec.Type, lit.describe())
			return
		}
		d, err := decimal.NewFromString(lit.text)
		if err != nil {
			p.typeErr(lit, "%q is not a number", lit.text)
			return
		}
		if d.LessThan(spec.Min) || d.GreaterThan(spec.Max) {
			p.typeErr(lit, "%s is outside the range of %s (%s to %s)", lit.text, spec.Name, spec.Min, spec.Max)
			return
		}
		if spec.Type == TypeInt {
			if !d.IsInteger() {
				p.typeErr(lit, "%s is a whole number; %s has a fraction", spec.Name, lit.text)
				return
			}
			n.i = d.IntPart()
		} else {
			n.d = d
		}
	case TypeBool:
		if n.cmp != cmpEQ && n.cmp != cmpNE {
			p.typeErr(op, "%s is true or false; only == and != apply", spec.Name)
			return
		}
		if lit.kind != tName || (lit.text != "true" && lit.text != "false") {
			p.typeErr(lit, "%s is bool; compare it with true or false, not %s", spec.Name, lit.describe())
			return
		}
		if lit.text == "true" {
			n.i = 1
		}
	case TypeEnum:
		if n.cmp != cmpEQ && n.cmp != cmpNE {
			p.typeErr(op, "%s is one of %s; only ==, != and in apply", spec.Name, strings.Join(spec.Values, ", "))
			return
		}
		n.op, n.neg = opEnum, n.cmp == cmpNE
		p.checkIn(n, spec, op, []token{lit})
	}
}

// checkIn types "input (not) in [...]" (and enum ==, !=).
func (p *condParser) checkIn(n *cnode, spec *InputSpec, op token, lits []token) {
	if spec.Type != TypeEnum {
		p.typeErr(op, "in applies to enum inputs; %s is %s", spec.Name, spec.Type)
		return
	}
	for _, l := range lits {
		i := -1
		if l.kind == tName || l.kind == tString {
			i = slices.Index(spec.Values, l.text)
		}
		switch {
		case i < 0:
			p.typeErr(l, "%s is not a value of %s (one of %s)", l.describe(), spec.Name, strings.Join(spec.Values, ", "))
		case n.set&(1<<uint(i)) != 0:
			p.typeErr(l, "%s is listed twice", l.text)
		default:
			n.set |= 1 << uint(i)
		}
	}
	for i, v := range spec.Values {
		if n.set&(1<<uint(i)) != 0 {
			n.vals = append(n.vals, v)
		}
	}
	if n.in && bits.OnesCount64(n.set) == len(spec.Values) {
		p.typeErr(op, "the list names every value of %s, so the test is always %v", spec.Name, !n.neg)
	}
}
