/**
 * A vitest reporter (next to the default one) that ends the run with what was not
 * run on this machine and why: every test skipped by test/helpers/needs.ts (its note
 * names the missing tool or privilege and the remedy) and every assertion left out
 * (a `skipped-assertion` annotation). Silent when nothing was skipped. It prints, it
 * does not judge: under CI those checks fail their tests instead of skipping.
 */
import { relative } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { NEED_PREFIX } from './needs.js';

interface Skip {
  where: string;
  reason: string;
}

export default class SkipReporter implements Reporter {
  private root = process.cwd();
  private log: (text: string) => void = (t) => process.stdout.write(`${t}\n`);

  onInit(vitest: Vitest): void {
    this.root = vitest.config.root;
    this.log = (t) => vitest.logger.log(t);
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const skips: Skip[] = [];
    for (const mod of modules) {
      const file = relative(this.root, mod.moduleId);
      for (const test of mod.children.allTests()) {
        const where = `${file} > ${test.fullName}`;
        const result = test.result();
        if (result.state === 'skipped' && result.note?.startsWith(NEED_PREFIX)) skips.push({ where, reason: result.note });
        for (const a of test.annotations()) if (a.type === 'skipped-assertion') skips.push({ where, reason: `assertion not made: ${a.message}` });
      }
    }
    if (skips.length === 0) return;
    const byReason = new Map<string, string[]>();
    for (const s of skips) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.where]);
    const lines = ['', `Not run on this machine (${skips.length}): each needs something beyond Node.`];
    for (const [reason, wheres] of byReason) {
      lines.push(`  ${reason}`);
      for (const w of wheres) lines.push(`    - ${w}`);
    }
    lines.push('Provide what is named and run again (CI installs everything and fails on any of these: see .ci/run).', '');
    this.log(lines.join('\n'));
  }
}
