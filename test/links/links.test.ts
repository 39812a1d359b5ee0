/**
 * Slow and lossy links, tested for real (docs/links.md): the gateway in one network
 * namespace, Mosquitto (TLS) in another, a shaped link between them. Settings in
 * options.ts; the bounded CI run by default, LINKS_FULL=1 for the full one. The figures
 * are printed as a table at the end (and written to LINKS_REPORT as JSON).
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkOptions } from './options.js';
import { PROFILES, profile } from './profiles.js';
import { connectMs, LinkRig, runBacklog, runProfile, runRecovery, type BacklogResult, type ProfileResult, type RecoveryResult } from './runs.js';
import { formatReport } from './report.js';

const opts = linkOptions();
const results: { profiles: ProfileResult[]; recovery: RecoveryResult[]; backlog: BacklogResult[] } = { profiles: [], recovery: [], backlog: [] };
let rig: LinkRig | undefined;

function theRig(): LinkRig {
  if (!rig) throw new Error('the link lab was not set up (see the beforeAll error)');
  return rig;
}

describe('links: a real gateway behind a shaped link', () => {
  beforeAll(async () => {
    rig = await LinkRig.create();
  });

  afterAll(async () => {
    await rig?.close();
    const text = formatReport(results, rig?.lab.shaper ?? 'none');
    console.log(text);
    if (opts.report) writeFileSync(opts.report, JSON.stringify({ date: new Date().toISOString(), shaper: rig?.lab.shaper, options: opts, results }, null, 2));
  });

  it('the shaper adds the round trip of a profile, and nothing when unshaped', async () => {
    const r = theRig();
    await r.lab.shape({});
    const open = connectMs(r);
    const p = profile('2g');
    await r.lab.shape(p.up, p.down);
    const shaped = connectMs(r);
    const rtt = (p.up.delayMs ?? 0) + (p.down.delayMs ?? 0);
    expect(open).toBeLessThan(rtt / 2);
    expect(shaped).toBeGreaterThanOrEqual(rtt - 2 * (p.up.jitterMs ?? 0));
    expect(shaped).toBeLessThan(rtt + 500);
  });

  if (opts.parts.includes('profiles')) {
    const chosen = opts.profiles ? opts.profiles.map(profile) : PROFILES;
    for (const p of chosen) {
      it(`${p.label}: delivers, nothing lost`, async () => {
        const r = await runProfile(theRig(), p, opts.seconds);
        results.profiles.push(r);
        expect(r.gaps, 'seqs neither delivered nor announced lost').toBe(0);
        expect(r.delivered).toBeGreaterThan(0);
        expect(r.bytesPerReading).toBeGreaterThan(0);
      });
    }
  }

  if (opts.parts.includes('recovery')) {
    for (const outage of opts.outages) {
      it(`after a ${outage} s outage on ${opts.recoveryProfile}: delivering again within ${opts.recoveryBoundS} s, nothing lost`, async () => {
        const r = await runRecovery(theRig(), profile(opts.recoveryProfile), outage, opts.recoveryBoundS);
        results.recovery.push(r);
        expect(r.gaps, 'seqs neither delivered nor announced lost').toBe(0);
        expect(r.firstDeliveryS).toBeLessThanOrEqual(opts.recoveryBoundS);
      });
    }
  }

  if (opts.parts.includes('backlog')) {
    it(`2G with a ${opts.backlogSeconds} s backlog of a 100-point device: live readings while it drains, nothing lost`, async () => {
      const r = await runBacklog(theRig(), profile('2g'), opts.backlogSeconds, opts.backlogWindowS);
      results.backlog.push(r);
      expect(r.gaps, 'seqs neither delivered nor announced lost').toBe(0);
      expect(r.backlog).toBeGreaterThan(0);
      if (opts.liveP99BoundS !== undefined) expect(r.liveP99Ms / 1000).toBeLessThanOrEqual(opts.liveP99BoundS);
    });
  }
});
