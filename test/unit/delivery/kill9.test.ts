/**
 * kill -9 of the gateway process during a burst, then a restart on the same data
 * dir: every committed reading still arrives (no gap in seq: the WAL is intact, so
 * the database is trusted and the seqs the ledger had reserved are used), and seq
 * carries on from where it was, never reused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { ChildGateway } from '../../helpers/child-gateway.js';
import { SeqCollector } from '../../helpers/seq-collector.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { SqliteBuffer } from '../../../src/buffer/sqlite-buffer.js';
import { systemClock } from '../../../src/core/clock.js';

const bufferOpts = {
  maxBytes: 1 << 30,
  maxAgeMs: 86_400_000,
  onFull: 'drop_oldest' as const,
  synchronous: 'full' as const,
  maxReadingsPerRow: 100,
  clock: systemClock,
};

describe('kill -9 during a burst', () => {
  let broker: EmbeddedBroker | undefined;
  let child: ChildGateway | undefined;
  afterEach(async () => {
    await child?.kill('SIGKILL');
    await broker?.stop();
  });

  it('loses nothing that was committed and never reuses a seq', async () => {
    broker = new EmbeddedBroker();
    await broker.start();
    const dir = tempDir();
    const seen = new SeqCollector('citygate/kill-gw');
    broker.onPublish((m) => seen.add(m.topic, m.payload));
    child = new ChildGateway(dir, {
      gateway: { id: 'kill-gw', data_dir: dir },
      uplink: { url: broker.url, protocol_version: 4, reconnect: { min: '100ms', max: '300ms' }, batch: { max_readings: 100, max_delay: '20ms' } },
      buffer: { commit_interval: '20ms' },
      health: { http: false },
      devices: [{ id: 'burst', driver: 'sim', poll: '1ms', points: [{ name: 'p', wave: 'counter', replicas: 20 }] }],
    });

    child.start();
    await seen.waitFor(() => seen.unique.size > 5000, 20_000, 'a burst to be flowing');
    expect(await child.kill('SIGKILL')).toBe('SIGKILL');
    const beforeRestart = seen.max;
    const committed = new SqliteBuffer({ ...bufferOpts, dataDir: dir });
    const nextSeq = committed.stats().nextSeq;
    committed.close();
    expect(nextSeq).toBeGreaterThan(beforeRestart); // committed at least what was delivered

    child.start();
    await seen.waitFor(() => seen.max > beforeRestart + 5000, 20_000, 'the restarted gateway to publish');
    expect(await child.kill('SIGTERM')).toBe(0); // a graceful stop flushes and drains
    const last = seen.max;

    expect(seen.missing(1, last), child.output).toEqual([]);
    expect(seen.events.filter((e) => e.type === 'buffer_lost')).toEqual([]); // nothing to announce
    expect(seen.orderViolations()).toEqual([]);
    expect(seen.conflicts).toEqual([]); // no seq was ever given to two readings
    expect(last).toBeGreaterThan(nextSeq); // the restart carried on after the last committed seq
  });
});
