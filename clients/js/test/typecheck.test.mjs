// Type-checks wsrouter.d.ts, testing/types.ts and the code blocks of the
// READMEs that use the client with `tsc --strict`. TypeScript is a dev
// dependency (npm install in clients/js); without it the test says it
// skipped.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { repoRoot, tempDir } from '../testing/harness.mjs';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = path.join(pkgDir, 'node_modules', 'typescript', 'bin', 'tsc');

/** The ```js and ```ts blocks of a Markdown file that import the client. */
function clientSnippets(markdown) {
  const out = [];
  const re = /^```(js|ts)\n([\s\S]*?)^```$/gm;
  for (let m; (m = re.exec(markdown)); ) {
    if (/from '(\.\/wsrouter\.js|wsrouter-client)'/.test(m[2])) out.push({ lang: m[1], code: m[2] });
  }
  return out;
}

test('tsc --strict accepts the declarations, the typed usage and the README snippets', async (t) => {
  if (!existsSync(tsc)) {
    t.skip('typescript is not installed: run `npm install` in clients/js to type-check');
    return;
  }
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  copyFileSync(path.join(pkgDir, 'wsrouter.d.ts'), path.join(tmp.dir, 'wsrouter.d.ts'));
  copyFileSync(path.join(pkgDir, 'testing', 'types.ts'), path.join(tmp.dir, 'types.ts'));
  const files = ['wsrouter.d.ts', 'types.ts'];
  for (const readme of ['README.md', 'clients/js/README.md']) {
    const snippets = clientSnippets(readFileSync(path.join(repoRoot, readme), 'utf8'));
    assert.ok(snippets.length > 0, `${readme} has a client snippet`);
    snippets.forEach((s, i) => {
      const name = `${readme.replaceAll('/', '_')}.${i}.${s.lang === 'ts' ? 'ts' : 'mjs'}`;
      writeFileSync(path.join(tmp.dir, name), s.code);
      files.push(name);
    });
  }
  writeFileSync(
    path.join(tmp.dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        allowJs: true,
        checkJs: true,
        target: 'es2022',
        module: 'es2022',
        moduleResolution: 'bundler',
        lib: ['es2022', 'dom'],
        types: [],
        paths: { 'wsrouter-client': ['./wsrouter.d.ts'] },
      },
      files,
    }),
  );
  const res = spawnSync(process.execPath, [tsc, '-p', tmp.dir], { encoding: 'utf8', timeout: 120000 });
  assert.equal(res.status, 0, `tsc --strict failed:\n${res.stdout}${res.stderr}`);
});
