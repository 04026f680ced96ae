package wit

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Resolve is a set of parsed WIT packages with every name resolved.
type Resolve struct {
	Packages []*Package // sorted by name

	ifaces map[string]*Interface // by qualified name
	worlds map[string]*World     // by qualified name
}

// Package is one WIT package.
type Package struct {
	Name       string       // "chipmunk:parser@0.1.0"
	Interfaces []*Interface // sorted by name
	Worlds     []*World     // sorted by name
}

// Interface returns the interface with the given qualified name, such as
// "chipmunk:parser/parser@0.1.0", or nil.
func (r *Resolve) Interface(qualified string) *Interface { return r.ifaces[qualified] }

// World returns the world with the given qualified name, such as
// "chipmunk:parser/parse@0.1.0", or nil.
func (r *Resolve) World(qualified string) *World { return r.worlds[qualified] }

// Package returns the package called name (with its version, if it has
// one), or nil.
func (r *Resolve) Package(name string) *Package {
	for _, p := range r.Packages {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Interface returns the package's interface called name, or nil.
func (p *Package) Interface(name string) *Interface {
	for _, i := range p.Interfaces {
		if i.Name == name {
			return i
		}
	}
	return nil
}

// World returns the package's world called name, or nil.
func (p *Package) World(name string) *World {
	for _, w := range p.Worlds {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// QualifiedName returns "ns:pkg/name@version".
func (w *World) QualifiedName() string {
	return (&Interface{Package: w.Package, Name: w.Name}).QualifiedName()
}

// Parse reads the WIT directory dir of fsys: the root package from
// dir/*.wit, and one package per dir/deps/<name>/ folder (or
// dir/deps/<name>.wit file). It resolves every use, import, export and
// include across those packages. Errors are *Error values when they concern
// a position in a file; file paths are relative to dir.
func Parse(fsys fs.FS, dir string) (res *Resolve, err error) {
	defer catch(&err)
	r := &resolver{pkgs: map[string]*pkgState{}}
	root, err := r.readPackage(fsys, dir, "")
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, fmt.Errorf("wit: %s: no .wit files", dir)
	}
	deps, err := fs.ReadDir(fsys, path.Join(dir, "deps"))
	if err != nil && !isNotExist(err) {
		return nil, fmt.Errorf("wit: %w", err)
	}
	for _, d := range deps {
		switch {
		case d.IsDir():
			if _, err := r.readPackage(fsys, dir, path.Join("deps", d.Name())); err != nil {
				return nil, err
			}
		case strings.HasSuffix(d.Name(), ".wit"):
			if err := r.readFiles(fsys, dir, "deps", []string{d.Name()}); err != nil {
				return nil, err
			}
		}
	}
	return r.resolve(), nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

type resolver struct {
	pkgs  map[string]*pkgState
	order []*pkgState
}

type pkgState struct {
	name   string
	where  string // folder or file it came from, for duplicate messages
	ifaces map[string]*ifaceState
	worlds map[string]*worldState
	names  map[string]pos // interface and world names share a namespace
}

type fileScope struct {
	pkg     *pkgState
	aliases map[string]*aliasAST
}

// typeScope holds the named types visible in an interface or world body.
type typeScope struct {
	file    *fileScope
	owner   string // qualified name of the interface, for resource types
	entries map[string]*typeEntry
	order   []string
}

type typeEntry struct {
	scope *typeScope
	name  string
	pos   pos
	def   *typeDefAST // defined here, or
	use   *useAST     // taken from use.target
	from  string      // under this name
	t     *Type
	state uint8 // 0 new, 1 resolving, 2 done
}

type ifaceState struct {
	ast   *ifaceAST
	file  *fileScope
	scope *typeScope
	iface *Interface
	state uint8
}

type worldState struct {
	ast   *worldAST
	file  *fileScope
	world *World
	state uint8
}

// readPackage reads the .wit files directly in dir/sub as one package; it
// returns nil when there are none.
func (r *resolver) readPackage(fsys fs.FS, dir, sub string) (*pkgState, error) {
	entries, err := fs.ReadDir(fsys, path.Join(dir, sub))
	if err != nil {
		return nil, fmt.Errorf("wit: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".wit") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	slices.Sort(names)
	var files []*fileAST
	for _, n := range names {
		rel := path.Join(sub, n)
		src, err := fs.ReadFile(fsys, path.Join(dir, rel))
		if err != nil {
			return nil, fmt.Errorf("wit: %w", err)
		}
		files = append(files, parseFile(rel, string(src)))
	}
	return r.addPackage(path.Join(sub, "."), files), nil
}

// readFiles reads each named file in dir/sub as a package of its own.
func (r *resolver) readFiles(fsys fs.FS, dir, sub string, names []string) error {
	for _, n := range names {
		rel := path.Join(sub, n)
		src, err := fs.ReadFile(fsys, path.Join(dir, rel))
		if err != nil {
			return fmt.Errorf("wit: %w", err)
		}
		r.addPackage(rel, []*fileAST{parseFile(rel, string(src))})
	}
	return nil
}

func (r *resolver) addPackage(where string, files []*fileAST) *pkgState {
	var name string
	var at pos
	for _, f := range files {
		if f.pkg == "" {
			continue
		}
		if name != "" && f.pkg != name {
			fail(f.pkgPos, "package %q differs from %q declared at %s:%d", f.pkg, name, at.file, at.line)
		}
		name, at = f.pkg, f.pkgPos
	}
	if name == "" {
		fail(pos{files[0].path, 1, 1}, "no package declaration in %s", where)
	}
	if old, ok := r.pkgs[name]; ok {
		fail(at, "package %q is also defined in %s", name, old.where)
	}
	ps := &pkgState{name: name, where: where, ifaces: map[string]*ifaceState{},
		worlds: map[string]*worldState{}, names: map[string]pos{}}
	r.pkgs[name] = ps
	r.order = append(r.order, ps)
	claim := func(n string, p pos) {
		if old, ok := ps.names[n]; ok {
			fail(p, "duplicate name %q (first declared at %s:%d)", n, old.file, old.line)
		}
		ps.names[n] = p
	}
	for _, f := range files {
		fsc := &fileScope{pkg: ps, aliases: map[string]*aliasAST{}}
		for _, a := range f.aliases {
			if _, ok := fsc.aliases[a.name]; ok {
				fail(a.pos, "duplicate name %q", a.name)
			}
			fsc.aliases[a.name] = a
		}
		for _, it := range f.ifaces {
			claim(it.name, it.pos)
			ps.ifaces[it.name] = newIfaceState(it, fsc, name)
		}
		for _, w := range f.worlds {
			claim(w.name, w.pos)
			ps.worlds[w.name] = &worldState{ast: w, file: fsc,
				world: &World{Package: name, Name: w.name}}
		}
	}
	return ps
}

func newIfaceState(it *ifaceAST, fsc *fileScope, pkg string) *ifaceState {
	is := &ifaceState{ast: it, file: fsc,
		scope: newScope(fsc, it.uses, it.types),
		iface: &Interface{Package: pkg, Name: it.name, Types: map[string]*Type{}}}
	is.scope.owner = is.iface.QualifiedName()
	return is
}

func newScope(fsc *fileScope, uses []*useAST, defs []*typeDefAST) *typeScope {
	s := &typeScope{file: fsc, entries: map[string]*typeEntry{}}
	add := func(e *typeEntry) {
		if old, ok := s.entries[e.name]; ok {
			fail(e.pos, "duplicate type %q (first declared at %s:%d)", e.name, old.pos.file, old.pos.line)
		}
		s.entries[e.name] = e
		s.order = append(s.order, e.name)
	}
	for _, u := range uses {
		for _, n := range u.names {
			add(&typeEntry{scope: s, name: n.as, pos: n.pos, use: u, from: n.name})
		}
	}
	for _, d := range defs {
		add(&typeEntry{scope: s, name: d.name, pos: d.pos, def: d})
	}
	return s
}

func (r *resolver) resolve() *Resolve {
	res := &Resolve{ifaces: map[string]*Interface{}, worlds: map[string]*World{}}
	slices.SortFunc(r.order, func(a, b *pkgState) int { return strings.Compare(a.name, b.name) })
	for _, ps := range r.order {
		pkg := &Package{Name: ps.name}
		for _, n := range sortedKeys(ps.ifaces) {
			is := ps.ifaces[n]
			r.resolveIface(is)
			pkg.Interfaces = append(pkg.Interfaces, is.iface)
			res.ifaces[is.iface.QualifiedName()] = is.iface
		}
		for _, n := range sortedKeys(ps.worlds) {
			ws := ps.worlds[n]
			r.resolveWorld(ws)
			pkg.Worlds = append(pkg.Worlds, ws.world)
			res.worlds[ws.world.QualifiedName()] = ws.world
		}
		res.Packages = append(res.Packages, pkg)
	}
	return res
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// lookupPkg finds the package named by a qualified reference. A reference
// without a version matches the only version present.
func (r *resolver) lookupPkg(ref refAST) *pkgState {
	if ref.version != "" {
		if ps := r.pkgs[ref.pkg+"@"+ref.version]; ps != nil {
			return ps
		}
		fail(ref.pos, "unknown package %q", ref.pkg+"@"+ref.version)
	}
	if ps := r.pkgs[ref.pkg]; ps != nil {
		return ps
	}
	var found *pkgState
	for _, ps := range r.order {
		if n, _, _ := strings.Cut(ps.name, "@"); n == ref.pkg {
			if found != nil {
				fail(ref.pos, "package %q is ambiguous: give a version (%s or %s)", ref.pkg, found.name, ps.name)
			}
			found = ps
		}
	}
	if found == nil {
		fail(ref.pos, "unknown package %q", ref.pkg)
	}
	return found
}

// target resolves a reference to an interface (want "interface") or a world.
func (r *resolver) target(fsc *fileScope, ref refAST, want string) (*ifaceState, *worldState) {
	ps := fsc.pkg
	if ref.pkg == "" {
		if a := fsc.aliases[ref.name]; a != nil {
			ref = a.target
			if ref.pkg != "" {
				ps = r.lookupPkg(ref)
			}
		}
	} else {
		ps = r.lookupPkg(ref)
	}
	if want == "interface" {
		if is := ps.ifaces[ref.name]; is != nil {
			return is, nil
		}
	} else if ws := ps.worlds[ref.name]; ws != nil {
		return nil, ws
	}
	if ref.pkg == "" {
		fail(ref.pos, "unknown %s %q", want, ref.name)
	}
	fail(ref.pos, "unknown %s %q (package %s has no %s %q)", want, ref.String(), ps.name, want, ref.name)
	return nil, nil
}

func (r *resolver) resolveIface(is *ifaceState) {
	switch is.state {
	case 2:
		return
	case 1:
		fail(is.ast.pos, "interface %q depends on itself through use", is.ast.name)
	}
	is.state = 1
	it := is.iface
	for _, u := range is.ast.uses {
		dep, _ := r.target(is.file, u.target, "interface")
		if dep == is {
			fail(u.target.pos, "interface %q uses itself", is.ast.name)
		}
		r.resolveIface(dep)
		if !slices.Contains(it.Uses, dep.iface) {
			it.Uses = append(it.Uses, dep.iface)
		}
	}
	r.fillScope(is.scope)
	for _, n := range is.scope.order {
		it.Types[n] = is.scope.entries[n].t
	}
	it.TypeNames = is.scope.order
	seen := map[string]bool{}
	for _, f := range is.ast.funcs {
		name := f.componentName()
		if seen[name] {
			fail(f.pos, "duplicate function %q", name)
		}
		if _, ok := is.scope.entries[name]; ok {
			fail(f.pos, "function %q has the same name as a type", name)
		}
		seen[name] = true
		it.Funcs = append(it.Funcs, r.function(is.scope, f))
	}
	is.state = 2
}

func (r *resolver) fillScope(s *typeScope) {
	for _, n := range s.order {
		r.entry(s.entries[n])
	}
}

func (r *resolver) function(s *typeScope, f *funcAST) *Func {
	fn := &Func{Name: f.name}
	seen := map[string]bool{}
	if f.member != freeFunc {
		res := r.resourceRef(s, f.pos, f.resource)
		fn.Name = f.componentName()
		switch f.member {
		case methodFunc:
			fn.Params = append(fn.Params, Param{Name: "self", Type: &Type{Kind: Borrow, Elem: res}})
			seen["self"] = true
		case constructorFunc:
			if f.result != nil {
				fail(f.pos, "constructor of %q declares a result", f.resource)
			}
			defer func() { fn.Result = &Type{Kind: Own, Elem: res} }()
		}
	}
	for _, a := range f.params {
		if seen[a.name] {
			fail(a.pos, "duplicate parameter %q in function %q", a.name, f.name)
		}
		seen[a.name] = true
		fn.Params = append(fn.Params, Param{Name: a.name, Type: r.expr(s, a.typ)})
	}
	if f.result != nil {
		fn.Result = r.expr(s, f.result)
	}
	return fn
}

// entry resolves one named type.
func (r *resolver) entry(e *typeEntry) *Type {
	switch e.state {
	case 2:
		return e.t
	case 1:
		fail(e.pos, "type %q refers to itself", e.name)
	}
	e.state = 1
	if e.use != nil {
		dep, _ := r.target(e.scope.file, e.use.target, "interface")
		src := dep.scope.entries[e.from]
		if src == nil {
			fail(e.pos, "unknown type %q in interface %s", e.from, e.use.target)
		}
		e.t = r.entry(src)
		e.state = 2
		return e.t
	}
	d := e.def
	var t *Type
	if d.kind == Resource {
		e.t = &Type{Kind: Resource, Name: d.name, Owner: e.scope.owner}
		e.state = 2
		return e.t
	}
	if d.kind == 0 {
		target := r.expr(e.scope, d.alias)
		c := *target
		c.Name = d.name
		t = &c
	} else {
		t = &Type{Kind: d.kind, Name: d.name}
		seen := map[string]bool{}
		for _, f := range d.fields {
			if seen[f.name] {
				fail(f.pos, "duplicate %s %q in %s %q", memberWord(d.kind), f.name, d.kind, d.name)
			}
			seen[f.name] = true
			switch d.kind {
			case Record:
				t.Fields = append(t.Fields, Field{Name: f.name, Type: r.expr(e.scope, f.typ)})
			case Variant:
				c := Case{Name: f.name}
				if f.typ != nil {
					c.Type = r.expr(e.scope, f.typ)
				}
				t.Cases = append(t.Cases, c)
			case Enum:
				t.Cases = append(t.Cases, Case{Name: f.name})
			case Flags:
				t.Flags = append(t.Flags, f.name)
			}
		}
	}
	e.t = t
	e.state = 2
	return t
}

func memberWord(k Kind) string {
	switch k {
	case Record:
		return "field"
	case Flags:
		return "flag"
	}
	return "case"
}

// expr resolves a type expression in scope s.
func (r *resolver) expr(s *typeScope, x *typeExpr) *Type {
	if x == nil {
		return nil
	}
	if x.kind == 0 {
		e := s.entries[x.name]
		if e == nil {
			fail(x.pos, "unknown type %q", x.name)
		}
		t := r.entry(e)
		if t.Kind == Resource { // a bare resource name is an owning handle
			return &Type{Kind: Own, Elem: t}
		}
		return t
	}
	t := &Type{Kind: x.kind}
	switch x.kind {
	case Own, Borrow:
		t.Elem = r.resourceRef(s, x.pos, x.name)
	case List, Option:
		t.Elem = r.expr(s, x.args[0])
	case Result:
		t.Ok = r.expr(s, x.args[0])
		t.Err = r.expr(s, x.args[1])
	case Tuple:
		for _, a := range x.args {
			t.Fields = append(t.Fields, Field{Type: r.expr(s, a)})
		}
	}
	return t
}

// resourceRef resolves name, which must be a resource type, in scope s.
func (r *resolver) resourceRef(s *typeScope, at pos, name string) *Type {
	e := s.entries[name]
	if e == nil {
		fail(at, "unknown resource %q", name)
	}
	t := r.entry(e)
	if t.Kind != Resource {
		fail(at, "%q is a %s, not a resource", name, t.Kind)
	}
	return t
}

func (r *resolver) resolveWorld(ws *worldState) {
	switch ws.state {
	case 2:
		return
	case 1:
		fail(ws.ast.pos, "world %q includes itself", ws.ast.name)
	}
	ws.state = 1
	w := ws.world
	extern := func(list []*Interface, x externAST) []*Interface {
		var it *Interface
		if x.inline != nil {
			is := newIfaceState(x.inline, ws.file, "")
			r.resolveIface(is)
			it = is.iface
		} else {
			is, _ := r.target(ws.file, x.ref, "interface")
			r.resolveIface(is)
			it = is.iface
		}
		if slices.Contains(list, it) {
			fail(x.ref.pos, "%s is listed twice in world %q", x.ref, w.Name)
		}
		return append(list, it)
	}
	for _, x := range ws.ast.imports {
		w.Imports = extern(w.Imports, x)
	}
	for _, x := range ws.ast.exports {
		w.Exports = extern(w.Exports, x)
	}
	for _, ref := range ws.ast.includes {
		_, inc := r.target(ws.file, ref, "world")
		r.resolveWorld(inc)
		for _, it := range inc.world.Imports {
			if !slices.Contains(w.Imports, it) {
				w.Imports = append(w.Imports, it)
			}
		}
		for _, it := range inc.world.Exports {
			if !slices.Contains(w.Exports, it) {
				w.Exports = append(w.Exports, it)
			}
		}
	}
	scope := newScope(ws.file, ws.ast.uses, ws.ast.types)
	for _, u := range ws.ast.uses {
		is, _ := r.target(ws.file, u.target, "interface")
		r.resolveIface(is)
	}
	r.fillScope(scope)
	if len(scope.order) > 0 {
		w.Types = map[string]*Type{}
		for _, n := range scope.order {
			w.Types[n] = scope.entries[n].t
		}
	}
	ws.state = 2
}
