package main

import (
	"fmt"
	"io"
	goruntime "runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

const wazeroModule = "github.com/tetratelabs/wazero"

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print chiphost's version, the wazero version and the Go version",
		Long: `version prints, from the binary's build information, the version of the
chiphost module (a pseudo-version with the commit for a build from a git
clone, "(devel)" for go run and test binaries), the commit, its time and
whether the work tree had changes, the version of wazero, and the Go version
and platform. chiphost --version prints the same.`,
		Example: "  chiphost version\n  chiphost --version",
		Args:    noArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprint(stdout, versionText())
		},
	}
}

// versionText is what `chiphost version` prints, from the build info
// (runtime/debug.ReadBuildInfo):
//
//	chiphost v0.0.0-20260601120000-8e142e2c1a2b+dirty
//	commit   8e142e2c1a2b… (2026-06-01T12:00:00Z, modified)
//	wazero   v1.12.0
//	go       go1.26.8 linux/amd64
//
// The commit line is there when the binary was built from a git clone
// (go build, go install; not go run).
func versionText() string {
	module, wazero := "(unknown)", "(unknown)"
	var b strings.Builder
	info, ok := debug.ReadBuildInfo()
	if ok {
		module = info.Main.Version
		for _, d := range info.Deps {
			if d.Path == wazeroModule {
				wazero = d.Version
				if d.Replace != nil {
					wazero += " => " + d.Replace.Path + " " + d.Replace.Version
				}
			}
		}
	}
	fmt.Fprintf(&b, "chiphost %s\n", module)
	if ok {
		if c := commitLine(info.Settings); c != "" {
			fmt.Fprintf(&b, "commit   %s\n", c)
		}
	}
	fmt.Fprintf(&b, "wazero   %s\n", wazero)
	fmt.Fprintf(&b, "go       %s %s/%s\n", goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
	return b.String()
}

// commitLine describes the vcs settings of the build info: the revision,
// its time and whether the work tree was modified; "" without a revision.
func commitLine(settings []debug.BuildSetting) string {
	var rev, when, modified string
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return ""
	}
	var notes []string
	if when != "" {
		notes = append(notes, when)
	}
	if modified == "true" {
		notes = append(notes, "modified")
	}
	if len(notes) > 0 {
		rev += " (" + strings.Join(notes, ", ") + ")"
	}
	return rev
}
