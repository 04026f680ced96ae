// Command chiphost runs Chipmunk parser and byte-source plugins outside
// Chipmunk. With no subcommand (or "serve") it speaks JSON-RPC 2.0 on
// stdin/stdout; "inspect" and "parse" are one-shot commands.
//
// This package only wires flags to the runtime and rpc packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/chiphost/chiphost/internal/procdir"
	"github.com/chiphost/chiphost/runtime"
)

const usage = `usage:
  chiphost [serve] [flags]                 JSON-RPC 2.0 server on stdin/stdout
  chiphost inspect [flags] PLUGIN          print a plugin's metadata as JSON
  chiphost parse --parser PLUGIN [flags] [FILE|-]
                                           parse a file (or stdin) and print rows
  chiphost bench --parser PLUGIN --input FILE [--config id=value]... [--json]
                                           measure a parser plugin: load times, throughput,
                                           ratio to a native baseline

PLUGIN is a path to a .wasm file or the name of a discovered plugin.
Run "chiphost COMMAND -h" for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal cancels ctx, so everything stops and cleans up; a
	// second one gets the default action (the process ends at once), should
	// anything fail to honour the first.
	context.AfterFunc(ctx, stop)
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serveCmd(ctx, args, stdin, stdout, stderr)
	case "inspect":
		err = inspectCmd(ctx, args, stdout, stderr)
	case "parse":
		err = parseCmd(ctx, args, stdin, stdout, stderr)
	case "bench":
		err = benchCmd(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "chiphost: unknown command %q\n%s", cmd, usage)
		return 2
	}
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "chiphost %s: %v\n", cmd, err)
		return 2
	}
	fmt.Fprintf(stderr, "chiphost %s: %v\n", cmd, err)
	return 1
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

// parseFlags parses a command's flags; a bad flag is a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return usageError{err}
	}
	return err
}

// hostFlags are the flags every command shares to configure the runtime.
type hostFlags struct {
	pluginDirs  stringList
	noDefault   bool
	cacheDir    string
	noCache     bool
	tempDir     string
	memoryMiB   uint64
	totalMiB    uint64
	timeout     string
	env         stringList
	parentDirs  bool
	interpreter bool
	logLevel    string
	logFile     string
	cpuProfile  string
}

func (f *hostFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.pluginDirs, "plugins-dir", "extra plugin root with Chipmunk's layout (repeatable)")
	fs.BoolVar(&f.noDefault, "no-default-plugins", false, "do not scan ~/.chipmunk/plugins")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "compilation and metadata cache (default: user cache dir/chiphost)")
	fs.BoolVar(&f.noCache, "no-cache", false, "disable the compilation and metadata caches")
	fs.StringVar(&f.tempDir, "temp-dir", "", "keep temporary files (plugin temporary directories, session row stores) in DIR/chiphost-UID (default: the OS temp dir)")
	fs.Uint64Var(&f.memoryMiB, "memory-limit", 512, "memory cap per plugin instance, MiB")
	fs.Uint64Var(&f.totalMiB, "max-total-memory", 4096, "memory cap of all plugin instances together, MiB")
	fs.StringVar(&f.timeout, "call-timeout", "60s", "deadline for each call into a plugin (0: none)")
	fs.Var(&f.env, "allow-env", "host environment variable a plugin may see (repeatable)")
	fs.BoolVar(&f.parentDirs, "compat-parent-dirs", false, "grant read access to the parent directory of configured paths, as Chipmunk does")
	fs.BoolVar(&f.interpreter, "interpreter", false, "run plugins in wazero's interpreter instead of its compiler")
	fs.StringVar(&f.logLevel, "log-level", "warn", "chiphost log level: debug, info, warn, error")
	fs.StringVar(&f.logFile, "log-file", "", "write logs to this file instead of stderr")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a Go CPU profile of this run to the file (go tool pprof)")
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
// starts the CPU profile when asked; the returned closer ends both.
func (f *hostFlags) logger(stderr io.Writer) (zerolog.Logger, func(), error) {
	lvl, err := zerolog.ParseLevel(f.logLevel)
	if err != nil {
		return zerolog.Nop(), nil, usageError{fmt.Errorf("-log-level: %w", err)}
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
	if isTerminal(w) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05"}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), closer, nil
}

func (f *hostFlags) options(log *zerolog.Logger) (*runtime.Options, error) {
	d, err := parseDuration(f.timeout)
	if err != nil {
		return nil, usageError{fmt.Errorf("-call-timeout: %w", err)}
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

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
