// Cases come from docker/go-units (size_test.go, duration_test.go) and from what `docker images`
// / `docker ps` print.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isGantryError } from '../../core/errors.js';
import {
  bytesSize,
  formatGoTime,
  formatRFC3339Nano,
  humanDuration,
  humanSize,
  humanSizeWithPrecision,
  parseHumanSize,
  parseRAMInBytes,
  timeAgo,
} from './units.js';

const KB = 1000, MB = 1000 * KB, GB = 1000 * MB, TB = 1000 * GB, PB = 1000 * TB;
const KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB, TiB = 1024 * GiB, PiB = 1024 * TiB;
const SECOND = 1000, MINUTE = 60 * SECOND, HOUR = 60 * MINUTE, DAY = 24 * HOUR, WEEK = 7 * DAY, MONTH = 30 * DAY, YEAR = 365 * DAY;

describe('humanSize (docker images SIZE: HumanSizeWithPrecision(size, 3))', () => {
  const cases: [number, string][] = [
    [0, '0B'],
    [1, '1B'],
    [999, '999B'],
    [1000, '1kB'],
    [1500, '1.5kB'],
    [1024, '1.02kB'],
    [4_263_000, '4.26MB'],
    [23_400_000_000, '23.4GB'],
    [1_125_000, '1.12MB'], // exact ties round half to even, like Go's %.3g
    [999_999, '1e+03kB'], // Go's %g switches to an exponent once rounding reaches 1000
    [72_900_000, '72.9MB'],
  ];
  for (const [bytes, expected] of cases) it(`${bytes} → ${expected}`, () => assert.equal(humanSize(bytes), expected));
});

describe('humanSizeWithPrecision(size, 4) (go-units HumanSize)', () => {
  const cases: [number, string][] = [
    [1000, '1kB'],
    [1024, '1.024kB'],
    [1000000, '1MB'],
    [1048576, '1.049MB'],
    [2 * MB, '2MB'],
    [3.42 * GB, '3.42GB'],
    [5.372 * TB, '5.372TB'],
    [2.22 * PB, '2.22PB'],
    [10000000000000 * PB, '1e+04YB'],
  ];
  for (const [bytes, expected] of cases) it(`${bytes} → ${expected}`, () => assert.equal(humanSizeWithPrecision(bytes, 4), expected));
});

describe('bytesSize (go-units BytesSize)', () => {
  const cases: [number, string][] = [
    [1024, '1KiB'],
    [1024 * 1024, '1MiB'],
    [1048576, '1MiB'],
    [2 * MiB, '2MiB'],
    [3.42 * GiB, '3.42GiB'],
    [5.372 * TiB, '5.372TiB'],
    [2.22 * PiB, '2.22PiB'],
    [KiB * KiB * KiB * KiB * KiB * PiB, '1.049e+06YiB'],
  ];
  for (const [bytes, expected] of cases) it(`${bytes} → ${expected}`, () => assert.equal(bytesSize(bytes), expected));
});

describe('humanDuration (go-units HumanDuration)', () => {
  const cases: [number, string][] = [
    [450, 'Less than a second'],
    [-5 * SECOND, 'Less than a second'],
    [1 * SECOND, '1 second'],
    [45 * SECOND, '45 seconds'],
    [59 * SECOND, '59 seconds'],
    [60 * SECOND, 'About a minute'],
    [3 * MINUTE, '3 minutes'],
    [35 * MINUTE + 40 * SECOND, '35 minutes'],
    [59 * MINUTE, '59 minutes'],
    [1 * HOUR, 'About an hour'],
    [1 * HOUR + 29 * MINUTE, 'About an hour'],
    [1 * HOUR + 31 * MINUTE, '2 hours'],
    [3 * HOUR + 29 * MINUTE, '3 hours'],
    [3 * HOUR + 31 * MINUTE, '4 hours'],
    [24 * HOUR, '24 hours'],
    [1 * DAY + 12 * HOUR, '36 hours'],
    [2 * DAY, '2 days'],
    [7 * DAY, '7 days'],
    [13 * DAY + 5 * HOUR, '13 days'],
    [2 * WEEK, '2 weeks'],
    [2 * WEEK + 4 * DAY, '2 weeks'],
    [4 * WEEK + 3 * DAY, '4 weeks'],
    [1 * MONTH, '4 weeks'],
    [1 * MONTH + 2 * WEEK, '6 weeks'],
    [2 * MONTH, '2 months'],
    [3 * MONTH + 1 * WEEK, '3 months'],
    [13 * MONTH, '13 months'],
    [24 * MONTH, '24 months'],
    [24 * MONTH + 2 * WEEK, '2 years'],
    [3 * YEAR + 2 * MONTH, '3 years'],
  ];
  for (const [ms, expected] of cases) it(`${ms}ms → ${expected}`, () => assert.equal(humanDuration(ms), expected));

  it('timeAgo is the CREATED column', () => {
    const now = new Date(Date.UTC(2024, 5, 1, 12, 0, 0));
    assert.equal(timeAgo(new Date(now.getTime() - 24 * HOUR), now), '24 hours ago');
    assert.equal(timeAgo(new Date(now.getTime() - 3 * WEEK), now), '3 weeks ago');
    assert.equal(timeAgo(now, now), 'Less than a second ago');
  });
});

