// The first load of the UI: the JavaScript index.html loads (its entry and the chunks it preloads), gzip-compressed.
// Fails above the budget (400 KB); the canvas and the editor are separate chunks loaded when first opened.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 400 * 1024;
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const files = [...html.matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+\.js)"/g)].map((match) => match[1]);
let total = 0;
for (const file of new Set(files)) {
  const size = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  total += size;
  console.log(`  ${file}: ${(size / 1024).toFixed(1)} KB gzip`);
}
console.log(`first load: ${(total / 1024).toFixed(1)} KB of gzip-compressed JavaScript (budget ${BUDGET / 1024} KB)`);
if (files.length === 0 || total > BUDGET) {
  console.error(files.length === 0 ? 'no script found in dist/index.html' : 'over the budget');
  process.exit(1);
}
