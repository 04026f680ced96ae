package snippets

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runVenv runs a `venv` block (an install command) in a new virtual
// environment, from a copy of clients/python so that the build leaves
// nothing in the repository, then runs the page's python blocks again with
// that environment's python3 and no PYTHONPATH: they must print the same,
// importing the installed package (with its py.typed marker).
func (e *env) runVenv(t *testing.T, s step, pythonSteps []step) error {
	if len(pythonSteps) == 0 {
		return fmt.Errorf("%s: a venv block needs python blocks before it to run again", s.block)
	}
	python, err := builderPython(t)
	if err != nil {
		return fmt.Errorf("%s: %w", s.block, err)
	}
	venv := filepath.Join(e.tmp, "venv")
	if out, err := exec.CommandContext(e.ctx, python, "-m", "venv", "--system-site-packages", venv).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %s -m venv: %v\n%s", s.block, python, err, out)
	}
	copyRoot := filepath.Join(e.tmp, "venv-src")
	if err := os.MkdirAll(filepath.Join(copyRoot, "clients"), 0o700); err != nil {
		return err
	}
	cp := exec.CommandContext(e.ctx, "cp", "-R", filepath.Join(e.root, "clients", "python"), filepath.Join(copyRoot, "clients", "python"))
	if out, err := cp.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: copying clients/python: %v\n%s", s.block, err, out)
	}
	environ := venvEnviron(e.base, venv)
	install, err := e.command(t, s.block, environ)
	if err != nil {
		return err
	}
	install.Dir = copyRoot
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: install in a virtual environment of %s failed: %v\n%s", s.block, python, err, out)
	}
	check := exec.CommandContext(e.ctx, filepath.Join(venv, "bin", "python3"), "-c",
		"import chiphost, os; d = os.path.dirname(chiphost.__file__); print(d.startswith(os.environ['VIRTUAL_ENV']), os.path.exists(os.path.join(d, 'py.typed')))")
	check.Dir, check.Env = e.root, environ
	if out, err := check.CombinedOutput(); err != nil || string(out) != "True True\n" {
		return fmt.Errorf("%s: after the install, chiphost is not imported from the environment with its py.typed (in env, py.typed: %s, %v)", s.block, out, err)
	}
	for _, ps := range pythonSteps {
		if err := e.run(t, ps, environ); err != nil {
			return fmt.Errorf("%s: with the installed package: %w", s.block, err)
		}
	}
	return nil
}

// venvEnviron is the blocks' environment inside a virtual environment:
// its bin first on PATH, no PYTHONPATH.
func venvEnviron(base []string, venv string) []string {
	var out []string
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "PYTHONPATH":
			continue
		case "PATH":
			kv = "PATH=" + filepath.Join(venv, "bin") + string(os.PathListSeparator) + v
		}
		out = append(out, kv)
	}
	return append(out, "VIRTUAL_ENV="+venv)
}

// builderPython is a Python that can build the package without network:
// it has venv with pip (ensurepip) and setuptools that can build a wheel
// (with the wheel package below setuptools 70.1). python3 on PATH comes
// first; Debian's /usr/bin/python3 (python3-setuptools python3-wheel
// python3-venv, which .ci/run installs) is the fallback.
func builderPython(t *testing.T) (string, error) {
	const probe = `import ensurepip, importlib.util as u, setuptools, sys
v = tuple(int(x) for x in setuptools.__version__.split(".")[:2])
sys.exit(0 if v >= (61, 0) and (v >= (70, 1) or u.find_spec("wheel")) else 1)`
	var tried []string
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", probe).Run() == nil {
			t.Logf("building the Python package with %s", path)
			return path, nil
		}
		tried = append(tried, path)
	}
	return "", missing(t, fmt.Sprintf("a Python with venv, setuptools >= 61 and wheel (tried %v; Debian: python3-venv python3-setuptools python3-wheel)", tried))
}
