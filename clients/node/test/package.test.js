'use strict';
// Checks of the package itself: engines agree with what the code uses, the
// README and the lock file; the lock file names no registry host.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const DIR = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(DIR, 'package.json'), 'utf8'));
const lock = JSON.parse(fs.readFileSync(path.join(DIR, 'package-lock.json'), 'utf8'));

// The Node release that brought each feature the client relies on.
const FEATURES = [
  { what: 'Symbol.asyncDispose', used: /Symbol\.asyncDispose/, since: [20, 4, 0] },
  { what: 'AbortSignal.timeout', used: /AbortSignal\.timeout/, since: [17, 3, 0] },
];

function minimum(range) {
  const m = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(range);
  assert.ok(m, `engines.node ${JSON.stringify(range)}: want the form ">=X.Y.Z"`);
  return m.slice(1).map(Number);
}

function atLeast(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

test('engines.node covers every feature index.js uses', () => {
  const src = fs.readFileSync(path.join(DIR, 'index.js'), 'utf8');
  const min = minimum(pkg.engines.node);
  for (const f of FEATURES) {
    if (f.used.test(src)) {
      assert.ok(atLeast(min, f.since), `index.js uses ${f.what} (Node ${f.since.join('.')}), engines says ${pkg.engines.node}`);
    }
  }
  assert.ok(atLeast(process.versions.node.split('.').map(Number), min), `this Node ${process.version} is below engines`);
  assert.equal(typeof Symbol.asyncDispose, 'symbol');
  assert.equal(typeof require('..').Client.prototype[Symbol.asyncDispose], 'function');
});

test('README, lock file and package.json state the same Node version', () => {
  const [major, minor] = minimum(pkg.engines.node);
  const readme = fs.readFileSync(path.join(DIR, 'README.md'), 'utf8');
  assert.match(readme, new RegExp(`Node ≥ ${major}\\.${minor}\\b`));
  assert.doesNotMatch(readme, /Node ≥ (?!\d+\.\d+\b)/);
  assert.deepEqual(lock.packages[''].engines, pkg.engines);
  assert.deepEqual(lock.packages[''].devDependencies, pkg.devDependencies);
});

test('the lock file pins every package without a registry URL', () => {
  for (const [name, entry] of Object.entries(lock.packages)) {
    if (name === '') continue;
    assert.match(entry.version, /^\d+\.\d+\.\d+$/, name);
    assert.ok(entry.integrity, `${name} has no integrity hash`);
    assert.equal(entry.resolved, undefined, `${name} has a resolved URL: keep omit-lockfile-registry-resolved in .npmrc`);
  }
  for (const deps of [pkg.dependencies, pkg.devDependencies]) {
    for (const [name, v] of Object.entries(deps)) assert.match(v, /^\d+\.\d+\.\d+$/, `${name} is not pinned`);
  }
});
