// Checks that the package is publishable as it stands: the classic-script
// build is fresh, `npm pack` ships exactly the files users import, and the
// package says its license.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { buildGlobal, globalPath } from '../build.mjs';
import { repoRoot } from '../testing/harness.mjs';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));

test('wsrouter.global.js is the build of wsrouter.js', () => {
  const want = buildGlobal(readFileSync(path.join(pkgDir, 'wsrouter.js'), 'utf8'));
  assert.ok(readFileSync(globalPath, 'utf8') === want, 'wsrouter.global.js is stale: run `node clients/js/build.mjs`');
});

test('package.json has what a registry and a bundler need', () => {
  for (const key of ['name', 'version', 'description', 'license', 'repository', 'exports', 'types', 'files']) {
    assert.ok(pkg[key], `package.json has ${key}`);
  }
  assert.equal(pkg.license, 'MIT');
  assert.equal(readFileSync(path.join(pkgDir, 'LICENSE'), 'utf8'), readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8'), 'clients/js/LICENSE is the repository LICENSE');
  assert.match(pkg.version, /^\d+\.\d+\.\d+/);
  assert.equal(pkg.dependencies, undefined, 'the client has no runtime dependencies');
});

test('npm pack ships the module, its types, the classic build, the README and the license', (t) => {
  const res = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkgDir, encoding: 'utf8', timeout: 60000 });
  if (res.error?.code === 'ENOENT') {
    t.skip('npm not found; skipping the pack check');
    return;
  }
  assert.equal(res.status, 0, `npm pack failed:\n${res.stderr}`);
  const [packed] = JSON.parse(res.stdout);
  assert.equal(packed.name, pkg.name);
  const files = packed.files.map((f) => f.path).sort();
  assert.deepEqual(files, ['LICENSE', 'README.md', 'package.json', 'wsrouter.d.ts', 'wsrouter.global.js', 'wsrouter.js']);
  const targets = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)))];
  for (const target of targets) {
    assert.ok(files.includes(path.posix.normalize(target)), `${target} is in the package`);
  }
});
