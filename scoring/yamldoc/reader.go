package yamldoc

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
)

var (
	intText     = regexp.MustCompile(`^[-+]?[0-9]+$`)
	decimalText = regexp.MustCompile(`^[-+]?[0-9]+(\.[0-9]+)?$`)
)

// Reader reads the values of a YAML node tree strictly, collecting every
// problem with its place instead of stopping at the first. Each method
// takes the node (nil when the field is absent: it reports nothing then,
// Map.Require has done so) and the field's path for the problems, and
// returns false after reporting why the value cannot be used. Aliases are
// passed over silently: Load has reported them.
type Reader struct {
	Problems
	// Positions, when not nil, records where each scalar and list was
	// written, by path, for checks made after reading.
	Positions map[string]Position
	// MaxNumberLen, when above 0, bounds the characters of a number
	// Decimal accepts.
	MaxNumberLen int
}

// Load parses src as Load does, reporting into r.
func (r *Reader) Load(src []byte, maxBytes int, fieldsHint string) *yaml.Node {
	return Load(src, maxBytes, fieldsHint, func(line, col int, msg string) {
		var p *Position
		if line > 0 {
			p = &Position{line, col}
		}
		r.AddAt(p, "", "%s", msg)
	})
}

// Join is the path of field key of the mapping at path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index is the path of entry i (0-based) of the list at path.
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func (r *Reader) record(n *yaml.Node, path string) {
	if r.Positions != nil {
		r.Positions[path] = Position{n.Line, n.Column}
	}
}

// Scalar checks that n is a single value that is not null.
func (r *Reader) Scalar(n *yaml.Node, path string) bool {
	if n == nil || n.Kind == yaml.AliasNode {
		return false
	}
	r.record(n, path)
	switch {
	case n.Kind != yaml.ScalarNode:
		r.Add(n, path, "must be a single value, not a list or mapping")
		return false
	case n.Tag == "!!null":
		r.Add(n, path, "is empty; give a value or remove the field")
		return false
	}
	return true
}

// Str reads text; a number or true/false written bare is refused (the
// author meant text, and YAML read something else).
func (r *Reader) Str(n *yaml.Node, path string) (string, bool) {
	if !r.Scalar(n, path) {
		return "", false
	}
	if n.Tag != "!!str" {
		r.Add(n, path, "must be text; put %s in quotes", n.Value)
		return "", false
	}
	return n.Value, true
}

// Text reads non-blank text of at most max characters, trimmed.
func (r *Reader) Text(n *yaml.Node, path string, max int) (string, bool) {
	s, ok := r.Str(n, path)
	if !ok {
		return "", false
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		r.Add(n, path, "must not be blank")
		return "", false
	case utf8.RuneCountInString(s) > max:
		r.Add(n, path, "is %d characters; at most %d", utf8.RuneCountInString(s), max)
		return "", false
	}
	return s, true
}

// Pattern reads text of at most max bytes matching re. form completes the
// problem "%q is not …" and says what is wanted, e.g. "valid: lower-case
// letters"; ", at most max characters" follows it.
func (r *Reader) Pattern(n *yaml.Node, path string, re *regexp.Regexp, max int, form string) (string, bool) {
	s, ok := r.Str(n, path)
	if !ok {
		return "", false
	}
	if len(s) > max || !re.MatchString(s) {
		r.Add(n, path, "%q is not %s, at most %d characters", s, form, max)
		return "", false
	}
	return s, true
}

