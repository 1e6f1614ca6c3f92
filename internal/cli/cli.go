// Package cli holds what sanzhid and sanzhi share on the command line:
// environment-variable defaults for flags and the JSON logger.
package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sanzhi/sanzhi/idnum"
)

// EnvName is the variable that sets a flag: --grpc-addr is SANZHI_GRPC_ADDR.
func EnvName(flag string) string {
	return "SANZHI_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// BindEnv gives every flag not set on the command line the value of its
// SANZHI_* variable, so flags win over the environment, which wins over
// defaults. It also appends the variable's name to each flag's usage.
func BindEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		if v, ok := os.LookupEnv(EnvName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", EnvName(f.Name), v, e)
			}
		}
	})
	return err
}

// DocumentEnv appends "(env SANZHI_X)" to every flag's usage.
func DocumentEnv(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		f.Usage += " (env " + EnvName(f.Name) + ")"
	})
}

// NewLogger returns a JSON logger at level ("debug", "info", "warn",
// "error"). Every string it writes passes through idnum.RedactText, the
// project's one 身份证号 detector, a last line of defence behind
// PersonID's own masking. A record logged with a context that holds a
// span carries its trace_id and span_id (WithTrace).
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q is not one of debug, info, warn, error", level)
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: lv,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Value.Kind() == slog.KindString {
				if s := a.Value.String(); s != "" {
					a.Value = slog.StringValue(idnum.RedactText(s))
				}
			}
			if a.Value.Kind() == slog.KindAny {
				if err, ok := a.Value.Any().(error); ok {
					a.Value = slog.StringValue(idnum.RedactText(err.Error()))
				}
			}
			return a
		},
	})
	return slog.New(WithTrace(h)), nil
}
