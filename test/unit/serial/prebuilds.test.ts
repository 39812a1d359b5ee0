/**
 * docs/field-notes.md#serialport-prebuilds: serialport 13 carries its native binding
 * prebuilt for the gateways we target, inside the package, so installing on a Pi needs no
 * compiler and fetches nothing from outside the package registry.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
// the binding package is a dependency of serialport's, not ours: resolve it from there
const serialportDir = dirname(require.resolve('serialport/package.json'));
const fromSerialport = createRequire(join(serialportDir, 'package.json'));
const bindingsDir = dirname(fromSerialport.resolve('@serialport/bindings-cpp/package.json'));

describe('serialport prebuilds', () => {
  it.each([
    ['linux-arm64', /armv8\.glibc\.node$/], // Pi 3/4/5 and Zero 2 W on 64-bit Raspberry Pi OS
    ['linux-arm', /armv7\.glibc\.node$/], // 32-bit Raspberry Pi OS
    ['linux-x64', /glibc\.node$/], // industrial x86 gateways, CI
  ])('%s is in the package', (dir, file) => {
    const path = join(bindingsDir, 'prebuilds', dir);
    expect(existsSync(path)).toBe(true);
    expect(readdirSync(path).some((f) => file.test(f))).toBe(true);
  });
});
