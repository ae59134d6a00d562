// Puts the example workflows into a running daemon's workflows folder, disabled (nothing acts on your files until
// you enable one). Each example is offered once per PILOT_HOME: the names done are kept in
// $PILOT_HOME/.examples-installed, so an example you delete does not come back.
//   node install-examples.mjs URL EXAMPLES_DIR PILOT_HOME
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [url, examples, home] = process.argv.slice(2);
const marker = join(home, '.examples-installed');
const done = new Set(existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean) : []);
const tokenFile = join(home, 'api-token');
const headers = { 'content-type': 'application/json' };
if (existsSync(tokenFile)) headers.authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;

const installed = [];
for (const file of readdirSync(examples).filter((name) => /\.ya?ml$/.test(name)).sort()) {
  if (done.has(file)) continue;
  done.add(file);
  if (existsSync(join(home, 'workflows', file))) continue;
  const source = readFileSync(join(examples, file), 'utf8');
  const response = await fetch(`${url}/api/v1/workflows`, { method: 'POST', headers, body: JSON.stringify({ source, file_name: file, enabled: false }) });
  if (response.ok) installed.push(file);
  else {
    const body = await response.json().catch(() => ({}));
    const first = body?.error?.details?.diagnostics?.[0]?.message;
    console.error(`  example ${file} left out: ${body?.error?.message ?? response.status}${first ? ` (${first})` : ''}`);
  }
}
writeFileSync(marker, [...done].join('\n') + '\n');
if (installed.length) console.error(`  examples added, disabled: ${installed.join(', ')} (enable them in the UI)`);
