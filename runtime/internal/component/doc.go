// Package component decodes WebAssembly component binaries (and, as a
// chiphost extension, bare core modules) into a [Plan] that the runtime can
// execute on a core-only engine.
//
// It implements the binary format of the Component Model
// (component-model design/mvp/Binary.md) far enough to recognise the shape
// wit-component emits for a single-module plugin: one "main" core module
// reached by every canon lift, plus optionally the wasi_snapshot_preview1
// adapter, the shim and the fixup modules, and a nested shim component that
// gives the lifted functions their WIT names. This is the shortcut jco and
// gravity take, described in shared/design/component-model.md §3.1; every
// shape outside it (composed components, direct WASI preview 2 imports,
// resources, async, non-UTF-8 strings, memory64) is rejected with an error
// naming the offending module, import or option.
//
// The package only decodes bytes: it must not import wazero or anything
// JSON-RPC, and it never panics on any input.
//
//	plan, err := component.Decode(bin)
//	if err != nil { ... }
//	kind := plan.Exports[0].Name // "chipmunk:parser/parser@0.1.0"
//	mod := plan.Core            // compile this with wazero
package component
