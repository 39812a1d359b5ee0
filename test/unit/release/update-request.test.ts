/**
 * `citygate update --request FILE`, what the root-run citygate-update.service runs: the
 * request is written by the unprivileged gateway, so it is trusted for nothing. A
 * request naming a file outside the data directory's updates/ is refused and that file
 * left alone; an unsigned bundle there is refused in one line, recorded in result.json
 * (the gateway's update_result event), and the downloaded files are removed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { requestFile, updatesDir, writeRequest } from '../../../src/release/request.js';
import { tempDir } from '../../helpers/gateway-config.js';
import { testKey, tinyBundle, trustDir } from './sign-helpers.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

function setup() {
  const work = tempDir('cg-req-');
  const dataDir = join(work, 'data');
  mkdirSync(updatesDir(dataDir), { recursive: true });
  const config = join(work, 'gateway.yaml');
  writeFileSync(config, stringify({
    gateway: { id: 'req-gw', data_dir: dataDir },
    uplink: { url: 'mqtt://127.0.0.1:1' },
    health: { http: '127.0.0.1:1' },
    devices: [{ id: 's', driver: 'sim', poll: '1s', points: [{ name: 't', wave: 'counter' }] }],
  }));
  const keys = trustDir(join(work, 'keys'), [testKey()]);
  const run = () =>
    spawnSync(process.execPath, [join(REPO, 'bin/citygate.js'), 'update', '--config', config, '--request', requestFile(dataDir), '--prefix', join(work, 'opt'), '--keys', keys], { encoding: 'utf8', timeout: 60_000 });
  const result = () => JSON.parse(readFileSync(join(updatesDir(dataDir), 'result.json'), 'utf8')) as Record<string, unknown>;
  return { work, dataDir, run, result };
}

describe('citygate update --request', () => {
  it('refuses a request naming a file outside updates/, and leaves that file alone', () => {
    const s = setup();
    const victim = join(s.work, 'citygate-1.0.0-linux-x64.tar.gz');
    writeFileSync(victim, 'someone else\'s file');
    writeRequest(s.dataDir, { bundle: victim, sha256: '', request_id: 'r1', requested_at: 1 });
    const r = s.run();
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`citygate: update refused: the request names ${victim}, not a bundle in ${updatesDir(s.dataDir)}`);
    expect(existsSync(victim)).toBe(true);
    expect(s.result()).toMatchObject({ outcome: 'refused', request_id: 'r1' });
    expect(existsSync(requestFile(s.dataDir))).toBe(false);
  }, 60_000);

  it('refuses a request that is not JSON in one line, and takes it away', () => {
    const s = setup();
    writeFileSync(requestFile(s.dataDir), '{not json');
    const r = s.run();
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`citygate: update refused: ${requestFile(s.dataDir)} is not JSON`);
    expect(existsSync(requestFile(s.dataDir))).toBe(false);
  }, 60_000);

  it('refuses an unsigned bundle in one line, records it for update_result, removes the download', async () => {
    const s = setup();
    const tgz = await tinyBundle(updatesDir(s.dataDir), { version: '1.1.0' });
    writeRequest(s.dataDir, { bundle: tgz, sha256: '', request_id: 'r2', requested_at: 1 });
    const r = s.run();
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^citygate: update refused: citygate-1\.1\.0-linux-\w+\.tar\.gz is unsigned[^\n]*$/);
    expect(s.result()).toMatchObject({ outcome: 'refused', request_id: 'r2', detail: expect.stringMatching(/^update refused: .* is unsigned/) });
    expect(readdirSync(updatesDir(s.dataDir)).filter((f) => f.endsWith('.tar.gz'))).toEqual([]);
  }, 60_000);
});
