// Command chiphost runs Chipmunk parser and byte-source plugins outside
// Chipmunk. With no subcommand (or "serve") it speaks JSON-RPC 2.0 on
// stdin/stdout; "inspect", "parse", "plugins" and "bench" are one-shot
// commands. `chiphost help` lists them.
//
// This package only wires flags (spf13/cobra) to the runtime and rpc
// packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/chiphost/chiphost/internal/procdir"
	"github.com/chiphost/chiphost/runtime"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status: 0, 2
// for a usage error (see usageError), 1 for any other error.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal cancels ctx, so everything stops and cleans up; a
	// second one gets the default action (the process ends at once), should
	// anything fail to honour the first.
	context.AfterFunc(ctx, stop)
	root := newRootCmd(args, stdin, stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var ran ranError
	if !errors.As(err, &ran) {
		// Cobra refused the command line before anything ran: an unknown
		// command or flag, a bad flag value, wrong arguments.
		fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", cmd.CommandPath(), err, cmd.CommandPath())
		return 2
	}
	fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), ran.error)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

const rootLong = `chiphost runs Chipmunk's WebAssembly parser and byte-source plugins outside
Chipmunk, from the command line or for other programs over JSON-RPC 2.0.

With no command, chiphost runs serve: a JSON-RPC 2.0 server on stdin/stdout
(spec/protocol.md), with serve's flags ("chiphost help serve").

PLUGIN is a path to a .wasm file or a plugin directory, or the name of a
plugin discovered under ~/.chipmunk/plugins and the --plugins-dir roots
(Chipmunk's layout: ROOT/parsers/NAME/NAME.wasm, ROOT/bytesources/NAME/NAME.wasm).`

const rootExample = `  chiphost parse --parser string_parser app.log
  chiphost parse app.log --parser text --output jsonl
  chiphost plugins --plugins-dir ./plugins
  chiphost inspect ./plugins/parsers/my_parser/my_parser.wasm
  chiphost --framing ndjson        # JSON-RPC 2.0, one message per line
  chiphost completion bash > ~/.local/share/bash-completion/completions/chiphost`

// newRootCmd builds the command tree for the command line args. The root command itself serves
// JSON-RPC, taking serve's flags (hidden from its help, shown by "help
// serve"), so that `chiphost --framing ndjson` works as `chiphost serve
// --framing ndjson`.
func newRootCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "chiphost",
		Short:         "Run Chipmunk parser and byte-source plugins outside Chipmunk",
		Long:          rootLong,
		Example:       rootExample,
		Args:          noCommand,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(flagError)
	var sf serveFlags
	sf.register(root.Flags())
	root.Flags().VisitAll(func(f *pflag.Flag) { f.Hidden = true })
	// --version is chiphost's own flag, not cobra's Version field: that
	// one prints through text/template, whose reflection keeps every
	// method of every type in the binary (about 4 MB more).
	showVersion := root.Flags().BoolP("version", "v", false, "print chiphost's, wazero's and Go's versions (as chiphost version)")
	root.RunE = ran(func(cmd *cobra.Command, _ []string) error {
		if *showVersion {
			_, err := io.WriteString(stdout, versionText())
			return err
		}
		return serveCmd(cmd.Context(), &sf, stdin, stdout, stderr)
	})
	root.SetHelpCommand(newHelpCmd())
	root.AddCommand(
		newServeCmd(stdin, stdout, stderr),
		newParseCmd(stdin, stdout, stderr),
		newInspectCmd(stdout, stderr),
		newPluginsCmd(stdout, stderr),
		newBenchCmd(args, stdout, stderr),
		newVersionCmd(stdout),
	)
	return root
}

// newHelpCmd is cobra's help command, except that an unknown topic is a
// usage error (cobra prints the root's usage and exits 0).
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "help prints the help of a command: what it does, its usage line, examples and flags.",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			var names []cobra.Completion
			for _, sub := range c.Root().Commands() {
				if sub.IsAvailableCommand() && len(args) == 0 && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return fmt.Errorf("unknown help topic %q", strings.Join(args, " "))
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
}

// noCommand rejects arguments to the root command: they can only be a
// command name that does not exist.
func noCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return errors.New(msg)
}

// flagError adds a hint to pflag's error for a long flag given with one
// dash (-parser), which Go's flag package accepted and pflag reads as
// shorthands.
func flagError(cmd *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if errors.As(err, &ne) && ne.GetSpecifiedShortnames() != "" {
		name, _, _ := strings.Cut(ne.GetSpecifiedShortnames(), "=")
		if cmd.Flags().Lookup(name) != nil {
			return fmt.Errorf("%w (long flags take two dashes: --%s)", err, name)
		}
	}
	return err
}

// ranError marks an error returned by a command that ran, after its flags
// and arguments were accepted; any other error cobra returns is a usage
// error.
type ranError struct{ error }

func (e ranError) Unwrap() error { return e.error }

// ran wraps a command's RunE so that its errors are marked ranError.
func ran(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := f(cmd, args); err != nil {
			return ranError{err}
		}
		return nil
	}
}

