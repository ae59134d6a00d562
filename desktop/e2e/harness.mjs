// The browser tests' harness: a real `pilot serve` on 127.0.0.1 with a temporary PILOT_HOME serving the built UI,
// Debian's Chromium driven by playwright-core, screenshots in a folder that is printed first.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const desktop = resolve(here, '..');
export const root = resolve(desktop, '..');

export function pilotBinary() {
  const candidates = [process.env.PILOT_BIN, join(root, 'target', 'debug', 'pilot'), join(root, 'target', 'release', 'pilot')].filter(Boolean);
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`no pilot binary: build it (cargo build) or set PILOT_BIN (looked at ${candidates.join(', ')})`);
  return found;
}

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error('no Chromium: install Debian\'s `chromium` package (scripts/test does it), or set CHROMIUM');
  return found;
}

/**
 * Starts `pilot serve` on a free port with its own PILOT_HOME (or `home`, kept on stop when `keepHome`); resolves
 * once it listens.
 */
export async function startPilot(extraEnv = {}, { token, home = mkdtempSync(join(tmpdir(), 'pilot-ui-test-')), keepHome = false } = {}) {
  if (token) writeFileSync(join(home, 'api-token'), token, { mode: 0o600 });
  const child = spawn(pilotBinary(), ['serve', '--addr', '127.0.0.1:0', '--json', '--drain', '2s'], {
    env: { ...process.env, PILOT_HOME: home, PILOT_UI_DIR: join(desktop, 'dist'), PILOT_MASTER_KEY: 'a'.repeat(64), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  const url = await new Promise((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`pilot serve did not start in 30 s:\n${log}`)), 30_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.trim().startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolveUrl(JSON.parse(line).url.replace(/\/$/, ''));
      }
    });
    child.on('exit', (code) => reject(new Error(`pilot serve exited (${code}):\n${log}`)));
  });
  return {
    url,
    home,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      if (!keepHome) rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'pilot-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1600, height: 1000 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function screenshotFolder() {
  const folder = process.env.PILOT_UI_SCREENSHOTS ?? join(tmpdir(), `pilot-ui-screenshots-${Date.now()}`);
  mkdirSync(folder, { recursive: true });
  return folder;
}

/** A tiny runner: each test runs in order; the summary line is `N passed, N failed`. */
export async function runTests(tests, { only, onFail } = {}) {
  let passed = 0;
  let failed = 0;
  for (const [name, test] of tests) {
    if (only && !name.includes(only)) continue;
    const started = Date.now();
    try {
      await test();
      passed++;
      console.log(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (err) {
      failed++;
      await onFail?.(name).catch(() => {});
      console.log(`FAIL ${name}\n     ${String(err?.stack ?? err).split('\n').slice(0, 8).join('\n     ')}`);
    }
  }
  console.log(`browser: ${passed} passed, ${failed} failed`);
  return failed === 0;
}
