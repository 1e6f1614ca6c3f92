// Package yamldoc loads the YAML documents people write for sanzhi (points
// catalogues, credit policies) strictly, before any field is read: a size
// limit, UTF-8, exactly one document, a mapping at the top, and no
// anchors, aliases or explicit tags anywhere, because these documents are
// read by village committees, risk committees and regulators, so every
// value must be written where it applies. Reader then reads the fields
// as strictly (no unknown or repeated keys, no value of the wrong type),
// collecting every problem with its line and column in Problems; each
// document kind turns them into its own error type and fault reason.
package yamldoc

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Report records one problem; line and column are 1-based, 0 when the
// problem has no place. Path is always "" here: these are document-level.
type Report func(line, column int, message string)

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Load parses src and returns the top-level mapping, or nil after reporting
// why there is none. maxBytes bounds the document; fieldsHint shows what a
// top-level mapping looks like, e.g. "kind: ..., version: ...". Problems
// inside an otherwise usable document (anchors, aliases, tags) are
// reported and the root is still returned, so the caller reports the rest.
func Load(src []byte, maxBytes int, fieldsHint string, report Report) *yaml.Node {
	if len(src) > maxBytes {
		report(0, 0, "document is "+strconv.Itoa(len(src))+" bytes; at most "+strconv.Itoa(maxBytes)+" are accepted")
		return nil
	}
	if !utf8.Valid(src) {
		report(0, 0, "document is not valid UTF-8 (save it as UTF-8)")
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			report(0, 0, "document is empty")
		} else {
			syntax(err, report)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		syntax(err, report)
		return nil
	default:
		report(extra.Line, extra.Column, "only one YAML document is allowed (found a second after ---)")
		return nil
	}
	if len(doc.Content) != 1 {
		report(0, 0, "document is empty")
		return nil
	}
	root := doc.Content[0]
	checkNodes(root, report)
	if root.Kind != yaml.MappingNode {
		report(root.Line, root.Column, "the document must be a mapping of fields ("+fieldsHint+")")
		return nil
	}
	return root
}

// syntax reports a YAML syntax error, with its line when the parser gave one.
func syntax(err error, report Report) {
	msg := err.Error()
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		report(line, 0, "YAML syntax: "+m[2])
		return
	}
	report(0, 0, "YAML syntax: "+strings.TrimPrefix(msg, "yaml: "))
}

// checkNodes rejects anchors, aliases and explicit tags anywhere.
func checkNodes(n *yaml.Node, report Report) {
	switch {
	case n.Kind == yaml.AliasNode:
		report(n.Line, n.Column, "aliases (*"+n.Value+") are not allowed; write the value out")
		return
	case n.Anchor != "":
		report(n.Line, n.Column, "anchors (&"+n.Anchor+") are not allowed; write each value out")
	case n.Style&yaml.TaggedStyle != 0:
		report(n.Line, n.Column, "explicit tags ("+n.Tag+") are not allowed")
	}
	for _, c := range n.Content {
		checkNodes(c, report)
	}
}
