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
//   - wasi:filesystem: preopens lists no directory yet, so no descriptor
//     can be had and every descriptor method is unreachable;
//   - wasi:sockets: linked so that components importing it load; every
//     operation returns error-code::access-denied (instance-network gives
//     a network resource, and creating a socket or resolving a name is
//     denied, so no socket ever exists).
//
// The package knows nothing of wazero or JSON-RPC: the runtime binds these
// functions to host modules and gives each instance its [Env].
package wasip2
