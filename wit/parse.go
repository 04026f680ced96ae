package wit

import "strings"

// The syntax tree of one WIT file, before names are resolved.

type fileAST struct {
	path    string
	pkg     string // "ns:name@ver", "" when the file has no package line
	pkgPos  pos
	aliases []*aliasAST // top-level `use ns:pkg/x as y;`
	ifaces  []*ifaceAST
	worlds  []*worldAST
}

// refAST names an interface or world: short ("logging") or qualified
// ("chipmunk:shared/logging@0.1.0", where pkg is "chipmunk:shared" and
// version "0.1.0").
type refAST struct {
	pos     pos
	pkg     string
	version string
	name    string
}

func (r refAST) String() string {
	if r.pkg == "" {
		return r.name
	}
	s := r.pkg + "/" + r.name
	if r.version != "" {
		s += "@" + r.version
	}
	return s
}

type aliasAST struct {
	pos    pos
	name   string
	target refAST
}

type useAST struct {
	target refAST
	names  []useNameAST
}

type useNameAST struct {
	pos  pos
	name string // name in the target interface
	as   string // local name
}

type typeDefAST struct {
	pos     pos
	name    string
	kind    Kind // Record, Variant, Enum, Flags, Resource, or 0 for `type x = ...`
	fields  []fieldAST
	alias   *typeExpr
	methods []*funcAST // Resource: constructor, methods and static functions
}

// fieldAST is a record field, a variant/enum case (typ may be nil) or a flag.
type fieldAST struct {
	pos  pos
	name string
	typ  *typeExpr
}

type typeExpr struct {
	pos  pos
	kind Kind        // 0 for a reference to a named type
	name string      // the referenced name when kind is 0, Own or Borrow
	args []*typeExpr // List/Option: [elem]; Result: [ok, err] (nil entries for _); Tuple: elements
}

type funcAST struct {
	pos      pos
	name     string
	params   []fieldAST
	result   *typeExpr
	member   memberKind // how the function belongs to resource, if at all
	resource string
}

// componentName is the function's name at component level.
func (f *funcAST) componentName() string {
	switch f.member {
	case methodFunc:
		return "[method]" + f.resource + "." + f.name
	case staticFunc:
		return "[static]" + f.resource + "." + f.name
	case constructorFunc:
		return "[constructor]" + f.resource
	}
	return f.name
}

// memberKind says whether a function is a resource's constructor, method
// or static function (their component-level names are "[constructor]r",
// "[method]r.name" and "[static]r.name").
type memberKind uint8

const (
	freeFunc memberKind = iota
	methodFunc
	staticFunc
	constructorFunc
)

type ifaceAST struct {
	pos   pos
	name  string
	uses  []*useAST
	types []*typeDefAST
	funcs []*funcAST
}

type externAST struct {
	ref    refAST
	inline *ifaceAST // `import name: interface { ... }`
}

type worldAST struct {
	pos      pos
	name     string
	imports  []externAST
	exports  []externAST
	includes []refAST
	uses     []*useAST
	types    []*typeDefAST
}

type parser struct {
	toks []token
	i    int
}

// parseFile parses one WIT file. Errors are reported by bailout.
func parseFile(path, src string) *fileAST {
	p := &parser{toks: lex(path, src)}
	f := &fileAST{path: path}
	if p.isKeyword("package") {
		t := p.next()
		f.pkgPos = t.pos
		f.pkg = p.packageName()
		if p.isPunct("{") {
			fail(p.peek().pos, "nested package blocks are not supported")
		}
		p.expect(";")
	}
	for p.peek().kind != tEOF {
		p.gates()
		t := p.peek()
		switch {
		case p.isKeyword("interface"):
			p.next()
			f.ifaces = append(f.ifaces, p.ifaceBody(p.name("interface")))
		case p.isKeyword("world"):
			p.next()
			f.worlds = append(f.worlds, p.world())
		case p.isKeyword("use"):
			p.next()
			a := &aliasAST{target: p.ref()}
			a.pos, a.name = a.target.pos, a.target.name
			if p.isKeyword("as") {
				p.next()
				a.pos = p.peek().pos
				a.name = p.name("alias")
			}
			p.expect(";")
			f.aliases = append(f.aliases, a)
		case p.isKeyword("package"):
			fail(t.pos, "package declaration must come first and appear once")
		default:
			fail(t.pos, "expected interface, world or use, found %s", t.describe())
		}
	}
	return f
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tPunct:
		return "\"" + t.text + "\""
	case tVersion:
		return "version " + t.text
	}
	if !t.escaped && isKeyword(t.text) {
		return "keyword \"" + t.text + "\""
	}
	return "\"" + t.text + "\""
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && !t.escaped && t.text == kw
}

