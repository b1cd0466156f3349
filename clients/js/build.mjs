// build.mjs writes wsrouter.global.js, the client for a classic <script>
// tag: the code of wsrouter.js in a function that puts its exports on
// `window.wsrouter` (globalThis.wsrouter). `node build.mjs --check` fails
// when the file is not what wsrouter.js gives, so the two never drift.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
export const globalPath = path.join(dir, 'wsrouter.global.js');

/** The classic-script build of the ES module source `src`. */
export function buildGlobal(src) {
  const names = [];
  const body = src.replace(/^export (const|class|function|async function) ([A-Za-z_$][\w$]*)/gm, (_, kind, name) => {
    names.push(name);
    return `${kind} ${name}`;
  });
  if (/^\s*(export|import)\b/m.test(body)) {
    throw new Error('build: wsrouter.js has an import or export form build.mjs does not handle');
  }
  return [
    '// Generated from wsrouter.js by build.mjs; do not edit. For a classic',
    '// <script src="wsrouter.global.js">: the exports are on window.wsrouter.',
    '(function (root) {',
    "  'use strict';",
    '',
    body.trimEnd(), // not re-indented: template literals keep their text
    '',
    `  root.wsrouter = Object.freeze({ ${names.join(', ')} });`,
    "})(typeof globalThis !== 'undefined' ? globalThis : this);",
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const want = buildGlobal(readFileSync(path.join(dir, 'wsrouter.js'), 'utf8'));
  if (process.argv.includes('--check')) {
    let have = '';
    try {
      have = readFileSync(globalPath, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (have !== want) {
      console.error('wsrouter.global.js is stale: run `node clients/js/build.mjs`');
      process.exit(1);
    }
  } else {
    writeFileSync(globalPath, want);
  }
}