describe('parseHumanSize (go-units FromHumanSize)', () => {
  const ok: [string, number][] = [
    ['0', 0], ['0b', 0], ['0B', 0], ['0 B', 0], ['32', 32], ['32b', 32], ['32B', 32],
    ['32k', 32 * KB], ['32K', 32 * KB], ['32kb', 32 * KB], ['32Kb', 32 * KB], ['32Mb', 32 * MB],
    ['32Gb', 32 * GB], ['32Tb', 32 * TB], ['32Pb', 32 * PB], ['32.5kB', 32.5 * KB], ['32.5 kB', 32.5 * KB],
    ['32.5 B', 32], ['0.3 K', 300], ['.3kB', 300], ['0.', 0], ['0. ', 0], ['0.b', 0], ['-0', 0], ['-0 B', 0],
    ['32.', 32], ['32.b', 32], ['32. B', 32], ['0 ', 0],
  ];
  for (const [input, expected] of ok) it(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(parseHumanSize(input), expected));

  const bad = [' 0', ' 0b', '0b ', '0 B ', '', 'hello', '.', '. ', ' ', '-32', '-32b', '-32 B', '32b.', '32 b.', '32 bb', '32 b b', '32  b', ' 32 ', '32m b', '32bm'];
  for (const input of bad) {
    it(`${JSON.stringify(input)} is rejected`, () => assert.throws(() => parseHumanSize(input), (e: unknown) => isGantryError(e, 'INVALID_ARGUMENT')));
  }

  it('uses go-units messages', () => {
    assert.throws(() => parseHumanSize('hello'), { message: "invalid size: 'hello'" });
    assert.throws(() => parseHumanSize('-32'), { message: "invalid size: '-32'" });
    assert.throws(() => parseHumanSize('32bm'), { message: "invalid suffix: 'bm'" });
    assert.throws(() => parseHumanSize(' 32 '), { message: 'strconv.ParseFloat: parsing "": invalid syntax' });
  });
});

describe('parseRAMInBytes (go-units RAMInBytes)', () => {
  const ok: [string, number][] = [
    ['32', 32], ['32b', 32], ['32B', 32], ['32k', 32 * KiB], ['32K', 32 * KiB], ['32kb', 32 * KiB], ['32Kb', 32 * KiB],
    ['32Kib', 32 * KiB], ['32KIB', 32 * KiB], ['32Mb', 32 * MiB], ['32Gb', 32 * GiB], ['32Tb', 32 * TiB], ['32Pb', 32 * PiB],
    ['32PB', 32 * PiB], ['32P', 32 * PiB], ['32.3', 32], ['32.3 mb', Math.trunc(32.3 * MiB)], ['0.3MB', Math.trunc(0.3 * MiB)],
    ['512m', 536870912],
  ];
  for (const [input, expected] of ok) it(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(parseRAMInBytes(input), expected));
  for (const input of ['', 'hello', '-32', ' 32 ', '32m b', '32bm']) {
    it(`${JSON.stringify(input)} is rejected`, () => assert.throws(() => parseRAMInBytes(input), (e: unknown) => isGantryError(e, 'INVALID_ARGUMENT')));
  }
});

describe('Go time formats', () => {
  it('formatGoTime is time.Time.String() in UTC', () => {
    assert.equal(formatGoTime(new Date(Date.UTC(2024, 0, 2, 15, 4, 5))), '2024-01-02 15:04:05 +0000 UTC');
    assert.equal(formatGoTime(new Date(Date.UTC(2024, 0, 2, 15, 4, 5, 120))), '2024-01-02 15:04:05.12 +0000 UTC');
    assert.equal(formatGoTime(new Date(0)), '1970-01-01 00:00:00 +0000 UTC');
  });
  it('formatRFC3339Nano is how encoding/json writes a time', () => {
    assert.equal(formatRFC3339Nano(new Date(Date.UTC(2024, 0, 2, 15, 4, 5))), '2024-01-02T15:04:05Z');
    assert.equal(formatRFC3339Nano(new Date(Date.UTC(2024, 0, 2, 15, 4, 5, 500))), '2024-01-02T15:04:05.5Z');
  });
});
