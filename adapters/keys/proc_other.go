//go:build !unix

package keys

import "os/exec"

// ownProcessGroup leaves the default: the command alone is killed on
// timeout. sanzhid is built for Linux; this keeps other builds compiling.
func ownProcessGroup(*exec.Cmd) {}

func signalOf(*exec.ExitError) string { return "" }
