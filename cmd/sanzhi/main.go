// Command sanzhi is the operator's and regulator's tool: migrations,
// principals and their API keys, data keys, points catalogues and the demo
// county.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/principals"
	"github.com/sanzhi/sanzhi/adapters/demo"
	"github.com/sanzhi/sanzhi/adapters/keys"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/internal/cli"
	"github.com/sanzhi/sanzhi/lending/credit"
)

func main() {
	cmd, err := newRoot(os.Stdout).ExecuteC()
	os.Exit(cli.Report(os.Stderr, cmd, err))
}

// defaultDatabase is the database of a command given none: sanzhid's own
// default, in the working directory.
const defaultDatabase = "sqlite://./sanzhi.db"

// defaultDatabaseExists refuses a command that names no database when
// there is none here: forgetting --database used to create an empty
// ./sanzhi.db, migrate it and act on it (an import that "worked" into a
// database nobody serves). When it exists, it says which one is used.
func defaultDatabaseExists() error {
	if _, err := os.Stat("sanzhi.db"); err != nil {
		return fmt.Errorf("no --database (or SANZHI_DATABASE) given, and no ./sanzhi.db here: name the database, e.g. --database %s to create one", defaultDatabase)
	}
	fmt.Fprintf(os.Stderr, "sanzhi: using %s (no --database given)\n", defaultDatabase)
	return nil
}

// version is a release's stamp, set with -ldflags "-X main.version=…";
// cli.Version adds the revision the binary was built from.
var version = "dev"

func newRoot(out io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "sanzhi",
		Short: "Operate a sanzhi service: migrations, principals, keys, catalogues, demo data",
		Long: `Operate a sanzhi service: migrations, principals, keys, catalogues, demo data.

Exit status: 0 done; 1 failed; 2 bad command line (nothing done); 3 verification
failed (audit verify, verify-export, verify-receipt, replay); 4 import with
refused rows (the rest imported). See docs/OPERATIONS.md, "Exit codes".`,
		Version:       cli.Version(version),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the build: version, the revision it was built from, the Go toolchain",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "sanzhi", cli.Version(version))
		},
	})
	var database string
	var databaseGiven bool
	root.PersistentFlags().StringVar(&database, "database", defaultDatabase, "database URL: sqlite://PATH or postgres://USER@HOST:PORT/DB")
	root.PersistentFlags().BoolVar(&noProgress, "no-progress", false, "no progress bars (they are shown only on a terminal anyway)")
	addKeySourceFlags(root)
	cli.DocumentEnv(root.PersistentFlags())
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := cli.BindEnv(cmd.Flags()); err != nil {
			return cli.Usage(err)
		}
		if f := cmd.Flags().Lookup("lang"); f != nil {
			if _, err := parseLang(f.Value.String()); err != nil {
				return cli.Usage(err)
			}
		}
		databaseGiven = cmd.Flags().Changed("database")
		return nil
	}
	root.SetOut(out)
	open := func(ctx context.Context) (server.Store, error) {
		if !databaseGiven {
			if err := defaultDatabaseExists(); err != nil {
				return nil, err
			}
		}
		db, err := server.OpenStore(ctx, database)
		if err != nil {
			return nil, err
		}
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
	root.AddCommand(
		migrateCmd(&database, &databaseGiven),
		principalCmd(open),
		bankCmd(open),
		keygenCmd(),
		demoCmd(&database, open),
		auditCmd(&database, open),
		catalogueCmd(open),
		importCmd(open),
		policyCmd(&database, open),
		reassessCmd(&database, open),
		webhookCmd(),
		healthCmd(),
		householdCmd(&database, open),
		loanCmd(open),
		rekeyCmd(&database, open),
		shopCmd(open),
		dividendCmd(open),
		modelCmd(&database, open),
	)
	cli.CheckUsage(root)
	return root
}

