// Package policies embeds the example credit policies: the 桐乡农商银行
// 三治信农贷 policy the demo county uploads and activates. The file documents
// the format and says which figures come from the seed articles and which
// are illustrative.
package policies

import "embed"

// FS holds the *.yaml documents of this directory.
//
//go:embed *.yaml
var FS embed.FS

// TongxiangFile is the 桐乡农商银行 三治信农贷 policy (version 1).
const TongxiangFile = "tongxiang-rcb-sanzhi.yaml"
