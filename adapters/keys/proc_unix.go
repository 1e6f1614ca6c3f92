//go:build unix

package keys

import (
	"errors"
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the command in a process group of its own, and has
// a timeout kill the whole group: a script's children (pkcs11-tool, say)
// die with it instead of holding its output pipe open.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return err
	}
}

// signalOf names the signal that killed the command, or "".
func signalOf(e *exec.ExitError) string {
	if ws, ok := e.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal().String()
	}
	return ""
}
