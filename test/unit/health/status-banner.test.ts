/**
 * A long status page (400 points) must not hide what is wrong below the fold: with
 * the uplink online but readings dropped and a device and a bus down, the header says
 * so at the top, and stays on screen when the technician scrolls to the end.
 * Headless Chromium on a phone-sized screen; a screenshot goes to test-artifacts/.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderStatusPage } from '../../../src/health/page.js';
import type { StatusView } from '../../../src/health/live.js';
import type { HealthPayload } from '../../../src/core/payloads.js';
import { ARTIFACTS, launchPhone } from '../../helpers/browser.js';
import { need, tool } from '../../helpers/needs.js';

function view(trouble: boolean): StatusView {
  const now = Date.now();
  const devices: HealthPayload['devices'] = {};
  const points: StatusView['points'] = [];
  for (let d = 0; d < 20; d++) {
    const id = `meter-${String(d).padStart(2, '0')}`;
    const down = trouble && d === 7;
    devices[id] = { state: down ? 'down' : 'ok', readings: 1000, last_reading_age_s: down ? null : 2, errors: down ? 9 : 0, consecutive_errors: down ? 9 : 0, counters: {} };
    for (let p = 0; p < 20; p++) points.push({ device: id, point: `p${p}`, value: p * 1.5, unit: 'kWh', quality: 'good', ts: now - 2000 });
  }
  const health: HealthPayload = {
    gateway: 'cab-0400', ts: now, version: '0.1.0', uptime_s: 86_400,
    uplink: { state: 'online', reconnects: 0, published: 10_000, acked_readings: 400_000, insecure: false },
    buffer: { readings: 0, rows: 0, bytes: 0, file_bytes: 65_536, oldest_age_s: null, next_seq: 400_001, dropped: trouble ? 1234 : 0, dropped_by_reason: trouble ? { max_age: 1234 } : {}, rejected: 0, lost: 0, events_evicted: 0, waiting_in_memory: 0, pending_events: 0, bytes_written: 1e6, by_quality: { good: 400_000 } },
    disk: { state: 'ok', free_bytes: 5e9, limit_bytes: 256 * 1024 ** 2 },
    devices,
    buses: { 'rs485-1': { type: 'modbus-rtu', state: 'ok', link: 'open', queued: 0, requests: 1, responses: 1, timeouts: 0, crc_errors: 0 }, 'rs485-2': { type: 'modbus-rtu', state: trouble ? 'down' : 'ok', link: trouble ? 'closed' : 'open', queued: 0, requests: 1, responses: 0, timeouts: 9, crc_errors: 0 } },
    system: { cpu_temp_c: 48, load_1m: 0.2, disk_free_bytes: 5e9, disk_total_bytes: 3.2e10 },
  } as HealthPayload;
  return { health, points, events: [] };
}

describe('status page summary banner', () => {
  it('400 points, drops and a device down: the banner says so at the top, also scrolled to the end', async (ctx) => {
    need(ctx, tool('chromium'));
    const browser = await launchPhone();
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      await page.setContent(renderStatusPage(view(true)));
      await expect.poll(() => page.locator('#points-table tr').count(), { timeout: 10_000 }).toBeGreaterThan(400);
      const alerts = page.locator('#alerts');
      const items = await alerts.locator('li').allTextContents();
      expect(items).toEqual(['1234 readings dropped (max_age 1234)', '1 device not ok: meter-07', '1 bus not ok: rs485-2']);
      const height = page.viewportSize()!.height;
      const box = await alerts.boundingBox();
      expect(box!.y + box!.height).toBeLessThan(height);
      await page.screenshot({ path: join(ARTIFACTS, 'status-banner-top.png') });
      await page.evaluate('window.scrollTo(0, document.body.scrollHeight)');
      await page.waitForFunction('window.scrollY > 1000');
      const scrolled = await alerts.boundingBox();
      expect(scrolled!.y).toBeGreaterThanOrEqual(0);
      expect(scrolled!.y + scrolled!.height).toBeLessThan(height);
      await page.screenshot({ path: join(ARTIFACTS, 'status-banner-scrolled.png') });

      await page.setContent(renderStatusPage(view(false)));
      await expect.poll(() => page.locator('#alerts').textContent(), { timeout: 10_000 }).toBe('no drops, no losses, every device ok');
    } finally {
      await browser.close();
    }
  }, 60_000);
});
