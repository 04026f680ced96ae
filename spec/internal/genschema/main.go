// Command genschema writes spec/schema/*.json from the method table and the
// wire types of package rpc/protocol. Run it with "go generate ./spec/..." from the module root.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/chiphost/chiphost/spec"
)

func main() {
	files, err := spec.Schemas()
	if err != nil {
		fmt.Fprintln(os.Stderr, "genschema:", err)
		os.Exit(1)
	}
	dir := "schema" // go generate runs in spec/
	old, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range old {
		os.Remove(f)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "genschema:", err)
		os.Exit(1)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "genschema:", err)
			os.Exit(1)
		}
	}
}
