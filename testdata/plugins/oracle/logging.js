// chipmunk:shared/logging@0.1.0 for the oracle: every plugin log line goes to stderr.
export function log(level, msg) {
  process.stderr.write(`[plugin ${level}] ${msg}\n`);
}