// parseLang reads a --lang flag: the language of what a clerk, farmer or
// officer reads. Chinese unless asked otherwise; not taken from $LANG,
// whose value on a server says how the machine was installed, not who
// reads the report (SANZHI_LANG sets the flag, as for every flag).
func parseLang(s string) (en bool, err error) {
	switch l := strings.ToLower(strings.TrimSpace(s)); {
	case l == "zh" || strings.HasPrefix(l, "zh-"):
		return false, nil
	case l == "en" || strings.HasPrefix(l, "en-"):
		return true, nil
	}
	return false, fmt.Errorf("--lang %q: give zh-CN or en", s)
}

func migrateCmd(database *string, given *bool) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending schema migrations (idempotent)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !*given {
				if err := defaultDatabaseExists(); err != nil {
					return err
				}
			}
			db, err := server.OpenStore(cmd.Context(), *database)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Migrate(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "schema is up to date")
			return nil
		},
	}
}

// administer opens the store and identifies the caller of an operator's
// command: an operator's key, or the local operator (recorded as such)
// without one.
func administer(ctx context.Context, open func(context.Context) (server.Store, error), apiKey string,
	fn func(svc *principals.Service, actor *access.Principal) error) error {
	db, err := open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	actor, err := identify(ctx, db.Store().Principals(), apiKey, true)
	if err != nil {
		return err
	}
	return fn(principals.NewService(db.Store().PrincipalAdmin(), access.NewKeyAndHash, time.Now), actor)
}

