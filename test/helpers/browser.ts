/**
 * Headless Chromium for browser tests: Debian's chromium driven by playwright-core
 * (no browser download), with a fresh profile per launch and nothing that phones home.
 * Fails with the package to install when chromium is missing (unit tests check
 * need(ctx, tool('chromium')) first, and are skipped with that reason instead).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { tempDir } from './gateway-config.js';
import { onPath } from './needs.js';

export const CHROMIUM = process.env.CITYGATE_CHROMIUM ?? onPath('chromium') ?? '/usr/bin/chromium';

/** Where tests keep screenshots (gitignored). */
export const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');

export async function launchPhone(): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium), or set CITYGATE_CHROMIUM`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launchPersistentContext(tempDir('cg-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    // A phone: the technician's screen on site.
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    timeout: 30_000,
  });
}
