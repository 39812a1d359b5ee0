/**
 * The status page in a real browser (headless Chromium on a phone-sized screen): a
 * gateway with simulated points and a Modbus device whose PLC is unreachable, an
 * embedded broker. The page must show every point's value, unit, quality and age, the
 * device and bus states with the last error, buffer, uplink and disk, and the last
 * events; update itself over server-sent events without a reload; and load nothing
 * from anywhere but the gateway. A screenshot is kept in test-artifacts/.
 */
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { Gateway } from '../../../src/runtime/gateway.js';
import { testConfig } from '../../helpers/gateway-config.js';
import { freePort } from '../../helpers/net.js';
import { ARTIFACTS, launchPhone } from '../../helpers/browser.js';
import { until } from '../../helpers/commander.js';
import { need, tool } from '../../helpers/needs.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup.length = 0;
});

describe('status page in headless Chromium', () => {
  it('shows points, devices, buses, vitals and events, and updates live', async (ctx) => {
    need(ctx, tool('chromium'));
    const broker = new EmbeddedBroker();
    await broker.start();
    cleanup.push(() => broker.stop());
    const httpPort = await freePort();
    const deadPlc = await freePort(); // nothing listens there
    const config = testConfig({
      url: broker.url,
      id: 'kiosk-7',
      health: { interval: '1s', http: `127.0.0.1:${httpPort}` },
      devices: [
        {
          id: 'weather',
          driver: 'sim',
          poll: '200ms',
          points: [
            { name: 'temperature', wave: 'sine', min: 12, max: 28, period: '10s', unit: 'degC' },
            { name: 'ticks', wave: 'counter', unit: 'count' },
          ],
        },
        { id: 'plc-1', driver: 'modbus', bus: 'plc', poll: '300ms', points: [{ name: 'level', table: 'holding', address: 0, type: 'int16', unit: 'm' }] },
      ],
      extra: { buses: { plc: { type: 'modbus-tcp', host: '127.0.0.1', port: deadPlc, timeout: '200ms' } } },
    });
    const gw = new Gateway(config);
    await gw.start();
    cleanup.push(() => gw.stop());
    await until(() => gw.uplink.stats().state === 'online' && gw.health().devices['plc-1']?.last_error !== undefined, 15_000, 'uplink online and the PLC failing');

    const browser: BrowserContext = await launchPhone();
    cleanup.push(() => browser.close());
    const page = browser.pages()[0] ?? (await browser.newPage());
    const origin = `http://127.0.0.1:${httpPort}`;
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${origin}/`);

    // Points: value, unit, quality, age.
    const temp = page.locator('#points-table tr', { hasText: 'temperature' });
    await expect.poll(() => temp.count(), { timeout: 10_000 }).toBe(1);
    const cells = await temp.locator('td').allTextContents(); // the device column is hidden on a phone, not absent
    expect(cells[0]).toBe('weather');
    expect(Number(cells[2])).toBeGreaterThanOrEqual(12);
    expect(Number(cells[2])).toBeLessThanOrEqual(28);
    expect(cells.slice(3, 5)).toEqual(['degC', 'good']);
    expect(cells[5]).toMatch(/^\d+ s$/);

    // Devices and buses with their last error.
    const plcRow = page.locator('#devices-table tr', { hasText: 'plc-1' });
    await expect.poll(async () => (await plcRow.locator('td').nth(1).textContent()) ?? '', { timeout: 15_000 }).toMatch(/degraded|down/);
    expect(await plcRow.locator('td').nth(5).textContent()).toMatch(/ECONNREFUSED|refused|connect/i);
    expect(await page.locator('#devices-table tr', { hasText: 'weather' }).locator('td').nth(1).textContent()).toBe('ok');
    await expect.poll(() => page.locator('#buses-table').textContent(), { timeout: 10_000 }).toContain('plc');

    // Buffer, uplink, disk; the uplink badge.
    expect(await page.locator('#buffer').textContent()).toMatch(/readings · .* · oldest .* · dropped 0 · next seq \d+/);
    await expect.poll(() => page.locator('#uplink-state').textContent(), { timeout: 10_000 }).toBe('uplink online');
    expect(await page.locator('#disk').textContent()).toMatch(/free of/);

    // Events: the start, and a device going bad.
    const events = page.locator('#events-list');
    expect(await events.textContent()).toContain('gateway_started');
    await expect.poll(() => events.textContent(), { timeout: 10_000 }).toMatch(/device_state device=plc-1/);

    // Live: values move and a new event appears without a reload.
    await expect.poll(() => page.locator('#live').textContent(), { timeout: 10_000 }).toBe('live');
    const ticksCell = page.locator('#points-table tr', { hasText: 'ticks' }).locator('td').nth(2);
    const before = Number(await ticksCell.textContent());
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    gw.events.emit({ type: 'command', command: 'ping', id: 'technician-marker', ok: true, ms: 0 });
    await expect.poll(() => events.textContent(), { timeout: 10_000 }).toContain('id=technician-marker');
    await expect.poll(async () => Number(await ticksCell.textContent()), { timeout: 10_000 }).toBeGreaterThan(before);
    expect(navigations).toBe(0);

    // Nothing from a CDN: every request went to the gateway itself.
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith(origin))).toEqual([]);

    // Readable on a phone: nothing wider than the screen but the scrolling tables.
    // (evaluated in the page, hence a string: the test's own lib has no DOM types)
    const overflow = await page.evaluate<number>('document.body.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-phone.png'), fullPage: true });
  });
});
