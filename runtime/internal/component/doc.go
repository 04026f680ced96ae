// Package component decodes WebAssembly component binaries (and, as a
// chiphost extension, bare core modules) into a [Plan] that the runtime can
// execute on a core-only engine.
//
// It implements the binary format of the Component Model (the upstream
// component-model repository's design/mvp/Binary.md) far enough to recognise
// the shape wit-component emits for a single-module plugin: one "main" core
// module reached by every canon lift, plus optionally the
// wasi_snapshot_preview1 adapter, the shim and the fixup modules, and a nested
// shim component that gives the lifted functions their WIT names. This is
// the shortcut jco and gravity take (docs/design.md explains it). A composed
// component whose code is all in one nested component is flattened to that
// component (flatten.go). The main module may also import WASI 0.2.x
// functions directly (any 0.2.x version, matched to the component's import
// of the same interface at any 0.2.x version), including `[resource-drop]`
// of imported resources, which is described as a function taking
// own<resource>; own and borrow handles of imported resources are decoded
// into wit.Own/wit.Borrow. Every shape outside these (composed components
// with code in two parts, exported resources, async, non-UTF-8 strings,
// memory64) is rejected with an error naming the offending module, import
// or option.
//
// The decoder reads bytes with the shared toolkit runtime/internal/wasmbin and
// is split by section: decode.go walks the sections and dispatches them;
// instance.go, alias.go, canon.go, extern.go (imports and exports), types.go
// and coretype.go decode the entries of each section into the index spaces of
// index.go; core.go reads embedded core modules and nested.go nested
// components; producers.go reads producers sections and refused.go lists
// the imports the plan cannot serve. planner.go and the plan_*.go files turn the index spaces into a
// Plan; bare.go plans a bare core module.
//
// The package only decodes bytes: it must not import wazero or anything
// JSON-RPC, and it never panics on any input.
//
//	plan, err := component.Decode(bin)
//	if err != nil { ... }
//	kind := plan.Exports[0].Name // "chipmunk:parser/parser@0.1.0"
//	mod := plan.Core            // compile this with wazero
package component
