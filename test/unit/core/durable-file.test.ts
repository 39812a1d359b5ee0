/**
 * Every small file citygate replaces, under every power cut the crash-state model
 * allows (test/helpers/crash-disk.ts): the config written by `config`, its
 * `.last-good`, the update hand-over files and the pid file. After any crash the file
 * is the old one or the new one, whole; once the writer returned, the new one.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CrashDisk, crashStates, imageOf, type CrashState } from '../../helpers/crash-disk.js';
import { removeFileDurably, writeFileAtomic } from '../../../src/core/durable-file.js';
import { lastGoodPath, replaceConfig } from '../../../src/control/config-file.js';
import { requestFile, takeRequest, writeOutcome, writeRequest, takeOutcome } from '../../../src/release/request.js';
import { pidFile, writePid } from '../../../src/buffer/pidfile.js';
import { tempDir } from '../../helpers/gateway-config.js';

const text = (s: CrashState, path: string): string | undefined => {
  const ino = s.image.names.get(path);
  return ino === undefined ? undefined : s.image.inodes.get(ino)!.toString('utf8');
};

/** After each crash `path` holds one of `allowed` (undefined: absent); after the ack, `final`. */
function expectWhole(disk: CrashDisk, path: string, allowed: (string | undefined)[], final: string | undefined): number {
  const states = crashStates(disk);
  for (const s of states) {
    const got = text(s, path);
    expect(allowed, `${path}: ${s.how}: ${JSON.stringify(got?.slice(0, 60))}`).toContain(got);
    if (s.acked.length) expect(got, `${path} after the ack: ${s.how}`).toBe(final);
  }
  return states.length;
}

describe('writeFileAtomic under power cuts', () => {
  const OLD = `gateway: { id: old }\n${'# padding\n'.repeat(80)}`;
  const NEW = `gateway: { id: new }\n${'# more padding\n'.repeat(90)}`;

  it('replacing a file: the old or the new one, never a mix, never empty; the new one once it returned', () => {
    const disk = new CrashDisk(imageOf({ '/etc/citygate/gateway.yaml': OLD }));
    writeFileAtomic('/etc/citygate/gateway.yaml', NEW, { ops: disk });
    disk.mark('written');
    expect(expectWhole(disk, '/etc/citygate/gateway.yaml', [OLD, NEW], NEW)).toBeGreaterThan(5);
  });

  it('a new file: absent or whole', () => {
    const disk = new CrashDisk();
    writeFileAtomic('/d/f', NEW, { ops: disk });
    disk.mark('written');
    expectWhole(disk, '/d/f', [undefined, NEW], NEW);
  });

  it('the model catches the patterns it replaced: rename without fsync, and write in place', () => {
    // request.ts before: writeFileSync(tmp) + renameSync, no fsync: a power cut can leave the new name on an empty file.
    const noSync = new CrashDisk(imageOf({ '/d/request.json': OLD }));
    const fd = noSync.openTrunc('/d/request.json.tmp');
    noSync.pwrite(fd, Buffer.from(NEW), 0);
    noSync.close(fd);
    noSync.rename('/d/request.json.tmp', '/d/request.json');
    expect(crashStates(noSync).some((s) => text(s, '/d/request.json') === '')).toBe(true);
    // pidfile.ts before: writeFileSync in place: a torn or empty pid.
    const inPlace = new CrashDisk(imageOf({ '/d/citygate.pid': '123456\n' }));
    inPlace.pwrite(inPlace.openTrunc('/d/citygate.pid'), Buffer.from('99\n'), 0);
    expect(crashStates(inPlace).map((s) => text(s, '/d/citygate.pid'))).toContain('');
  });

  it('a durable removal stays removed once it returned', () => {
    const disk = new CrashDisk(imageOf({ '/d/request.json': OLD }));
    expect(removeFileDurably('/d/request.json', disk)).toBe(true);
    disk.mark('removed');
    expectWhole(disk, '/d/request.json', [OLD, undefined], undefined);
    expect(removeFileDurably('/d/request.json', disk)).toBe(false);
  });
});

describe('the files citygate replaces, under power cuts', () => {
  it('config (remote `config` command): gateway.yaml and .last-good are each old or new, whole', () => {
    const file = '/etc/citygate/gateway.yaml';
    const v1 = 'gateway: { id: a }\n'.repeat(40);
    const v0 = 'gateway: { id: z }\n'.repeat(30);
    const v2 = 'gateway: { id: b }\n'.repeat(50);
    const disk = new CrashDisk(imageOf({ [file]: v1, [lastGoodPath(file)]: v0 }));
    replaceConfig(file, v2, v1, disk);
    disk.mark('applied');
    expectWhole(disk, file, [v1, v2], v2);
    expectWhole(disk, lastGoodPath(file), [v0, v1], v1);
    // Never a state where the running config is new but the fallback is not yet the previous one.
    for (const s of crashStates(disk)) if (text(s, file) === v2) expect(text(s, lastGoodPath(file)), s.how).toBe(v1);
  });

  it('update request.json: whole or absent; taken once, it does not come back; result.json likewise', () => {
    const req = { bundle: '/var/lib/citygate/updates/citygate-1.2.3-linux-arm64.tar.gz', sha256: 'a'.repeat(64), request_id: 'r1', requested_at: 1 };
    const disk = new CrashDisk();
    writeRequest('/data', req, disk);
    disk.mark('requested');
    const whole = `${JSON.stringify(req, null, 2)}\n`;
    expectWhole(disk, requestFile('/data'), [undefined, whole], whole);
    const taking = new CrashDisk(imageOf({ [requestFile('/data')]: whole }));
    expect(takeRequest(requestFile('/data'), taking)).toEqual(req);
    taking.mark('taken');
    expectWhole(taking, requestFile('/data'), [whole, undefined], undefined);
    const out = new CrashDisk();
    writeOutcome('/data', { outcome: 'updated', request_id: 'r1', bundle: req.bundle, detail: 'ok', finished_at: 2 }, out);
    out.mark('written');
    for (const s of crashStates(out)) {
      const t = text(s, '/data/updates/result.json');
      if (t !== undefined) expect(JSON.parse(t), s.how).toMatchObject({ outcome: 'updated' });
      if (s.acked.length) expect(t).toBeDefined();
    }
    expect(takeOutcome('/data', out)).toMatchObject({ outcome: 'updated' });
    expect(takeOutcome('/data', out)).toBeUndefined();
  });

  it('the pid file: a whole pid or the previous one', () => {
    const disk = new CrashDisk(imageOf({ '/data/citygate.pid': '4242\n' }));
    writePid('/data', disk);
    disk.mark('written');
    expectWhole(disk, pidFile('/data'), ['4242\n', `${process.pid}\n`], `${process.pid}\n`);
  });

  it('on a real disk: the helper leaves no temp file and the mode asked for', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'updates'));
    writeFileAtomic(join(dir, 'x.yaml'), 'a: 1\n', { mode: 0o600 });
    writeFileAtomic(join(dir, 'x.yaml'), 'a: 2\n', { mode: 0o600 });
    expect(readFileSync(join(dir, 'x.yaml'), 'utf8')).toBe('a: 2\n');
    expect(readdirSync(dir).sort()).toEqual(['updates', 'x.yaml']);
    writeRequest(dir, { bundle: 'b', sha256: 'c', request_id: null, requested_at: 0 });
    expect(takeRequest(requestFile(dir))).toMatchObject({ bundle: 'b' });
    expect(takeRequest(requestFile(dir))).toBeUndefined();
  });
});
