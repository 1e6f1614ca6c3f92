// Package dividends embeds the example dividend rules: the 股份+积分 rule
// of the demo village 南阳村, which the demo county uploads and activates.
// The file documents the format and where its figures come from.
package dividends

import "embed"

// FS holds the *.yaml documents of this directory.
//
//go:embed *.yaml
var FS embed.FS

// NanyangFile is 南阳村's rule (version 1).
const NanyangFile = "nanyang-dividend.yaml"
