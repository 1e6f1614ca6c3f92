// Package catalogues embeds the example points catalogues: the 桐乡市
// county base and the documents of the three demo villages, which the demo
// county uploads and activates. Each file documents its format and sources.
package catalogues

import "embed"

// FS holds the *.yaml documents of this directory.
//
//go:embed *.yaml
var FS embed.FS

// CountyFile is the county base catalogue (桐乡市, version 1).
const CountyFile = "tongxiang-county.yaml"

// VillageFile returns the file name of a demo village's document, by the
// village's ASCII name ("nanyang", "yantou", "nongfeng").
func VillageFile(slug string) string { return slug + "-village.yaml" }
