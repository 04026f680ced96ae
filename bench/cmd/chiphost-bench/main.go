// Command chiphost-bench runs chiphost's own benchmark suite (package
// bench) and prints the report behind docs/performance.md:
//
//	go run ./bench/cmd/chiphost-bench [--runs 5] [--quick] [--sections 1,4] [--json] [-v] [--baseline-chiphost OLD]
//
// Run it inside the repository (or give --fixtures testdata/plugins). The
// sections that spawn chiphost use --chiphost, or a binary built from the
// repository's cmd/chiphost for the run. This package only wires flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/chiphost/chiphost/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chiphost-bench:", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chiphost-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fixtures := fs.String("fixtures", "", "the repository's testdata/plugins (default: found from the working directory upwards)")
	exe := fs.String("chiphost", "", "the chiphost binary to spawn (default: built from the repository's cmd/chiphost)")
	baseline := fs.String("baseline-chiphost", "", "another chiphost binary that section 7 times chiphost parse against (e.g. one built before a change)")
	runs := fs.Int("runs", 5, "timed runs per figure (medians are reported)")
	quick := fs.Bool("quick", false, "smoke run: small inputs, one run per figure")
	sections := fs.String("sections", "", "comma-separated section numbers to run (1-8, or search for 8; default all)")
	live := fs.String("live", "", "comma-separated parts of section 7 to run: latency, cost, follow (default all)")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of tables")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the in-process sections to this file")
	verbose := fs.Bool("v", false, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg := &bench.Config{Runs: *runs, Quick: *quick, Fixtures: *fixtures, Exe: *exe, BaselineExe: *baseline}
	if *verbose {
		cfg.Log = stderr
	}
	var err error
	if cfg.Sections, err = parseSections(*sections); err != nil {
		return err
	}
	if cfg.Live, err = parseLiveParts(*live); err != nil {
		return err
	}
	if cfg.Fixtures == "" {
		if cfg.Fixtures = findFixtures(); cfg.Fixtures == "" {
			return errors.New("testdata/plugins not found from the working directory: run in the chiphost repository or give --fixtures")
		}
	}
	if cfg.Exe == "" {
		dir, err := os.MkdirTemp("", "chiphost-bench-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if cfg.Exe, err = buildChiphost(ctx, filepath.Dir(filepath.Dir(cfg.Fixtures)), dir); err != nil {
			return err
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(ctx, cfg)
	if rep != nil {
		rep.Command = "go run ./bench/cmd/chiphost-bench " + strings.Join(args, " ")
		write := rep.WriteTable
		if *asJSON {
			write = rep.WriteJSON
		}
		if werr := write(stdout); err == nil {
			err = werr
		}
	}
	return err
}

func parseSections(list string) ([]int, error) {
	var out []int
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if s == "search" {
			s = "8"
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 8 {
			return nil, fmt.Errorf("--sections: want numbers 1-8 (or search), found %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseLiveParts(list string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(list, ",") {
		switch s = strings.TrimSpace(s); s {
		case "":
		case "latency", "cost", "follow":
			out = append(out, s)
		default:
			return nil, fmt.Errorf("--live: want latency, cost or follow, found %q", s)
		}
	}
	return out, nil
}

// findFixtures looks for testdata/plugins from the working directory up.
func findFixtures() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "testdata", "plugins")
		if _, err := os.Stat(filepath.Join(p, "parsers")); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// buildChiphost builds repo's cmd/chiphost into dir with the go command.
func buildChiphost(ctx context.Context, repo, dir string) (string, error) {
	out := filepath.Join(dir, "chiphost")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/chiphost")
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building chiphost (or give --chiphost): %v: %s", err, b)
	}
	return out, nil
}
