/** JSON log lines carry each key once; the demo's live line fits 100 columns. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/core/log.js';
import { fitLine } from '../../../src/demo/summary.js';

describe('logs', () => {
  it('a child bound to the same device does not repeat the key', async () => {
    const sink = new PassThrough();
    let text = '';
    sink.on('data', (d: Buffer) => (text += d.toString()));
    const log = createLogger({ pretty: false, destination: sink });
    log.child({ device: 'pm', driver: 'serial' }).child({ device: 'pm', port: '/dev/ttyUSB0' }).warn('port lost');
    await new Promise((r) => setTimeout(r, 20));
    const line = text.trim();
    expect(line.match(/"device"/g)).toHaveLength(1);
    expect(JSON.parse(line)).toMatchObject({ device: 'pm', driver: 'serial', port: '/dev/ttyUSB0', msg: 'port lost' });
  });

  it('nor does a line that passes the bound key again (a supervisor logging { device } on the device logger)', async () => {
    const sink = new PassThrough();
    let text = '';
    sink.on('data', (d: Buffer) => (text += d.toString()));
    const log = createLogger({ pretty: false, destination: sink }).child({ device: 'g', driver: 'gpio' });
    log.error({ device: 'g', delay: 650 }, 'driver failed');
    log.info('plain');
    await new Promise((r) => setTimeout(r, 20));
    const [failed, plain] = text.trim().split('\n');
    expect(failed!.match(/"device"/g)).toHaveLength(1);
    expect(JSON.parse(failed!)).toMatchObject({ device: 'g', driver: 'gpio', delay: 650, msg: 'driver failed' });
    expect(JSON.parse(plain!)).toMatchObject({ device: 'g', msg: 'plain' });
  });
});

describe('demo live line', () => {
  const head = 'readings/s   12.0 | buffer    340 | uplink online     | delivered 12';
  it('lists degraded devices while they fit, then counts them; never past the width', () => {
    expect(fitLine(head, [], 100)).toBe(head);
    expect(fitLine(head, ['air-1:down'], 100)).toBe(`${head} | air-1:down`);
    const many = fitLine(head, ['air-1:down', 'meter-1:degraded', 'meter-2:degraded', 'rain:down'], 100);
    expect(many.length).toBeLessThanOrEqual(100);
    expect(many).toMatch(/\| air-1:down \+3 more$/);
    expect(fitLine(head, ['x'], 40).length).toBeLessThanOrEqual(40);
  });
});
