// chipmunk:shared/sandbox@0.1.0 for the oracle: a fresh directory per call, as a per-instance
// temp directory would be (the oracle runs one instance per process).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function tempDirectory() {
  return mkdtempSync(join(tmpdir(), "chiphost-oracle-"));
}
