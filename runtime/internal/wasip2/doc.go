// Package wasip2 is chiphost's WASI 0.2 host for components whose main
// module imports WASI 0.2 interfaces directly (componentize-js with WASI
// on, Rust wasm32-wasip2, ...). The interfaces and their types are the
// embedded WIT of wit/wasip2; every 0.2.x version a component names is
// served by it (semver compatibility). The canonical ABI is the generic one
// of package abi: each function here receives lifted [abi.Value]s and
// returns one to lower, and resources (pollable, input-stream,
// output-stream, error, descriptor, ...) are host objects behind the
// per-instance handle tables of [abi.Tables].
//
// What is served, per instance ([Instance]):
//   - wasi:cli: environment (only the allowed variables), exit (ends the
//     instance with [ExitError]), stdin (always at end of input),
//     stdout/stderr (to the instance's log writers), terminal-* (never a
//     terminal);
//   - wasi:io: error, poll (timers block through the instance's
//     interruptible sleep), streams;
//   - wasi:clocks monotonic-clock and wall-clock (real clocks);
//   - wasi:random random, insecure, insecure-seed (crypto/rand);
//   - wasi:filesystem types and preopens (fs.go): the preopens are the
//     instance's own file systems, the sandboxfs roots its WASI preview 1
//     mounts too (the temporary directory writable, configured paths
//     read-only), so every path resolves through the same confined
//     resolver; absolute paths and `..` above a preopen are refused
//     (not-permitted) and reported; set-times, set-times-at and link-at
//     return unsupported;
//   - wasi:sockets: linked so that components importing it load; every
//     operation returns error-code::access-denied (instance-network gives
//     a network resource, and creating a socket or resolving a name is
//     denied, so no socket ever exists).
//
// The package knows nothing of JSON-RPC and of wazero's runtime (only its
// file-system interfaces, experimental/sys, which sandboxfs implements):
// the runtime binds these functions to host modules and gives each
// instance its [Env] and its preopens.
package wasip2