// Integer reads a whole number within [min, max].
func (r *Reader) Integer(n *yaml.Node, path string, min, max int) (int, bool) {
	if !r.Scalar(n, path) {
		return 0, false
	}
	if n.Tag != "!!int" || !intText.MatchString(n.Value) {
		r.Add(n, path, "must be a whole number, got %q", n.Value)
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < min || v > max {
		r.Add(n, path, "must be between %d and %d, got %s", min, max, n.Value)
		return 0, false
	}
	return v, true
}

// Boolean reads true or false.
func (r *Reader) Boolean(n *yaml.Node, path string) (bool, bool) {
	if !r.Scalar(n, path) {
		return false, false
	}
	if n.Tag != "!!bool" {
		r.Add(n, path, "must be true or false, got %q", n.Value)
		return false, false
	}
	return strings.EqualFold(n.Value, "true"), true
}

// Decimal reads a number written as plain digits with an optional sign
// and fraction (no exponent, no hex, no .inf). example shows one in the
// problem, e.g. "2 or -0.5".
func (r *Reader) Decimal(n *yaml.Node, path, example string) (decimal.Decimal, bool) {
	if !r.Scalar(n, path) {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(n.Value)
	if (n.Tag != "!!int" && n.Tag != "!!float") || !decimalText.MatchString(n.Value) ||
		r.MaxNumberLen > 0 && len(n.Value) > r.MaxNumberLen || err != nil {
		r.Add(n, path, "must be a decimal number such as %s, got %q", example, n.Value)
		return decimal.Decimal{}, false
	}
	return d, true
}

// Label reads a label in both languages, {zh-CN: …, en: …}, each non-blank
// and at most max characters.
func (r *Reader) Label(n *yaml.Node, path string, max int) (zh, en string, ok bool) {
	m := r.Fields(n, path, []string{"zh-CN", "en"})
	if m == nil {
		return "", "", false
	}
	zh, ok1 := r.Text(m.Require("zh-CN"), Join(path, "zh-CN"), max)
	en, ok2 := r.Text(m.Require("en"), Join(path, "en"), max)
	return zh, en, ok1 && ok2
}

// List reads a sequence of at most max entries (0: any number).
func (r *Reader) List(n *yaml.Node, path string, max int) ([]*yaml.Node, bool) {
	if n == nil || n.Kind == yaml.AliasNode {
		return nil, false
	}
	r.record(n, path)
	if n.Kind != yaml.SequenceNode {
		r.Add(n, path, "must be a list")
		return nil, false
	}
	if max > 0 && len(n.Content) > max {
		r.Add(n, path, "has %d entries; at most %d", len(n.Content), max)
		return nil, false
	}
	return n.Content, true
}

// Map is a YAML mapping read into fields.
type Map struct {
	r    *Reader
	node *yaml.Node
	path string
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
	// order lists the accepted keys in document order.
	order []string
}

// Fields reads mapping n, reporting duplicate keys and, when allowed is
// not nil, keys not in it. It returns nil when n is absent or not a
// mapping.
func (r *Reader) Fields(n *yaml.Node, path string, allowed []string) *Map {
	return r.FieldsExcept(n, path, allowed, nil)
}

// FieldsExcept is Fields where the keys of misplaced, though known, are
// not allowed here: each is reported with its message (e.g. a field only
// another kind of document has) and left out of what the key list
// suggests.
func (r *Reader) FieldsExcept(n *yaml.Node, path string, allowed []string, misplaced map[string]string) *Map {
	if n == nil || n.Kind == yaml.AliasNode {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.Add(n, path, "must be a mapping (key: value)")
		return nil
	}
	if misplaced != nil {
		allowed = slices.DeleteFunc(slices.Clone(allowed), func(s string) bool { _, bad := misplaced[s]; return bad })
	}
	m := &Map{r: r, node: n, path: path, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.Add(k, path, "keys must be plain names")
			continue
		}
		key := k.Value
		if first, dup := m.keys[key]; dup {
			r.Add(k, Join(path, key), "duplicate key; first at line %d", first.Line)
			continue
		}
		m.keys[key] = k
		if msg, bad := misplaced[key]; bad {
			r.Add(k, Join(path, key), "%s", msg)
			continue
		}
		if allowed != nil && !slices.Contains(allowed, key) {
			r.Add(k, Join(path, key), "unknown field; expected one of: %s", strings.Join(allowed, ", "))
			continue
		}
		m.vals[key] = v
		m.order = append(m.order, key)
	}
	return m
}

// Node is the mapping itself.
func (m *Map) Node() *yaml.Node { return m.node }

// Get returns the value of key, or nil when absent.
func (m *Map) Get(key string) *yaml.Node { return m.vals[key] }

// Require returns the value of key, reporting it missing.
func (m *Map) Require(key string) *yaml.Node {
	v := m.vals[key]
	if v == nil {
		m.r.Add(m.node, Join(m.path, key), "required")
	}
	return v
}

// Key returns the node of key itself (where it was written), or nil when
// it was not written, even if it was refused.
func (m *Map) Key(key string) *yaml.Node { return m.keys[key] }

// Keys lists the accepted keys in the order they were written.
func (m *Map) Keys() []string { return m.order }
