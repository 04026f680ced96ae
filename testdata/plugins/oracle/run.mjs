// node run.mjs OUTDIR/plugin.js SCENARIO.json
// Drives a jco-transpiled Chipmunk plugin through a scenario and prints one canonical JSON line
// per call (format: testdata/plugins/README.md, "Oracle"). jco's JavaScript values (camelCase
// fields, {tag,val} variants, undefined for none, BigInt for 64-bit integers, thrown err
// payloads for result errors) are converted with the WIT types written out below.
//
// Scenario strings may contain ${SCENARIO_DIR}: it is replaced with the absolute directory of the
// scenario file (used for file paths in config values).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";

// ---- the Chipmunk 0.1.0 WIT types ---------------------------------------------
const list = (t) => ({ list: t });
const option = (t) => ({ option: t });
const record = (...fields) => ({ record: fields });
const variant = (...cases) => ({ variant: cases });
const tuple = (...ts) => ({ tuple: ts });
const result = (ok, err) => ({ result: [ok, err] });
const enum_ = (...names) => ({ enum: names });

const level = enum_("error", "warn", "info", "debug", "trace");
const version = record(["major", "u16"], ["minor", "u16"], ["patch", "u16"]);
const initError = variant(["config", "string"], ["io", "string"], ["unsupported", "string"], ["other", "string"]);
const configValue = variant(
  ["boolean", "bool"], ["integer", "s32"], ["float", "f32"], ["text", "string"],
  ["directories", list("string")], ["files", list("string")], ["dropdown", "string"],
);
const configItem = record(["id", "string"], ["value", configValue]);
const configSchemaType = variant(
  ["boolean", "bool"], ["integer", "s32"], ["float", "f32"], ["text", "string"], ["directories", null],
  ["files", list("string")], ["dropdown", tuple(list("string"), "string")],
);
const configSchemaItem = record(
  ["id", "string"], ["title", "string"], ["description", option("string")], ["input-type", configSchemaType],
);
const generalConfig = record(["log-level", level]); // parser-config and source-config
const columnInfo = record(["caption", "string"], ["description", "string"], ["width", "s16"]);
const renderOptions = record([
  "columns-options",
  option(record(["columns", list(columnInfo)], ["min-width", "u16"], ["max-width", "u16"])),
]);
const parsedMessage = variant(["line", "string"], ["columns", list("string")]);
const attachment = record(
  ["name", "string"], ["size", "u64"], ["created-date", option("string")], ["modified-date", option("string")],
  ["messages", list("u64")], ["data", list("u8")],
);
const parseYield = variant(
  ["message", parsedMessage], ["attachment", attachment], ["message-and-attachment", tuple(parsedMessage, attachment)],
);
const parseReturn = record(["value", option(parseYield)], ["consumed", "u64"]);
const parseError = variant(["unrecoverable", "string"], ["parse", "string"], ["incomplete", null], ["eof", null]);
const sourceError = variant(["io", "string"], ["unsupported", "string"], ["other", "string"]);
// chipmunk:producer/producer-types (the producer draft layout)
const produceReturn = variant(["item", parseYield], ["skipped", null], ["incomplete", null], ["empty", null], ["done", null]);
const produceError = variant(["unrecoverable", "string"], ["produce", "string"], ["other", "string"]);

const FUNCS = {
  "get-version": { params: [], result: version },
  "get-config-schemas": { params: [], result: list(configSchemaItem) },
  "get-render-options": { params: [], result: renderOptions },
  init: { params: [generalConfig, list(configItem)], result: result(null, initError) },
  parse: { params: [list("u8"), option("u64")], result: result(list(parseReturn), parseError) },
  read: { params: ["u64"], result: result(list("u8"), sourceError) },
  "produce-next": { params: [], result: result(list(produceReturn), produceError) },
};

// ---- conversions ------------------------------------------------------------------
const camel = (s) => s.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
const is64 = (t) => t === "u64" || t === "s64";
const isFloat = (t) => t === "f32" || t === "f64";

function fail(what, v) {
  throw new Error(`oracle: unexpected ${what}: ${String(v)}`);
}

