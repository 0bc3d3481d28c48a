// The k8s-file lines are the ones conmon 2.1.6 writes (src/ctr_logging.c, write_k8s_log); the
// --since/--until cases and messages are what Docker's CLI 28.2.2 sent or printed for them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGantryError } from '../core/errors.js';
import { formatLogTimestamp, parseLogLine, parseTimeArg, readLogs, type LogEntry, type ReadLogsOptions } from './log-file.js';

const BASE = 1_704_164_645_000_000_000n; // 2024-01-02T03:04:05Z

/** A conmon line at BASE + `ms` milliseconds, written with a +01:00 offset as conmon would in that zone. */
function line(ms: number, stream: 'stdout' | 'stderr', tag: 'F' | 'P', content: string): string {
  const ns = BASE + BigInt(ms) * 1_000_000n + 3600n * 1_000_000_000n;
  const iso = formatLogTimestamp(ns).replace('Z', '+01:00');
  return `${iso} ${stream} ${tag} ${content}${tag === 'P' ? '\n' : ''}`;
}
const full = (ms: number, content: string, stream: 'stdout' | 'stderr' = 'stdout'): string =>
  line(ms, stream, 'F', content + '\n');

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-logs-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function collect(path: string, opts: ReadLogsOptions = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  await readLogs(path, opts, (e) => {
    out.push(e);
  });
  return out;
}
const texts = (entries: LogEntry[]): string[] => entries.map((e) => `${e.stream}:${e.data.toString()}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it holds, failing after `ms`. */
async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  for (const start = Date.now(); !cond(); await sleep(20)) {
    if (Date.now() - start > ms) throw new Error('timed out waiting');
  }
}

describe('parseLogLine', () => {
  it('reads a full line, keeping its newline, and converts the offset to UTC', () => {
    const e = parseLogLine('2024-01-02T04:04:05.123456789+01:00 stdout F hello world\n');
    assert.ok(e);
    assert.equal(e.stream, 'stdout');
    assert.equal(e.partial, false);
    assert.equal(e.data.toString(), 'hello world\n');
    assert.equal(e.timeNs, BASE + 123_456_789n);
    assert.equal(e.time.toISOString(), '2024-01-02T03:04:05.123Z');
    assert.equal(formatLogTimestamp(e.timeNs), '2024-01-02T03:04:05.123456789Z');
  });

  it('reads a partial line without the newline conmon added', () => {
    const e = parseLogLine(Buffer.from('2024-01-02T03:04:05.000000001Z stderr P  two  spaces\n'));
    assert.ok(e);
    assert.equal(e.stream, 'stderr');
    assert.equal(e.partial, true);
    assert.equal(e.data.toString(), ' two  spaces');
    assert.equal(e.timeNs, BASE + 1n);
  });

  it('reads an empty line and a negative offset', () => {
    const e = parseLogLine('2024-01-01T22:04:05.500000000-05:00 stdout F ');
    assert.ok(e);
    assert.equal(e.data.toString(), '\n');
    assert.equal(e.timeNs, BASE + 500_000_000n);
  });

  it('rejects what is not a log line', () => {
    for (const bad of [
      '',
      'garbage',
      '2024-01-02T03:04:05Z stdout X hello',
      '2024-01-02T03:04:05Z stdin F hello',
      'yesterday stdout F hello',
      '2024-01-02T03:04:05Z stdout Fhello',
      '2024-01-02T03:04:05Z stdout',
    ]) {
      assert.equal(parseLogLine(bad), undefined, bad);
    }
  });
});

describe('formatLogTimestamp', () => {
  it('prints nine fractional digits in UTC, as RFC3339NanoFixed', () => {
    assert.equal(formatLogTimestamp(BASE), '2024-01-02T03:04:05.000000000Z');
    assert.equal(formatLogTimestamp(0n), '1970-01-01T00:00:00.000000000Z');
    assert.equal(formatLogTimestamp(-1n), '1969-12-31T23:59:59.999999999Z');
  });
});

describe('parseTimeArg', () => {
  const now = new Date(1_796_321_664_250); // 0.25 s past a whole second
  const sec = (s: string): bigint => {
    const [a = '', b = ''] = s.split('.');
    return BigInt(a) * 1_000_000_000n + BigInt(b.padEnd(9, '0'));
  };

  it('reads the forms Docker accepts, to the value Docker sends', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'UTC';
    try {
      const cases: [string, string][] = [
        ['10m', '1796321064'],
        ['1.5h', '1796316264'],
        ['-5m', '1796321964'],
        ['.5h', '1796319864'],
        ['5.h', '1796303664'],
        ['300ms', '1796321663'],
        ['2024-01-02T03:04:05Z', '1704164645'],
        ['2024-01-02T03:04:05.123456789+01:00', '1704161045.123456789'],
        ['2024-01-02T03:04:05.1234567891Z', '1704164645.123456789'],
        ['2024-01-02T03:04:05', '1704164645'],
        ['2024-01-02T03:04', '1704164640'],
        ['2024-01-02T03', '1704164400'],
        ['2024-01-02', '1704153600'],
        ['2024-01-02Z', '1704153600'],
        ['1700000000', '1700000000'],
        ['1700000000.5', '1700000000.5'],
        ['1700000000.123456789', '1700000000.123456789'],
        ['1.5', '1.5'],
        ['+5', '5'],
        ['0', '0'],
      ];
      for (const [input, expected] of cases) assert.equal(parseTimeArg(input, now), sec(expected), input);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('reads a value without a zone in the zone offset `now` has', () => {
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Kolkata'; // +05:30 all year
    try {
      assert.equal(parseTimeArg('2024-01-02T08:34:05', now), sec('1704164645'));
      assert.equal(parseTimeArg('2024-01-02T08:34:05.25', now), sec('1704164645.25'));
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it("fails with Docker's messages", () => {
    const cases: [string, string][] = [
      ['foo', 'failed to parse value as time or duration: "foo"'],
      ['1e3', 'failed to parse value as time or duration: "1e3"'],
      ['12:30', 'failed to parse value as time or duration: "12:30"'],
      ['', 'failed to parse value as time or duration: ""'],
      ['2024-13-01', 'parsing time "2024-13-01": month out of range'],
      ['2024-01-02T25:00', 'parsing time "2024-01-02T25:00": hour out of range'],
      ['2024-02-30', 'parsing time "2024-02-30": day out of range'],
      ['2024-01-02Tfoo', 'parsing time "2024-01-02Tfoo" as "2006-01-02T15": cannot parse "foo" as "15"'],
      [
        '2024-01-02T03:04:05z',
        'parsing time "2024-01-02T03:04:05z" as "2006-01-02T15:04:05Z07:00": cannot parse "z" as "Z07:00"',
      ],
      ['2024-1-2', 'parsing time "2024-1-2" as "2006-01-02": cannot parse "1-2" as "01"'],
      ['2024-01-02 03:04', 'parsing time "2024-01-02 03:04": extra text: " 03:04"'],
      [
        '2024-01-02T03:04:05+0100',
        'parsing time "2024-01-02T03:04:05+0100" as "2006-01-02T15:04Z07:00": cannot parse ":05+0100" as "Z07:00"',
      ],
      [
        '2024-01-02T03:04:05.Z',
        'parsing time "2024-01-02T03:04:05.Z" as "2006-01-02T15:04:05.999999999Z07:00": cannot parse ".Z" as "Z07:00"',
      ],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => parseTimeArg(input, now),
        (err: unknown) =>
          isGantryError(err, 'INVALID_ARGUMENT') && err.message === `invalid value for "since": ${message}`,
        input,
      );
    }
    assert.throws(() => parseTimeArg('foo', now, 'until'), /^GantryError: invalid value for "until": /);
  });
});

describe('readLogs', () => {
  it('reads nothing from a log that does not exist yet', async () => {
    await withDir(async (dir) => {
      assert.deepEqual(await collect(join(dir, 'ctr.log')), []);
    });
  });

  it("joins each stream's partial fragments up to its full line", async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'ctr.log');
      await writeFile(
        path,
        [
          full(0, 'one'),
          line(1, 'stdout', 'P', 'tw'),
          full(2, 'err', 'stderr'),
          line(3, 'stdout', 'P', 'o'),
          full(4, ' 2'),
          line(5, 'stderr', 'P', 'no newline'),
        ].join(''),
      );
      const got = await collect(path);
      assert.deepEqual(texts(got), ['stdout:one\n', 'stderr:err\n', 'stdout:two 2\n', 'stderr:no newline']);
      assert.equal(got[2]?.timeNs, BASE + 4_000_000n, 'a joined line has the time of its last fragment');
      assert.equal(got[3]?.partial, true);
    });
  });

  it('applies since (inclusive) and stops at the first line after until', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'ctr.log');
      await writeFile(path, [0, 1, 2, 3, 4, 2].map((i) => full(i * 1000, `l${i}`)).join(''));
      const at = (s: number): bigint => BASE + BigInt(s) * 1_000_000_000n;
      assert.deepEqual(texts(await collect(path, { since: at(1), until: at(3) })), [
        'stdout:l1\n',
        'stdout:l2\n',
        'stdout:l3\n',
      ]);
      assert.deepEqual(texts(await collect(path, { since: at(3) })), ['stdout:l3\n', 'stdout:l4\n', 'stdout:l2\n']);
      assert.equal((await collect(path, { until: 0n })).length, 6, 'until 0 is no limit');
      assert.deepEqual(texts(await collect(path, { tail: 2, since: at(3) })), ['stdout:l4\n', 'stdout:l2\n']);
    });
  });

  it('tails whole lines of a big log exactly as a full read would end', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'ctr.log');
      // Random fragments of both streams, big enough for several backward chunks.
      let seed = 42;
      const rand = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const parts: string[] = [];
      for (let i = 0; i < 6000; i++) {
        const stream = rand(4) === 0 ? 'stderr' : 'stdout';
        const content = `${i}-${'x'.repeat(rand(120))}`;
        parts.push(rand(3) === 0 ? line(i, stream, 'P', content) : full(i, content, stream));
      }
      parts.push(line(6000, 'stdout', 'P', 'trailing'));
      await writeFile(path, parts.join(''));
      const all = texts(await collect(path));
      for (const n of [0, 1, 2, 3, 10, 100, 1000, 5000, all.length, all.length + 10]) {
        assert.deepEqual(texts(await collect(path, { tail: n })), n === 0 ? [] : all.slice(-n), `tail ${n}`);
      }
    });
  });

  it('ignores a torn last line and lines that do not parse', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'ctr.log');
      await writeFile(path, full(0, 'a') + 'junk\n' + full(1, 'b') + full(2, 'c').slice(0, 20));
      assert.deepEqual(texts(await collect(path)), ['stdout:a\n', 'stdout:b\n']);
      assert.deepEqual(texts(await collect(path, { tail: 1 })), ['stdout:b\n']);
    });
  });

  it('follows a log as it is written, rotated and truncated, until the container stops', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'ctr.log');
      let running = true;
      const got: string[] = [];
      const done = readLogs(path, { follow: true, tail: 1, isRunning: () => running }, (e) => {
        got.push(e.data.toString());
      });
      await sleep(150); // the file does not exist yet
      await writeFile(path, full(0, 'first') + line(1, 'stdout', 'P', 'hal'));
      await waitFor(() => got.length >= 1);
      await sleep(150);
      assert.deepEqual(got, ['first\n'], 'a partial line waits for its end');
      await appendFile(path, full(2, 'f') + full(3, 'second'));
      await waitFor(() => got.length >= 3);
      assert.deepEqual(got, ['first\n', 'half\n', 'second\n']);
      // conmon's --log-size-max: a new file renamed over the old one.
      await writeFile(path + '.tmp', full(4, 'rotated'));
      await rename(path + '.tmp', path);
      await waitFor(() => got.length >= 4);
      assert.deepEqual(got.slice(3), ['rotated\n']);
      // Truncated in place, then shorter content.
      await truncate(path, 0);
      await writeFile(path, full(5, 'new'));
      await waitFor(() => got.length >= 5);
      assert.deepEqual(got.slice(4), ['new\n']);
      await appendFile(path, full(6, 'last') + line(7, 'stderr', 'P', 'bye'));
      running = false;
      await done;
      assert.deepEqual(got.slice(5), ['last\n', 'bye']);
    });
  });

  it('follows from the last lines, completing a line that was half written', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'ctr.log');
      await writeFile(path, full(0, 'a') + full(1, 'b') + line(2, 'stdout', 'P', 'c') + full(3, 'err', 'stderr'));
      let running = true;
      const got: string[] = [];
      const done = readLogs(path, { follow: true, tail: 1, isRunning: () => running }, (e) => {
        got.push(e.data.toString());
      });
      await waitFor(() => got.length >= 1);
      await appendFile(path, full(4, 'd'));
      running = false;
      await done;
      assert.deepEqual(got, ['err\n', 'cd\n']);
    });
  });

  it('stops following when the signal aborts', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'ctr.log');
      await writeFile(path, full(0, 'a'));
      const ac = new AbortController();
      const got: string[] = [];
      const done = readLogs(path, { follow: true, signal: ac.signal }, (e) => {
        got.push(e.data.toString());
      });
      await sleep(150);
      ac.abort();
      await done;
      assert.deepEqual(got, ['a\n']);
    });
  });

  it('stops following at the first line after until', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'ctr.log');
      await writeFile(path, full(0, 'a'));
      const got: string[] = [];
      const done = readLogs(path, { follow: true, until: BASE + 500_000_000n }, (e) => {
        got.push(e.data.toString());
      });
      await sleep(150);
      await appendFile(path, full(1000, 'late') + full(1001, 'later'));
      await done;
      assert.deepEqual(got, ['a\n']);
    });
  });
});