func (p *parser) expect(s string) token {
	if !p.isPunct(s) {
		fail(p.peek().pos, "expected %q, found %s", s, p.peek().describe())
	}
	return p.next()
}

// name reads an identifier used as a name; keywords need a % escape.
func (p *parser) name(what string) string {
	t := p.peek()
	if t.kind != tIdent {
		fail(t.pos, "expected %s name, found %s", what, t.describe())
	}
	if !t.escaped && isKeyword(t.text) {
		fail(t.pos, "expected %s name, found keyword %q (escape it as %%%s)", what, t.text, t.text)
	}
	p.next()
	return t.text
}

func (p *parser) version() string {
	t := p.peek()
	if t.kind != tVersion || !validVersion(t.text) {
		fail(t.pos, "expected a semantic version (such as 0.1.0), found %s", t.describe())
	}
	p.next()
	return t.text
}

// packageName reads ns:name(:name)*(@version)?.
func (p *parser) packageName() string {
	parts := []string{p.name("namespace")}
	p.expect(":")
	parts = append(parts, p.name("package"))
	for p.isPunct(":") {
		p.next()
		parts = append(parts, p.name("package"))
	}
	s := strings.Join(parts, ":")
	if p.isPunct("@") {
		p.next()
		s += "@" + p.version()
	}
	return s
}

// ref reads `name` or `ns:pkg/name@version`.
func (p *parser) ref() refAST {
	r := refAST{pos: p.peek().pos}
	first := p.name("interface")
	if !p.isPunct(":") {
		r.name = first
		return r
	}
	p.next()
	parts := []string{first, p.name("package")}
	for p.isPunct(":") {
		p.next()
		parts = append(parts, p.name("package"))
	}
	r.pkg = strings.Join(parts, ":")
	p.expect("/")
	r.name = p.name("interface")
	if p.isPunct("@") {
		p.next()
		r.version = p.version()
	}
	return r
}

// gates skips feature gates: @since(version = 1.2.3), @unstable(feature = x),
// @deprecated(version = 1.2.3).
func (p *parser) gates() {
	for p.isPunct("@") {
		p.next()
		t := p.peek()
		switch p.name("gate") {
		case "since", "unstable", "deprecated":
		default:
			fail(t.pos, "unknown feature gate %q", t.text)
		}
		p.expect("(")
		p.name("gate argument")
		p.expect("=")
		if p.peek().kind == tVersion {
			p.version()
		} else {
			p.name("feature")
		}
		p.expect(")")
	}
}

func (p *parser) ifaceBody(name string) *ifaceAST {
	it := &ifaceAST{pos: p.toks[p.i-1].pos, name: name}
	p.expect("{")
	for !p.isPunct("}") {
		p.gates()
		t := p.peek()
		switch {
		case p.isKeyword("use"):
			p.next()
			it.uses = append(it.uses, p.use())
		case p.typeDefStart():
			d := p.typeDef()
			it.types = append(it.types, d)
			it.funcs = append(it.funcs, d.methods...)
		case t.kind == tIdent:
			f := p.function()
			if f.member == staticFunc {
				fail(f.pos, "static function %q outside a resource", f.name)
			}
			it.funcs = append(it.funcs, f)
		default:
			fail(t.pos, "expected a type, function or use, found %s", t.describe())
		}
	}
	p.next()
	return it
}

