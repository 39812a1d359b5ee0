/**
 * The boot partition of the machine test's guest: a FAT image made and read without
 * mounting (mkfs.vfat, then mtools), labelled `bootfs` as on Raspberry Pi OS so the
 * guest's fstab mounts it at /boot/firmware. It holds cmdline.txt, which the harness
 * reads before every power-on, as a Pi's firmware does: what firstboot.sh takes out
 * of it is gone on the next boot.
 *
 * Read it only while the guest is off (the guest's page cache is not this file).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { requireTool } from '../helpers/tools.js';

const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

function mtool(tool: string, args: string[]): string {
  const r = spawnSync(requireTool(tool), args, { encoding: 'utf8', env: MTOOLS_ENV, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export class BootFs {
  constructor(readonly file: string) {}

  /** A fresh FAT32 image of `mb` MiB with an empty citygate/ folder and cmdline.txt. */
  static create(file: string, cmdline: string, mb = 256): BootFs {
    execFileSync(requireTool('mkfs.vfat'), ['-F', '32', '-n', 'bootfs', '-C', file, String(mb * 1024)], { stdio: 'ignore', timeout: 60_000 });
    const fs = new BootFs(file);
    mtool('mmd', ['-i', file, '::citygate']);
    fs.write('cmdline.txt', `${cmdline}\n`);
    return fs;
  }

  /** Makes a folder (e.g. citygate/keys). */
  mkdir(dest: string): void {
    mtool('mmd', ['-i', this.file, `::${dest}`]);
  }

  /** Copies a host file to `dest` (a path under the partition's root, e.g. citygate/env). */
  put(hostFile: string, dest: string): void {
    mtool('mcopy', ['-o', '-i', this.file, hostFile, `::${dest}`]);
  }

  /** Writes `text` to `dest` on the partition. */
  write(dest: string, text: string): void {
    const r = spawnSync(requireTool('mcopy'), ['-o', '-i', this.file, '-', `::${dest}`], { input: text, env: MTOOLS_ENV, timeout: 60_000, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mcopy to ${dest} failed: ${r.stderr}`);
  }

  read(path: string): string {
    return mtool('mtype', ['-i', this.file, `::${path}`]);
  }

  /** Names in a folder of the partition (long names). */
  list(dir: string): string[] {
    return mtool('mdir', ['-i', this.file, '-b', `::${dir}`])
      .split('\n')
      .map((l) => l.trim().replace(/^::\/?/, '').replace(new RegExp(`^${dir}/`), ''))
      .filter((l) => l.length > 0)
      .sort();
  }

  /** The kernel command line as the boot partition has it now. */
  cmdline(): string {
    return this.read('cmdline.txt').trim();
  }
}
