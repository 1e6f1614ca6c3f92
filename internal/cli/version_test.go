package cli

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVersionNamesTheBuild(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/sanzhi/sanzhi", Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "d48d3c5a1b2c3d4e5f60718293a4b5c6d7e8f901"},
			{Key: "vcs.time", Value: "2026-12-05T00:05:00Z"}, {Key: "vcs.modified", Value: "false"}}}
	assert.Equal(t, "dev (revision d48d3c5a1b2c, 2026-12-05T00:05:00Z, go1.26.0)", describe("dev", info))
	assert.Equal(t, "v1.2.0 (revision d48d3c5a1b2c, 2026-12-05T00:05:00Z, go1.26.0)", describe("v1.2.0", info),
		"a release's stamp names it")

	info.Settings[2].Value = "true"
	assert.Equal(t, "dev (revision d48d3c5a1b2c, 2026-12-05T00:05:00Z, with uncommitted changes, go1.26.0)", describe("", info))

	info.Main.Version = "v1.3.0"
	info.Settings = nil
	assert.Equal(t, "v1.3.0 (go1.26.0)", describe("dev", info), "go install of a tagged module: no VCS settings")
}