// jco value -> canonical JSON value
function toCanon(t, v) {
  if (typeof t === "string") {
    if (is64(t)) return BigInt(v).toString();
    if (isFloat(t)) return Number.isNaN(v) ? "NaN" : v;
    if (t === "bool") return !!v;
    return v; // integers, char, string
  }
  if (t.list) return Array.from(v, (x) => toCanon(t.list, x));
  if (t.option) return v === undefined || v === null ? null : { some: toCanon(t.option, v) };
  if (t.record) return Object.fromEntries(t.record.map(([n, ft]) => [n, toCanon(ft, v[camel(n)])]));
  if (t.tuple) return t.tuple.map((et, i) => toCanon(et, v[i]));
  if (t.enum) return t.enum.includes(v) ? v : fail("enum case", v);
  if (t.variant) {
    const c = t.variant.find(([n]) => n === v.tag) ?? fail("variant case", v.tag);
    return c[1] === null ? { tag: c[0] } : { tag: c[0], val: toCanon(c[1], v.val) };
  }
  fail("type", JSON.stringify(t));
}

// canonical JSON value -> jco argument
function fromCanon(t, j) {
  if (typeof t === "string") {
    if (is64(t)) return BigInt(j);
    if (isFloat(t)) return j === "NaN" ? NaN : j;
    return j;
  }
  if (t.list) return t.list === "u8" ? Uint8Array.from(j) : j.map((x) => fromCanon(t.list, x));
  if (t.option) return j === null ? undefined : fromCanon(t.option, j.some);
  if (t.record) return Object.fromEntries(t.record.map(([n, ft]) => [camel(n), fromCanon(ft, j[n])]));
  if (t.tuple) return t.tuple.map((et, i) => fromCanon(et, j[i]));
  if (t.enum) return j;
  if (t.variant) {
    const c = t.variant.find(([n]) => n === j.tag) ?? fail("variant case", j.tag);
    return c[1] === null ? { tag: c[0] } : { tag: c[0], val: fromCanon(c[1], j.val) };
  }
  fail("type", JSON.stringify(t));
}

// ---- run ----------------------------------------------------------------------
const [pluginJs, scenarioPath] = process.argv.slice(2);
if (!scenarioPath) {
  console.error("usage: node run.mjs TRANSPILED/plugin.js SCENARIO.json");
  process.exit(2);
}
const scenarioDir = dirname(resolve(scenarioPath));
const scenario = JSON.parse(readFileSync(scenarioPath, "utf8").replaceAll("${SCENARIO_DIR}", scenarioDir));

await import(pathToFileURL(resolve(dirname(pluginJs), "wasi-setup.js")).href);
const mod = await import(pathToFileURL(resolve(pluginJs)).href);
const iface = mod.parser ?? mod.byteSource ?? mod.producer ?? mod["chipmunk:parser/parser@0.1.0"] ??
  mod["chipmunk:bytesource/byte-source@0.1.0"] ?? mod["chipmunk:producer/producer@0.1.0"];
if (!iface) fail("component exports", Object.keys(mod));

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
for (const call of scenario.calls) {
  const f = FUNCS[call.fn] ?? fail("function", call.fn);
  const args = (call.args ?? []).map((a, i) => fromCanon(f.params[i], a));
  const jsName = camel(call.fn);
  if (typeof iface[jsName] !== "function") fail("missing export", call.fn);
  let value;
  try {
    const r = iface[jsName](...args);
    value = f.result.result ? { ok: f.result.result[0] ? toCanon(f.result.result[0], r) : null } : toCanon(f.result, r);
  } catch (e) {
    // jco-transpile 0.15 throws the err payload itself (older jco wrapped it in a ComponentError
    // with .payload); traps and glue validation failures are Error instances.
    const componentError = e instanceof Error && e.constructor?.name === "ComponentError" && "payload" in e;
    if (f.result.result && (componentError || !(e instanceof Error))) {
      const errT = f.result.result[1];
      const payload = componentError ? e.payload : e;
      value = { err: errT ? toCanon(errT, payload) : null };
    } else {
      process.stderr.write(`oracle: ${call.fn} trapped: ${e?.stack ?? e}\n`);
      out({ fn: call.fn, trap: true });
      break;
    }
  }
  out({ fn: call.fn, result: value });
}
