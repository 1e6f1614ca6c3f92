package main

import (
	"bufio"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/internal/cli"
)

// envFile is the settings file the .deb and .rpm install as
// /etc/sanzhi/sanzhid.env.
const envFile = "../../packaging/sanzhid.env"

// pendingEnv are variables the file may document for flags that land with
// other work; sanzhid ignores a variable it has no flag for. None now.
var pendingEnv = map[string]bool{}

type envLine struct {
	name, value string
	commented   bool
}

func readEnvFile(t *testing.T) []envLine {
	t.Helper()
	f, err := os.Open(envFile)
	require.NoError(t, err)
	defer f.Close()
	assignment := regexp.MustCompile(`^(#?)((?:SANZHI|OTEL)_[A-Z0-9_]+)=(.*)$`)
	var lines []envLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		m := assignment.FindStringSubmatch(line)
		if m == nil {
			// Not an assignment: then a comment or blank, or systemd
			// would read it as one.
			assert.True(t, line == "" || strings.HasPrefix(line, "#"), "not NAME=value: %q", line)
			continue
		}
		// systemd's syntax and the package check's loader: no quotes, no
		// spaces in a value.
		assert.NotContains(t, m[3], " ", line)
		assert.NotContains(t, m[3], `"`, line)
		lines = append(lines, envLine{name: m[2], value: m[3], commented: m[1] == "#"})
	}
	require.NoError(t, sc.Err())
	return lines
}

// TestPackagedEnvFileDocumentsEverySetting: every flag of sanzhid has its
// SANZHI_* line in the packaged settings file, every SANZHI_* line there
// is a flag, and a commented-out line shows the real default.
func TestPackagedEnvFileDocumentsEverySetting(t *testing.T) {
	lines := readEnvFile(t)
	set := map[string]bool{}
	documented := map[string]bool{}
	for _, l := range lines {
		documented[l.name] = true
		if !l.commented {
			set[l.name] = true
		}
	}
	flags := map[string]*pflag.Flag{}
	newCommand(io.Discard, io.Discard).Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || f.Name == "version" {
			return
		}
		flags[cli.EnvName(f.Name)] = f
		assert.True(t, documented[cli.EnvName(f.Name)], "packaging/sanzhid.env does not document %s (--%s)", cli.EnvName(f.Name), f.Name)
	})
	require.NotEmpty(t, flags)
	for _, l := range lines {
		if !strings.HasPrefix(l.name, "SANZHI_") || pendingEnv[l.name] {
			continue
		}
		f, ok := flags[l.name]
		if !assert.True(t, ok, "packaging/sanzhid.env sets %s, which no sanzhid flag reads", l.name) {
			continue
		}
		// A list flag's default is empty ("[]"): its line shows an example.
		if l.commented && !set[l.name] && f.DefValue != "" && f.DefValue != "[]" {
			assert.Equal(t, f.DefValue, l.value, "the commented %s line should show the default", l.name)
		}
	}
}

// TestPackagedEnvFileIsAcceptedAndSafe: what the file sets, sanzhid
// accepts, and it keeps to loopback, the data directory and the key files
// postinstall makes.
func TestPackagedEnvFileIsAcceptedAndSafe(t *testing.T) {
	for _, l := range readEnvFile(t) {
		if !l.commented {
			t.Setenv(l.name, l.value)
		}
	}
	cmd := newCommand(io.Discard, io.Discard)
	fs := cmd.Flags()
	require.NoError(t, cli.BindEnv(fs))
	get := func(name string) string { return fs.Lookup(name).Value.String() }
	assert.Equal(t, "127.0.0.1:7070", get("grpc-addr"))
	assert.Equal(t, "127.0.0.1:7080", get("http-addr"))
	assert.Equal(t, "sqlite:///var/lib/sanzhi/sanzhi.db", get("database"))
	assert.Equal(t, "/etc/sanzhi/data.key", get("data-key-file"))
	assert.Equal(t, "/etc/sanzhi/audit.key", get("audit-key-file"))
	for _, off := range []string{"demo", "insecure-allow-plaintext", "bench-floors"} {
		assert.Equal(t, "false", get(off), off)
	}
}