// usageError marks an error in what the user typed: exit status 2 instead of
// 1. Usage errors are unknown commands and flags, malformed or missing flag
// values and arguments, and configuration values (--config, --source-config)
// that chiphost's validation or the plugin's init rejects, which the server
// answers with -32602. Everything else, such as a plugin that cannot be
// found or loaded, an input file that cannot be opened, or a plugin that
// fails while parsing, exits with 1.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// hostFlags are the flags every command shares to configure the runtime.
type hostFlags struct {
	pluginDirs  []string
	noDefault   bool
	cacheDir    string
	noCache     bool
	tempDir     string
	memoryMiB   uint64
	totalMiB    uint64
	timeout     string
	env         []string
	parentDirs  bool
	interpreter bool
	logLevel    string
	logFile     string
	cpuProfile  string
}

func (f *hostFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.pluginDirs, "plugins-dir", nil, "extra plugin root `DIR` with Chipmunk's layout (repeatable)")
	fs.BoolVar(&f.noDefault, "no-default-plugins", false, "do not scan ~/.chipmunk/plugins")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "compilation and metadata cache `DIR` (default: user cache dir/chiphost)")
	fs.BoolVar(&f.noCache, "no-cache", false, "disable the compilation and metadata caches")
	fs.StringVar(&f.tempDir, "temp-dir", "", "keep temporary files (plugin temporary directories, session row stores) in `DIR`/chiphost-UID (default: the OS temp dir)")
	fs.Uint64Var(&f.memoryMiB, "memory-limit", 512, "memory cap per plugin instance, `MiB`")
	fs.Uint64Var(&f.totalMiB, "max-total-memory", 4096, "memory cap of all plugin instances together, `MiB`")
	fs.StringVar(&f.timeout, "call-timeout", "60s", "`duration` allowed for each call into a plugin (0: none)")
	fs.StringArrayVar(&f.env, "allow-env", nil, "host environment variable `NAME` a plugin may see (repeatable)")
	fs.BoolVar(&f.parentDirs, "compat-parent-dirs", false, "grant read access to the parent directory of configured paths, as Chipmunk does")
	fs.BoolVar(&f.interpreter, "interpreter", false, "run plugins in wazero's interpreter instead of its compiler")
	fs.StringVar(&f.logLevel, "log-level", "warn", "chiphost log `level`: debug, info, warn, error")
	fs.StringVar(&f.logFile, "log-file", "", "write logs to `FILE` instead of stderr")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a Go CPU profile of this run to `FILE` (go tool pprof)")
}

// roots returns the plugin roots to scan.
func (f *hostFlags) roots() []string {
	roots := append([]string(nil), f.pluginDirs...)
	if !f.noDefault {
		if r, err := runtime.DefaultRoot(); err == nil {
			roots = append(roots, r)
		}
	}
	return roots
}

// logger builds the process logger: stderr or a file, never stdout. It also
// starts the CPU profile when asked; the returned closer ends both. For a
// command other than serve (command != ""), lines on stderr are the
// command's own, as its warnings are ("chiphost parse: warning: …", see
// humanLog); serve's stay JSON, and so does a --log-file.
func (f *hostFlags) logger(stderr io.Writer, command string) (zerolog.Logger, func(), error) {
	lvl, err := zerolog.ParseLevel(f.logLevel)
	if err != nil {
		return zerolog.Nop(), nil, usageError{fmt.Errorf("--log-level: %w", err)}
	}
	stopProfile := func() {}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return zerolog.Nop(), nil, err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			pf.Close()
			return zerolog.Nop(), nil, err
		}
		stopProfile = func() { pprof.StopCPUProfile(); pf.Close() }
	}
	w, closer := stderr, stopProfile
	if f.logFile != "" {
		file, err := os.OpenFile(f.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return zerolog.Nop(), nil, err
		}
		w, closer = file, func() { file.Close(); stopProfile() }
	}
	switch {
	case command != "" && f.logFile == "":
		w = &humanLog{out: w, prefix: "chiphost " + command + ": "}
	case isTerminal(w):
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05"}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), closer, nil
}

func (f *hostFlags) options(log *zerolog.Logger) (*runtime.Options, error) {
	d, err := parseDuration(f.timeout)
	if err != nil {
		return nil, usageError{fmt.Errorf("--call-timeout: %w", err)}
	}
	var tempRoot string
	if f.tempDir != "" {
		tempRoot = procdir.Parent(f.tempDir)
	}
	return &runtime.Options{
		Logger:          log,
		TempRoot:        tempRoot,
		CacheDir:        f.cacheDir,
		NoCache:         f.noCache,
		MemoryLimit:     f.memoryMiB << 20,
		MaxTotalMemory:  f.totalMiB << 20,
		CallTimeout:     d,
		Env:             f.env,
		ParentDirAccess: f.parentDirs,
		Interpreter:     f.interpreter,
	}, nil
}

// noArgs is cobra.NoArgs worded for chiphost.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) != 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	return nil
}

// completeValues offers values as the shell completions of flag.
func completeValues(cmd *cobra.Command, flag string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}