func principalCmd(open func(context.Context) (server.Store, error)) *cobra.Command {
	cmd := &cobra.Command{Use: "principal", Short: "Create, list, revoke and re-key API principals (audited)"}
	var name, role, villages, bank, hh, apiKey string
	admin := func(ctx context.Context, fn func(svc *principals.Service, actor *access.Principal) error) error {
		return administer(ctx, open, apiKey, fn)
	}
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a principal and print its API key (shown once; only its hash is stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := access.ParseRole(role)
			if err != nil {
				return err
			}
			p := &access.Principal{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Role: r,
				Scope: access.Scope{Bank: bank, Household: hh}}
			if villages != "" {
				for _, v := range strings.Split(villages, ",") {
					if _, err := idnum.ParseVillageCode(strings.TrimSpace(v)); err != nil {
						return fmt.Errorf("--villages: %w", err)
					}
					p.Scope.Villages = append(p.Scope.Villages, strings.TrimSpace(v))
				}
			}
			if err := p.Validate(); err != nil {
				return err
			}
			return admin(cmd.Context(), func(svc *principals.Service, actor *access.Principal) error {
				key, err := svc.Create(cmd.Context(), actor, p)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created %s (%s)\nAPI key (store it now; it cannot be shown again):\n%s\n", p.Name, p.Role, key)
				return nil
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "unique principal name (for bank mTLS: the certificate's common name)")
	create.Flags().StringVar(&role, "role", "", "one of village_clerk, village_reviewer, household, bank_officer, bank_risk, regulator, operator")
	create.Flags().StringVar(&villages, "villages", "", "comma-separated 12-digit village codes (village roles)")
	create.Flags().StringVar(&bank, "bank", "", "bank id (bank roles)")
	create.Flags().StringVar(&hh, "household", "", "household id (household role)")
	_ = create.MarkFlagRequired("name")
	_ = create.MarkFlagRequired("role")

	list := &cobra.Command{
		Use:   "list",
		Short: "List principals",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			ps, err := db.Store().Principals().ListPrincipals(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tSCOPE\tSTATUS\tCREATED")
			for _, p := range ps {
				status := "active"
				if !p.Active() {
					status = "revoked " + p.RevokeTime.Format(time.RFC3339)
				}
				if p.Demo {
					status += " (demo)"
				}
				scope := strings.Join(p.Scope.Villages, ",") + p.Scope.Bank + p.Scope.Household
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.Role, scope, status, p.CreateTime.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke a principal's credentials (takes effect within 5 seconds: the server caches keys that long)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return admin(cmd.Context(), func(svc *principals.Service, actor *access.Principal) error {
				if _, err := svc.Revoke(cmd.Context(), actor, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
				return nil
			})
		},
	}
	rekey := &cobra.Command{
		Use:   "rekey NAME",
		Short: "Give a principal a new API key and print it (shown once); the old key stops working within 5 seconds",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return admin(cmd.Context(), func(svc *principals.Service, actor *access.Principal) error {
				key, err := svc.Rekey(cmd.Context(), actor, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "re-keyed %s\nAPI key (store it now; it cannot be shown again):\n%s\n", args[0], key)
				return nil
			})
		},
	}
	setPassword := &cobra.Command{
		Use:   "set-password NAME",
		Short: "Set a staff principal's web console password (read from stdin, or prompted for without echo); it must be changed at first sign-in",
		Long: `Set the password the named principal signs in to the web console with.
The password is read from standard input (its first line) or, on a terminal,
prompted for twice without echo; never from a flag, so it stays out of the
shell history and the process list. The principal must change it at its first
sign-in, and its console sessions end. Households sign in with access codes
from their village clerk instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password, err := readPassword(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			db, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			actor, err := identify(cmd.Context(), db.Store().Principals(), apiKey, true)
			if err != nil {
				return err
			}
			a, err := services(db.Store(), nil)
			if err != nil {
				return err
			}
			if err := a.SignIn.SetPassword(cmd.Context(), actor, args[0], password); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "password set for %s; it must be changed at the first sign-in\n", args[0])
			return nil
		},
	}
	for _, c := range []*cobra.Command{create, revoke, rekey, setPassword} {
		addKeyFlag(c, &apiKey, "doing this (an operator; without a key: the local operator, recorded as "+LocalOperatorID+")")
	}
	cmd.AddCommand(create, list, revoke, rekey, setPassword)
	return cmd
}

func keygenCmd() *cobra.Command {
	var gm bool
	cmd := &cobra.Command{
		Use:   "keygen FILE",
		Short: "Write a new data key file (mode 0600) for encrypting 身份证号; refuses to overwrite",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			generate, flags := pii.GenerateKeyFile, ""
			if gm {
				generate, flags = pii.GenerateGMKeyFile, " --require-gm"
			}
			if err := generate(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s; start sanzhid with --data-key-file %s%s and back it up: without it no 身份证号 can be decrypted\n", args[0], args[0], flags)
			return nil
		},
	}
	cmd.Flags().BoolVar(&gm, "gm", false, "国密: an SM4 data key (sm4-k1) and an HMAC-SM3 blind index (index-sm3)")
	return cmd
}

// keySource is where the commands that need the data key find it besides
// --data-key-file: the root's key provider flags, as sanzhid takes them.
var keySource struct {
	provider  string
	command   string
	args      []string
	timeout   time.Duration
	requireGM bool
}

func addKeySourceFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&keySource.provider, "key-provider", keys.ProviderFile, "where commands that need the data key find it: file (--data-key-file or SANZHI_DATA_KEY) or command (--key-command)")
	f.StringVar(&keySource.command, "key-command", "", "absolute `PATH` of the command that prints the data keys, with --key-provider command")
	f.StringArrayVar(&keySource.args, "key-command-arg", nil, "an argument `ARG` for --key-command (repeatable; the variable gives one)")
	f.DurationVar(&keySource.timeout, "key-command-timeout", keys.DefaultCommandTimeout, "how long --key-command may run before it is killed")
	f.BoolVar(&keySource.requireGM, "require-gm", false, "国密 only: refuse a data key that is not SM4 or a blind index that is not HMAC-SM3")
}

// keyConfig is the server configuration that finds the data key as
// sanzhid would, from keyFile, SANZHI_DATA_KEY and the key provider flags.
func keyConfig(database, keyFile string, demo bool) server.Config {
	return server.Config{Database: database, DataKeyFile: keyFile, DataKey: os.Getenv("SANZHI_DATA_KEY"), Demo: demo,
		KeyProvider: keySource.provider, KeyCommand: keySource.command, KeyCommandArgs: keySource.args,
		KeyCommandTimeout: keySource.timeout, RequireGM: keySource.requireGM}
}

func demoCmd(database *string, open func(context.Context) (server.Store, error)) *cobra.Command {
	cmd := &cobra.Command{Use: "demo", Short: "Demo county"}
	var keyFile, auditKeyFile string
	seed := &cobra.Command{
		Use:   "seed",
		Short: "Seed the deterministic demo county (three villages, demo principals) unless present",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := keyConfig(*database, keyFile, true)
			cfg.AuditKeyFile = auditKeyFile
			kr, err := server.LoadKeyringContext(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			// With the key sanzhid --demo signs with on this database (or
			// the one given), the seeding's audit records are sequenced and
			// signed here, as the server would at its start: the log a
			// demo server opens is current, and its start does not
			// sequence thousands. Without one (PostgreSQL, no key file)
			// they stay queued for the server.
			auditKey := ""
			if _, besideErr := server.DemoKeyPath(*database); auditKeyFile != "" || besideErr == nil {
				if auditKey, err = server.LoadAuditKey(cfg); err != nil {
					return err
				}
			}
			db, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			st := db.Store()
			a, err := app.New(app.Deps{Store: st, Keyring: kr, AuditKey: auditKey})
			if err != nil {
				return err
			}
			res, err := demo.Seed(cmd.Context(), a.Households, demo.Gated{DB: st, Gate: a.Simulator.EvaluateGate}, time.Now)
			if err != nil {
				return err
			}
			if !res.Created {
				fmt.Fprintln(cmd.OutOrStdout(), "demo county already present; households and principals kept")
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "seeded %d households in %d villages\n", res.Households, len(res.Villages))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "active catalogues: %s\n", strings.Join(res.Catalogues, ", "))
			book, err := demo.SeedLending(cmd.Context(), a.Households, func(clock func() time.Time) *credit.Service {
				return app.NewLending(st, kr, a.Catalogues, clock)
			}, app.NewActivePolicies(st.Policies()), res, time.Now)
			if err != nil {
				return err
			}
			if book.Lines > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "demo bank book (synthetic): %d lines (%d through a working-age member), %d loan statuses, %d gone bad, %d in arrears, %d knocked out today\n",
					book.Lines, book.ThroughMember, book.Statuses, book.Bad, book.InArrears, book.KnockedOut)
			}
			if a.Audit != nil {
				cp, err := a.Audit.Publish(cmd.Context())
				if err != nil {
					return fmt.Errorf("cannot sign the demo's audit checkpoint: %w", err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "audit log: %d records, checkpoint signed\n", cp.Size)
			}
			for _, p := range res.Principals {
				fmt.Fprintf(cmd.OutOrStdout(), "  %-24s %-18s %s\n", p.Name, p.Role, p.Key)
			}
			return nil
		},
	}
	seed.Flags().StringVar(&keyFile, "data-key-file", "", "data key file (default: generated beside the SQLite database)")
	seed.Flags().StringVar(&auditKeyFile, "audit-key-file", "", "the note signer key file audit checkpoints are signed with (default: generated beside the SQLite database, as sanzhid --demo does)")
	cmd.AddCommand(seed)
	return cmd
}

// services builds the services over st as sanzhid does (app.New): the
// commands run the same rules, reactions included, as the server. kr may
// be nil for a command that never touches a 身份证号.
func services(st *sqlstore.Store, kr *pii.Keyring) (*app.App, error) {
	return app.New(app.Deps{Store: st, Keyring: kr})
}

// asActor opens the store, identifies the caller by apiKey as the server
// would (without a key: the local operator, where local allows it) and
// runs fn with the services built over the store.
func asActor(ctx context.Context, open func(context.Context) (server.Store, error), apiKey string, local bool,
	fn func(a *app.App, p *access.Principal) error) error {
	db, err := open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := identify(ctx, db.Store().Principals(), apiKey, local)
	if err != nil {
		return err
	}
	a, err := services(db.Store(), nil)
	if err != nil {
		return err
	}
	return fn(a, p)
}
