import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isGantryError } from '../core/errors.js';
import {
  ALL_CAPABILITIES, availableCapabilities, DEFAULT_CAPABILITIES, effectiveCapabilities, normalizeCapability,
} from './capabilities.js';

const ALL = ALL_CAPABILITIES;
const sorted = (caps: readonly string[]) => [...caps].sort();

describe('capabilities', () => {
  test('the tables: 41 capabilities in kernel order, Docker’s 14 defaults among them', () => {
    assert.equal(ALL.length, 41);
    assert.equal(ALL[0], 'CAP_CHOWN');
    assert.equal(ALL[21], 'CAP_SYS_ADMIN');
    assert.equal(ALL[40], 'CAP_CHECKPOINT_RESTORE');
    assert.equal(new Set(ALL).size, 41);
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
    for (const c of DEFAULT_CAPABILITIES) assert.ok(ALL.includes(c), c);
    // The bitmask /proc/<pid>/status shows as CapEff for a default Docker container.
    const mask = DEFAULT_CAPABILITIES.reduce((m, c) => m | (1n << BigInt(ALL.indexOf(c))), 0n);
    assert.equal(mask, 0xa80425fbn);
  });

  test('availableCapabilities: this process’s effective set, in kernel order', async () => {
    const { readFileSync } = await import('node:fs');
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
    const caps = availableCapabilities();
    assert.deepEqual(caps, ALL.filter((_, bit) => ((BigInt(`0x${hex}`) >> BigInt(bit)) & 1n) === 1n));
    assert.equal(availableCapabilities(), caps, 'cached');
  });

  test('normalizeCapability: any case, CAP_ optional, ALL', () => {
    assert.equal(normalizeCapability('net_admin'), 'CAP_NET_ADMIN');
    assert.equal(normalizeCapability('Cap_Net_Admin'), 'CAP_NET_ADMIN');
    assert.equal(normalizeCapability('SYS_ADMIN'), 'CAP_SYS_ADMIN');
    assert.equal(normalizeCapability('all'), 'ALL');
    assert.equal(normalizeCapability('ALL'), 'ALL');
  });

  test('no add or drop: Docker’s defaults', () => {
    assert.deepEqual(effectiveCapabilities([], [], false, ALL), [...DEFAULT_CAPABILITIES]);
  });

  test('drop some, add some, duplicates collapse', () => {
    const caps = effectiveCapabilities(['net_admin', 'CAP_CHOWN', 'sys_ptrace'], ['chown', 'CAP_NET_RAW'], false, ALL);
    assert.ok(!caps.includes('CAP_NET_RAW'));
    assert.ok(caps.includes('CAP_NET_ADMIN') && caps.includes('CAP_SYS_PTRACE'));
    assert.ok(caps.includes('CAP_CHOWN'), 'added back after the drop, as Docker does');
    assert.equal(new Set(caps).size, caps.length);
    assert.equal(caps.length, 14 - 1 + 2);
  });

  test('drop ALL then add: exactly the added ones', () => {
    assert.deepEqual(effectiveCapabilities(['chown', 'kill'], ['ALL'], false, ALL), ['CAP_CHOWN', 'CAP_KILL']);
    assert.deepEqual(effectiveCapabilities([], ['all'], false, ALL), []);
  });

  test('add ALL: everything the kernel has but the dropped', () => {
    const caps = effectiveCapabilities(['ALL'], ['sys_admin'], false, ALL);
    assert.equal(caps.length, 40);
    assert.ok(!caps.includes('CAP_SYS_ADMIN'));
    const older = ALL.slice(0, 38); // a kernel without CAP_PERFMON, CAP_BPF, CAP_CHECKPOINT_RESTORE
    assert.deepEqual(effectiveCapabilities(['all'], [], false, older), [...older]);
  });

  test('privileged: every capability the kernel supports, whatever add and drop say', () => {
    assert.deepEqual(sorted(effectiveCapabilities([], ['ALL'], true, ALL)), sorted(ALL));
    assert.deepEqual(effectiveCapabilities([], [], true, ALL.slice(0, 38)), ALL.slice(0, 38));
    assert.deepEqual(sorted(effectiveCapabilities([], [], true)), sorted(availableCapabilities()));
  });

  test('unknown names are INVALID_ARGUMENT, worded like Docker, CapAdd checked first', () => {
    assert.throws(
      () => effectiveCapabilities(['foo'], [], false, ALL),
      (err) => isGantryError(err, 'INVALID_ARGUMENT') && err.message === 'invalid CapAdd: unknown capability: "CAP_FOO"',
    );
    assert.throws(
      () => effectiveCapabilities([], ['cap_bar'], false, ALL),
      (err) => isGantryError(err, 'INVALID_ARGUMENT') && err.message === 'invalid CapDrop: unknown capability: "CAP_BAR"',
    );
    assert.throws(() => effectiveCapabilities(['foo'], ['bar'], false, ALL), /invalid CapAdd: .*"CAP_FOO"/);
    assert.throws(() => effectiveCapabilities(['foo'], [], true, ALL), /invalid CapAdd/, 'checked when privileged too');
  });

  test('a capability this kernel lacks is refused with Docker’s message', () => {
    assert.throws(
      () => effectiveCapabilities(['bpf'], [], false, ALL.slice(0, 38)),
      (err) =>
        isGantryError(err, 'INVALID_ARGUMENT') &&
        err.message ===
          'invalid CapAdd: capability not supported by your kernel or not available in the current environment: "CAP_BPF"',
    );
  });
});