// use reads the rest of `use target.{a, b as c};`.
func (p *parser) use() *useAST {
	u := &useAST{target: p.ref()}
	p.expect(".")
	p.expect("{")
	for !p.isPunct("}") {
		n := useNameAST{pos: p.peek().pos}
		n.name = p.name("type")
		n.as = n.name
		if p.isKeyword("as") {
			p.next()
			n.pos = p.peek().pos
			n.as = p.name("type")
		}
		u.names = append(u.names, n)
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	p.expect("}")
	p.expect(";")
	if len(u.names) == 0 {
		fail(u.target.pos, "use of %s names no types", u.target)
	}
	return u
}

func (p *parser) typeDefStart() bool {
	for _, kw := range []string{"type", "record", "variant", "enum", "flags", "resource"} {
		if p.isKeyword(kw) {
			return true
		}
	}
	return false
}

func (p *parser) typeDef() *typeDefAST {
	kw := p.next()
	d := &typeDefAST{pos: p.peek().pos}
	switch kw.text {
	case "resource":
		return p.resource(d)
	case "type":
		d.name = p.name("type")
		p.expect("=")
		d.alias = p.typ()
		p.expect(";")
		return d
	case "record":
		d.kind = Record
	case "variant":
		d.kind = Variant
	case "enum":
		d.kind = Enum
	case "flags":
		d.kind = Flags
	}
	d.name = p.name(kw.text)
	p.expect("{")
	for !p.isPunct("}") {
		p.gates()
		f := fieldAST{pos: p.peek().pos}
		switch d.kind {
		case Record:
			f.name = p.name("field")
			p.expect(":")
			f.typ = p.typ()
		case Variant:
			f.name = p.name("case")
			if p.isPunct("(") {
				p.next()
				f.typ = p.typ()
				p.expect(")")
			}
		default:
			f.name = p.name(map[Kind]string{Enum: "case", Flags: "flag"}[d.kind])
		}
		d.fields = append(d.fields, f)
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	p.expect("}")
	if len(d.fields) == 0 {
		fail(d.pos, "%s %q must have at least one %s", kw.text, d.name,
			map[Kind]string{Record: "field", Variant: "case", Enum: "case", Flags: "flag"}[d.kind])
	}
	return d
}

// resource reads the rest of `resource name;` or `resource name { members }`.
func (p *parser) resource(d *typeDefAST) *typeDefAST {
	d.kind = Resource
	d.name = p.name("resource")
	if p.isPunct(";") {
		p.next()
		return d
	}
	p.expect("{")
	for !p.isPunct("}") {
		p.gates()
		var f *funcAST
		if p.isKeyword("constructor") {
			f = &funcAST{pos: p.next().pos, name: "constructor", member: constructorFunc}
			p.signature(f)
		} else {
			f = p.function()
			if f.member != staticFunc {
				f.member = methodFunc
			}
		}
		f.resource = d.name
		d.methods = append(d.methods, f)
	}
	p.next()
	return d
}

// function reads `name: func(params) -> result;` (or, in a resource,
// `name: static func(...)`).
func (p *parser) function() *funcAST {
	f := &funcAST{pos: p.peek().pos}
	f.name = p.name("function")
	p.expect(":")
	if p.isKeyword("async") {
		fail(p.peek().pos, "async functions are not supported (function %q)", f.name)
	}
	if p.isKeyword("static") {
		p.next()
		f.member = staticFunc
	}
	if !p.isKeyword("func") {
		fail(p.peek().pos, "expected func after %q:, found %s", f.name, p.peek().describe())
	}
	p.next()
	p.signature(f)
	return f
}

// signature reads `(params) -> result;` into f.
func (p *parser) signature(f *funcAST) {
	p.expect("(")
	for !p.isPunct(")") {
		a := fieldAST{pos: p.peek().pos}
		a.name = p.name("parameter")
		p.expect(":")
		a.typ = p.typ()
		f.params = append(f.params, a)
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	p.expect(")")
	if p.isPunct("->") {
		p.next()
		if p.isPunct("(") {
			fail(p.peek().pos, "named or multiple results are not supported (function %q)", f.name)
		}
		f.result = p.typ()
	}
	p.expect(";")
}

// typ reads a type expression.
func (p *parser) typ() *typeExpr {
	t := p.peek()
	if t.kind != tIdent {
		fail(t.pos, "expected a type, found %s", t.describe())
	}
	p.next()
	e := &typeExpr{pos: t.pos}
	if t.escaped || !isKeyword(t.text) {
		e.name = t.text
		return e
	}
	switch t.text {
	case "bool":
		e.kind = Bool
	case "u8":
		e.kind = U8
	case "s8":
		e.kind = S8
	case "u16":
		e.kind = U16
	case "s16":
		e.kind = S16
	case "u32":
		e.kind = U32
	case "s32":
		e.kind = S32
	case "u64":
		e.kind = U64
	case "s64":
		e.kind = S64
	case "f32", "float32":
		e.kind = F32
	case "f64", "float64":
		e.kind = F64
	case "char":
		e.kind = Char
	case "string":
		e.kind = String
	case "list", "option":
		e.kind = List
		if t.text == "option" {
			e.kind = Option
		}
		p.expect("<")
		e.args = []*typeExpr{p.typ()}
		if e.kind == List && p.isPunct(",") {
			fail(p.peek().pos, "fixed-size lists are not supported")
		}
		p.expect(">")
	case "result":
		e.kind = Result
		e.args = []*typeExpr{nil, nil}
		if !p.isPunct("<") {
			return e
		}
		p.next()
		if p.isPunct("_") {
			p.next()
			p.expect(",")
			e.args[1] = p.typ()
		} else {
			e.args[0] = p.typ()
			if p.isPunct(",") {
				p.next()
				e.args[1] = p.typ()
			}
		}
		p.expect(">")
	case "tuple":
		e.kind = Tuple
		p.expect("<")
		for !p.isPunct(">") {
			e.args = append(e.args, p.typ())
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
		p.expect(">")
		if len(e.args) == 0 {
			fail(t.pos, "tuple must have at least one element")
		}
	case "borrow", "own":
		e.kind = Own
		if t.text == "borrow" {
			e.kind = Borrow
		}
		p.expect("<")
		e.name = p.name("resource")
		p.expect(">")
	case "future", "stream", "error-context":
		fail(t.pos, "%s types are not supported", t.text)
	default:
		fail(t.pos, "expected a type, found keyword %q", t.text)
	}
	return e
}

func (p *parser) world() *worldAST {
	w := &worldAST{pos: p.peek().pos}
	w.name = p.name("world")
	p.expect("{")
	for !p.isPunct("}") {
		p.gates()
		t := p.peek()
		switch {
		case p.isKeyword("import"), p.isKeyword("export"):
			p.next()
			x := p.extern()
			if t.text == "import" {
				w.imports = append(w.imports, x)
			} else {
				w.exports = append(w.exports, x)
			}
		case p.isKeyword("include"):
			p.next()
			w.includes = append(w.includes, p.ref())
			if p.isKeyword("with") {
				p.next()
				p.expect("{")
				for !p.isPunct("}") {
					p.name("included item")
					if !p.isKeyword("as") {
						fail(p.peek().pos, "expected as, found %s", p.peek().describe())
					}
					p.next()
					p.name("new")
					if !p.isPunct(",") {
						break
					}
					p.next()
				}
				p.expect("}")
				if p.isPunct(";") {
					p.next()
				}
			} else {
				p.expect(";")
			}
		case p.isKeyword("use"):
			p.next()
			w.uses = append(w.uses, p.use())
		case p.typeDefStart():
			w.types = append(w.types, p.typeDef())
		default:
			fail(t.pos, "expected import, export, include, use or a type, found %s", t.describe())
		}
	}
	p.next()
	return w
}

// extern reads what follows import/export: an interface reference, or
// `name: interface { ... }`.
func (p *parser) extern() externAST {
	if p.peek().kind == tIdent && p.peekN(1).kind == tPunct && p.peekN(1).text == ":" {
		if n := p.peekN(2); n.kind == tIdent && !n.escaped {
			switch n.text {
			case "interface":
				name := p.name("import")
				p.next()
				p.next()
				return externAST{ref: refAST{pos: p.toks[p.i-3].pos, name: name}, inline: p.ifaceBody(name)}
			case "func", "async":
				fail(p.peek().pos, "world-level functions are not supported (%q)", p.peek().text)
			}
		}
	}
	x := externAST{ref: p.ref()}
	p.expect(";")
	return x
}
