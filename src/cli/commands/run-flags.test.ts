// Expected values and messages come from docker/cli (cli/command/container/opts.go parse(),
// opts/, pkg/kvfile) and the checks moby's daemon makes on the same create body.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isGantryError } from '../../core/errors.js';
import { EXIT_USAGE, exitCodeOf } from '../errors.js';
import {
  addCreateFlags,
  addRunOnlyFlags,
  type CreateFlagValues,
  parseDetachKeys,
  toCreateRequest,
} from './run-flags.js';

/** Parses `gantry run ARGV` with the real flag definitions. */
function parseRun(argv: string[]): { image: string; args: string[]; opts: CreateFlagValues } {
  let result: { image: string; args: string[]; opts: CreateFlagValues } | undefined;
  const cmd = new Command('run').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  addRunOnlyFlags(addCreateFlags(cmd));
  cmd
    .argument('<IMAGE>')
    .argument('[COMMAND...]')
    .action((image: string, args: string[], opts: CreateFlagValues) => {
      result = { image, args, opts };
    });
  cmd.parse(argv, { from: 'user' });
  assert.ok(result);
  return result;
}

function req(opts: CreateFlagValues, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return toCreateRequest('busybox', args, opts, env);
}

/** Asserts that the translation fails with exactly `message` (an INVALID_ARGUMENT usage error). */
function rejects(opts: CreateFlagValues, message: string | RegExp, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(
    () => req(opts, [], env),
    (err: unknown) => {
      assert.ok(isGantryError(err, 'INVALID_ARGUMENT'), `not an INVALID_ARGUMENT error: ${String(err)}`);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

describe('addCreateFlags / addRunOnlyFlags (commander)', () => {
  it('combines short flags and stops at the image', () => {
    const { image, args, opts } = parseRun(['-it', '--rm', 'busybox', 'ls', '-l', '--rm', '-e', 'X=1']);
    assert.equal(image, 'busybox');
    assert.deepEqual(args, ['ls', '-l', '--rm', '-e', 'X=1']);
    assert.equal(opts.interactive, true);
    assert.equal(opts.tty, true);
    assert.equal(opts.rm, true);
    assert.equal(opts.env, undefined);
  });

  it("has Docker's defaults", () => {
    const { opts } = parseRun(['busybox']);
    assert.equal(opts.restart, 'no');
    assert.equal(opts.pull, 'missing');
    assert.equal(opts.sigProxy, true);
    assert.equal(opts.rm, undefined);
    assert.equal(opts.init, undefined);
    assert.equal(opts.detach, undefined);
  });

  it('collects repeated flags and takes values of all forms', () => {
    const { opts } = parseRun([
      '-e', 'A=1', '--env=B=2', '-e=C=3', '-eD=4',
      '-p80:80', '-p', '81:81', '--publish=82:82',
      '-v', '/a:/b', '--volume', 'v:/c',
      '-l', 'x=y', '--mount', 'type=tmpfs,dst=/t',
      '-h', 'myhost', '-u', '1000:1000', '-w', '/work', '-c', '512', '-m', '64m',
      '--memory-swap', '-1', '--stop-timeout', '-1', '--cpus', '1.5',
      'busybox',
    ]);
    assert.deepEqual(opts.env, ['A=1', 'B=2', 'C=3', 'D=4']);
    assert.deepEqual(opts.publish, ['80:80', '81:81', '82:82']);
    assert.deepEqual(opts.volume, ['/a:/b', 'v:/c']);
    assert.deepEqual(opts.label, ['x=y']);
    assert.deepEqual(opts.mount, ['type=tmpfs,dst=/t']);
    assert.equal(opts.hostname, 'myhost');
    assert.equal(opts.user, '1000:1000');
    assert.equal(opts.workdir, '/work');
    assert.equal(opts.cpuShares, '512');
    assert.equal(opts.memory, '64m');
    assert.equal(opts.memorySwap, '-1');
    assert.equal(opts.stopTimeout, '-1');
    assert.equal(opts.cpus, '1.5');
  });

  it('a short flag that takes a value inside a group takes the next argument', () => {
    const { opts, image } = parseRun(['-itp', '8080:80', 'busybox']);
    assert.equal(image, 'busybox');
    assert.equal(opts.interactive, true);
    assert.equal(opts.tty, true);
    assert.deepEqual(opts.publish, ['8080:80']);
  });

  it('accepts --flag=bool for boolean flags', () => {
    const { opts } = parseRun(['--rm=false', '--sig-proxy=false', '-i=true', '--tty=0', '--init=1', '-d=false', 'busybox']);
    assert.equal(opts.rm, false);
    assert.equal(opts.sigProxy, false);
    assert.equal(opts.interactive, true);
    assert.equal(opts.tty, false);
    assert.equal(opts.init, true);
    assert.equal(opts.detach, false);
    assert.equal(parseRun(['--rm', '--rm=false', 'busybox']).opts.rm, false);
    assert.equal(parseRun(['--rm=false', '--rm', 'busybox']).opts.rm, true);
  });

  it('rejects a bad boolean value the way pflag does', () => {
    assert.throws(
      () => parseRun(['--rm=maybe', 'busybox']),
      (err: unknown) =>
        isGantryError(err, 'INVALID_ARGUMENT') &&
        err.message === 'invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
    );
    assert.throws(
      () => parseRun(['-t=yes', 'busybox']),
      (err: unknown) => isGantryError(err) && err.message.startsWith('invalid argument "yes" for "-t, --tty" flag'),
    );
  });

  it('--net is a hidden synonym of --network, kept in order', () => {
    const { opts } = parseRun(['--net', 'host', '--network', 'other', 'busybox']);
    assert.deepEqual(opts.network, ['host', 'other']);
  });

  it('-h is --hostname, help is --help only', () => {
    assert.equal(parseRun(['-h', 'box', 'busybox']).opts.hostname, 'box');
    const wide = (name: string) => new Command(name).configureHelp({ helpWidth: 300 });
    const help = addCreateFlags(wide('create')).helpInformation();
    assert.match(help, /--help\s+Print usage/);
    assert.doesNotMatch(help, /-h, --help/);
    assert.match(help, /-h, --hostname <string>\s+Container host name/);
    assert.match(help, /-a, --attach <list>\s+Attach to STDIN, STDOUT or STDERR/);
    assert.match(help, /--pull <string>\s+Pull image before creating \("always", "missing", "never"\)/);
    assert.match(help, /--restart <string>\s+Restart policy to apply when a container exits \(default: "no"\)/);
    assert.doesNotMatch(help, /--no-rm|--net </);
    assert.doesNotMatch(help, /-d, --detach/);
    const runHelp = addRunOnlyFlags(addCreateFlags(wide('run'))).helpInformation();
    assert.match(runHelp, /Pull image before running/);
    assert.match(runHelp, /-d, --detach\s+Run container in background and print container ID/);
    assert.match(runHelp, /--sig-proxy\s+Proxy received signals to the process \(default: true\)/);
  });

  it('unknown flags still fail in commander', () => {
    assert.throws(() => parseRun(['--bogus', 'busybox']), /unknown option '--bogus'/);
  });
});

describe('toCreateRequest: the request', () => {
  it('without flags is what docker/cli sends', () => {
    assert.deepEqual(req({ restart: 'no', pull: 'missing' }), {
      config: {
        Hostname: '',
        User: '',
        AttachStdin: false,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        OpenStdin: false,
        StdinOnce: false,
        Env: [],
        Cmd: null,
        Image: 'busybox',
        WorkingDir: '',
        Entrypoint: null,
        Labels: {},
      },
      hostConfig: {
        Binds: null,
        LogConfig: { Type: '', Config: {} },
        NetworkMode: 'default',
        PortBindings: {},
        RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
        AutoRemove: false,
        CapAdd: null,
        CapDrop: null,
        Dns: [],
        DnsOptions: [],
        DnsSearch: [],
        ExtraHosts: null,
        GroupAdd: null,
        Privileged: false,
        ReadonlyRootfs: false,
        SecurityOpt: null,
        ShmSize: 0,
        Memory: 0,
        MemoryReservation: 0,
        MemorySwap: 0,
        NanoCpus: 0,
        CpuShares: 0,
        CpuPeriod: 0,
        CpuQuota: 0,
        CpusetCpus: '',
        PidsLimit: null,
        Ulimits: null,
        OomKillDisable: false,
      },
    });
  });

  it('from parsed flags end to end', () => {
    const { image, args, opts } = parseRun([
      '--name', 'web', '-d', '--rm', '-e', 'A=1', '-p', '8080:80', '--entrypoint', '/bin/sh',
      '-v', '/srv:/srv:ro', '--init', 'nginx', '-c', 'echo hi',
    ]);
    const r = toCreateRequest(image, args, opts, {});
    assert.equal(r.name, 'web');
    assert.equal(r.config.Image, 'nginx');
    assert.deepEqual(r.config.Cmd, ['-c', 'echo hi']);
    assert.deepEqual(r.config.Entrypoint, ['/bin/sh']);
    assert.deepEqual(r.config.Env, ['A=1']);
    assert.equal(r.config.AttachStdout, false);
    assert.equal(r.config.AttachStderr, false);
    assert.deepEqual(r.config.ExposedPorts, { '80/tcp': {} });
    assert.deepEqual(r.hostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] });
    assert.deepEqual(r.hostConfig.Binds, ['/srv:/srv:ro']);
    assert.equal(r.hostConfig.AutoRemove, true);
    assert.equal(r.hostConfig.Init, true);
  });

  it('Cmd and Entrypoint', () => {
    assert.deepEqual(req({}, ['sh', '-c', 'true']).config.Cmd, ['sh', '-c', 'true']);
    assert.equal(req({}).config.Cmd, null);
    assert.deepEqual(req({ entrypoint: '/bin/echo' }).config.Entrypoint, ['/bin/echo']);
    assert.deepEqual(req({ entrypoint: '' }).config.Entrypoint, ['']);
    assert.equal(req({}).config.Entrypoint, null);
  });

  it('name', () => {
    assert.equal(req({ name: 'my_app.1-x' }).name, 'my_app.1-x');
    assert.equal('name' in req({ name: '' }), false);
    rejects({ name: 'a' }, 'Invalid container name (a), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    rejects({ name: 'bad name' }, 'Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
  });

  it('scalar flags', () => {
    const r = req({
      hostname: 'box', user: 'nobody', workdir: '/a/b/../c/', privileged: true, readOnly: true, rm: true,
      runtime: 'runc', stopSignal: 'SIGUSR1', stopTimeout: '30', oomKillDisable: true, init: false,
      groupAdd: ['audio', '1000'], dnsOption: ['ndots:2'], logDriver: 'json-file', logOpt: ['max-size=10m', 'flag'],
    });
    assert.equal(r.config.Hostname, 'box');
    assert.equal(r.config.User, 'nobody');
    assert.equal(r.config.WorkingDir, '/a/c');
    assert.equal(r.config.StopSignal, 'SIGUSR1');
    assert.equal(r.config.StopTimeout, 30);
    assert.equal(r.hostConfig.Privileged, true);
    assert.equal(r.hostConfig.ReadonlyRootfs, true);
    assert.equal(r.hostConfig.AutoRemove, true);
    assert.equal(r.hostConfig.Runtime, 'runc');
    assert.equal(r.hostConfig.OomKillDisable, true);
    assert.equal(r.hostConfig.Init, false);
    assert.deepEqual(r.hostConfig.GroupAdd, ['audio', '1000']);
    assert.deepEqual(r.hostConfig.DnsOptions, ['ndots:2']);
    assert.deepEqual(r.hostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m', flag: '' } });
  });

  it('working directory must be absolute', () => {
    rejects({ workdir: 'rel/dir' }, "the working directory 'rel/dir' is invalid, it needs to be an absolute path");
  });

  it('stop signal and stop timeout', () => {
    for (const s of ['TERM', 'sigkill', 'SIGRTMIN+3', '9', 'RTMAX-1']) assert.equal(req({ stopSignal: s }).config.StopSignal, s);
    rejects({ stopSignal: 'SIGFOO' }, 'invalid signal: SIGFOO');
    rejects({ stopSignal: '0' }, 'invalid signal: 0');
    assert.equal(req({ stopTimeout: '-1' }).config.StopTimeout, -1);
    assert.equal(req({ stopTimeout: '0x10' }).config.StopTimeout, 16);
    rejects({ stopTimeout: 'ten' }, 'invalid argument "ten" for "--stop-timeout" flag: strconv.ParseInt: parsing "ten": invalid syntax');
  });

  it('hostname longer than 64 bytes', () => {
    const long = 'a'.repeat(65);
    rejects({ hostname: long }, `hostname "${long}" is too long (maximum 64 bytes)`);
  });

  it('logging options with the none driver', () => {
    rejects({ logDriver: 'none', logOpt: ['a=b'] }, 'invalid logging opts for driver none');
  });

  it('--pull', () => {
    for (const p of ['always', 'missing', 'never']) assert.ok(req({ pull: p }));
    rejects({ pull: 'sometimes' }, `invalid pull option: 'sometimes': must be one of "always", "missing" or "never"`);
  });

  it('errors are usage errors: exit code 125', () => {
    try {
      req({ restart: 'bogus' });
      assert.fail('no error');
    } catch (err) {
      assert.equal(exitCodeOf(err), EXIT_USAGE);
    }
  });
});

describe('toCreateRequest: stdio', () => {
  it('-i and -t', () => {
    const c = req({ interactive: true, tty: true }).config;
    assert.equal(c.OpenStdin, true);
    assert.equal(c.AttachStdin, true);
    assert.equal(c.StdinOnce, true);
    assert.equal(c.Tty, true);
    assert.equal(c.AttachStdout, true);
    assert.equal(c.AttachStderr, true);
  });

  it('-a picks the streams', () => {
    const c = req({ attach: ['STDOUT'] }).config;
    assert.deepEqual([c.AttachStdin, c.AttachStdout, c.AttachStderr, c.OpenStdin], [false, true, false, false]);
    const s = req({ attach: ['stdin'] }).config;
    assert.deepEqual([s.AttachStdin, s.AttachStdout, s.AttachStderr, s.StdinOnce], [true, false, false, false]);
    rejects({ attach: ['stdweird'] }, 'invalid argument "stdweird" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR');
  });

  it('detached: nothing attached', () => {
    const c = req({ detach: true, interactive: true, tty: true }).config;
    assert.deepEqual([c.AttachStdin, c.AttachStdout, c.AttachStderr, c.StdinOnce], [false, false, false, false]);
    assert.equal(c.OpenStdin, true);
    rejects({ detach: true, attach: ['stdout'] }, 'conflicting options: cannot specify both --attach and --detach');
  });

  it('detach keys', () => {
    assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
    assert.deepEqual(parseDetachKeys('a,ctrl-@,ctrl-\\,ctrl-_,DEL'), [97, 0, 28, 31, 127]);
    assert.ok(req({ detachKeys: 'ctrl-x' }));
    rejects({ detachKeys: 'ctrl-p,bogus' }, "invalid detach keys (ctrl-p,bogus): Unknown character: 'bogus'");
  });
});

describe('toCreateRequest: environment and labels', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-run-flags-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };

  it('-e KEY=VAL, -e KEY from the host environment or dropped', () => {
    const r = req({ env: ['A=1', 'EMPTY=', 'FROM_HOST', 'UNSET', 'B=x=y'] }, [], { FROM_HOST: 'h' });
    assert.deepEqual(r.config.Env, ['A=1', 'EMPTY=', 'FROM_HOST=h', 'B=x=y']);
    rejects({ env: ['=x'] }, 'invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x');
  });

  it('--env-file: comments, blank lines, BOM, CRLF, lookups; file entries before -e', () => {
    const f = file(
      'env.list',
      '\uFEFF# comment\nA=1\r\n\n   B=with spaces  \nFROM_HOST\nUNSET\n\t# indented comment\nC="quoted"\nD=',
    );
    const r = req({ envFile: [f], env: ['A=override'] }, [], { FROM_HOST: 'h' });
    assert.deepEqual(r.config.Env, ['A=1', 'B=with spaces  ', 'FROM_HOST=h', 'C="quoted"', 'D=', 'A=override']);
  });

  it('--env-file errors', () => {
    const bad = file('bad.env', 'GOOD=1\nX Y=2\n');
    rejects({ envFile: [bad] }, `--env-file: invalid env file (${bad}): variable 'X Y' contains whitespaces`);
    const noName = file('noname.env', '=value\n');
    rejects({ envFile: [noName] }, `--env-file: invalid env file (${noName}): no variable name on line '=value'`);
    const utf = file('utf.env', Buffer.from([0x41, 0x3d, 0xff, 0x0a]));
    rejects({ envFile: [utf] }, `--env-file: invalid env file (${utf}): invalid utf8 bytes at line 1: [65 61 255]`);
    const missing = join(dir, 'missing.env');
    rejects({ envFile: [missing] }, `--env-file: open ${missing}: no such file or directory`);
    const sub = join(dir, 'subdir');
    mkdirSync(sub);
    rejects({ envFile: [sub] }, `--env-file: read ${sub}: is a directory`);
  });

  it('-l and --label-file', () => {
    const f = file('labels', '# labels\ncom.example.a=1\nbare\ncom.example.b=file\n');
    const r = req({ labelFile: [f], label: ['com.example.b=flag', 'flagonly', 'k=v=w'] }, [], { bare: 'ignored' });
    assert.deepEqual(r.config.Labels, { 'com.example.a': '1', 'com.example.b': 'flag', flagonly: '', k: 'v=w' });
    rejects({ label: ['=x'] }, `invalid argument "=x" for "-l, --label" flag: invalid label '=x': empty name`);
    rejects({ label: ['a b=c'] }, `invalid argument "a b=c" for "-l, --label" flag: label 'a b' contains whitespaces`);
    const bad = file('bad.labels', 'a b=c\n');
    rejects({ labelFile: [bad] }, `--label-file: invalid env file (${bad}): variable 'a b' contains whitespaces`);
    rejects({ labelFile: [join(dir, 'nope')] }, `--label-file: open ${join(dir, 'nope')}: no such file or directory`);
  });
});

describe('toCreateRequest: -v / --volume', () => {
  it('binds, named volumes and anonymous volumes', () => {
    const r = req({ volume: ['/host:/ctr', '/ro:/ro:ro', 'data:/data', 'data:/data', '/anon', '/z:/z:rw,Z,rshared', 'vol:/v:nocopy'] });
    assert.deepEqual(r.hostConfig.Binds, ['/host:/ctr', '/ro:/ro:ro', 'data:/data', '/z:/z:rw,Z,rshared', 'vol:/v:nocopy']);
    assert.deepEqual(r.config.Volumes, { '/anon': {} });
  });

  it('relative host paths starting with . are made absolute', () => {
    assert.deepEqual(req({ volume: ['./data:/data:ro'] }).hostConfig.Binds, [`${resolve('data')}:/data:ro`]);
  });

  it('errors', () => {
    rejects({ volume: ['/a::/b'] }, 'invalid spec: /a::/b: empty section between colons');
    rejects({ volume: ['/a:/b:ro:extra'] }, 'invalid spec: /a:/b:ro:extra: too many colons');
    rejects({ volume: ['/a:rel'] }, `invalid volume specification: '/a:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`);
    rejects({ volume: ['/a:/'] }, `invalid volume specification: '/a:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`);
    rejects({ volume: ['/ctr:ro'] }, "invalid volume specification: '/ctr:ro'");
    rejects({ volume: ['/a:/b:rw,ro'] }, 'invalid mode: rw,ro');
    rejects({ volume: ['/a:/b:bogus'] }, 'invalid mode: bogus');
    rejects({ volume: ['data:/d:rshared'] }, `invalid volume specification: 'data:/d:rshared': invalid mount config for type "volume": field BindOptions must not be specified`);
    rejects({ volume: ['/a:/b:nocopy'] }, `invalid volume specification: '/a:/b:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified`);
    rejects({ volume: ['relative/dir:/d'] }, `create relative/dir: "relative/dir" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    rejects({ volume: ['~/dir:/d'] }, /^create ~\/dir: "~\/dir" includes invalid characters for a local volume name/);
    rejects({ volume: ['a:/d'] }, 'create a: volume name is too short, names should be at least two alphanumeric characters');
    rejects({ volume: ['data'] }, `invalid volume specification: 'data': invalid mount config for type "volume": invalid mount path: 'data' mount path must be absolute`);
    rejects({ volume: ['/'] }, `invalid volume specification: '/': invalid mount config for type "volume": invalid specification: destination can't be '/'`);
    rejects({ volume: [''] }, 'invalid empty volume spec');
  });
});

describe('toCreateRequest: --mount', () => {
  it('bind, volume and tmpfs mounts', () => {
    const r = req({
      mount: [
        'type=bind,source=/src,target=/dst,readonly,bind-propagation=rslave',
        'type=volume,src=data,dst=/data,volume-nocopy,volume-label=a=b,volume-label=c',
        'target=/anon',
        'type=tmpfs,destination=/tmp,tmpfs-size=64m,tmpfs-mode=1777,ro=false',
        '"type=bind","src=/a,b",dst=/q,bind-create-src=true',
        'type=bind,src=./rel,dst=/rel',
      ],
    });
    assert.deepEqual(r.hostConfig.Mounts, [
      { Type: 'bind', Source: '/src', Target: '/dst', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
      { Type: 'volume', Source: 'data', Target: '/data', VolumeOptions: { NoCopy: true, Labels: { a: 'b', c: '' } } },
      { Type: 'volume', Target: '/anon' },
      { Type: 'tmpfs', Target: '/tmp', ReadOnly: false, TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1777 } },
      { Type: 'bind', Source: '/a,b', Target: '/q', BindOptions: { CreateMountpoint: true } },
      { Type: 'bind', Source: resolve('rel'), Target: '/rel' },
    ]);
  });

  const flagErr = (value: string, cause: string) => `invalid argument ${JSON.stringify(value)} for "--mount" flag: ${cause}`;

  it('flag errors (docker/cli MountOpt)', () => {
    const cases: [string, string][] = [
      ['  ', 'value is empty'],
      ['type=bind,src', "invalid field 'src' must be a key=value pair"],
      ['type=bind,foo=bar', "unknown option 'foo' in 'foo=bar'"],
      ['type=bind, src=/a', "invalid option 'src' in ' src=/a': option should not have whitespace"],
      ['type=bind,src= /a', "invalid value for 'src' in 'src= /a': value should not have whitespace"],
      ['type=bind,src=', "invalid value for 'src': value is empty"],
      ['type=volume,dst=/a,bind-propagation=shared', "cannot mix 'bind-*' options with mount type 'volume'"],
      ['type=bind,src=/a,dst=/a,volume-nocopy', "cannot mix 'volume-*' options with mount type 'bind'"],
      ['type=volume,dst=/a,tmpfs-size=1m', "cannot mix 'tmpfs-*' options with mount type 'volume'"],
      ['type=tmpfs,dst=/a,tmpfs-size=lots', 'invalid value for tmpfs-size: lots'],
      ['type=tmpfs,dst=/a,tmpfs-mode=999', 'invalid value for tmpfs-mode: 999'],
      [
        'type=bind,src=/a,dst=/a,readonly=yes',
        `invalid value for 'readonly': invalid boolean value ("yes"): must be one of "true", "1", "false", or "0" (default "true")`,
      ],
      ['type=bind,src=/a,dst=/a,bind-nonrecursive', 'bind-nonrecursive is deprecated, use bind-recursive=disabled instead'],
      [
        'type=bind,src=/a,dst=/a,bind-recursive=sometimes',
        'invalid value for bind-recursive: sometimes (must be "enabled", "disabled", "writable", or "readonly")',
      ],
      ['type=bind,src="/a,dst=/b', 'parse error on line 1, column 15: bare " in non-quoted-field'],
    ];
    for (const [value, cause] of cases) rejects({ mount: [value] }, flagErr(value, cause));
  });

  it("daemon-side errors (moby's mount validation)", () => {
    rejects({ mount: ['type=bind,src=/a'] }, 'invalid mount config for type "bind": field Target must not be empty');
    rejects({ mount: ['type=bind,src=/a,dst=rel'] }, `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`);
    rejects({ mount: ['type=volume,dst=/'] }, `invalid mount config for type "volume": invalid specification: destination can't be '/'`);
    rejects({ mount: ['type=bind,dst=/a'] }, 'invalid mount config for type "bind": field Source must not be empty');
    rejects({ mount: ['type=bind,src=rel,dst=/a'] }, `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`);
    rejects({ mount: ['type=bind,src=/a,dst=/a,bind-propagation=weird'] }, 'invalid mount config for type "bind": invalid propagation mode: weird');
    rejects({ mount: ['type=tmpfs,src=/a,dst=/a'] }, 'invalid mount config for type "tmpfs": field Source must not be specified');
    rejects({ mount: ['type=floppy,dst=/a'] }, 'invalid mount config for type "floppy": mount type unknown');
    rejects({ mount: ['type=image,src=busybox,dst=/a'] }, 'invalid mount config for type "image": mount type not supported by gantry');
    rejects({ mount: ['type=volume,src=bad name,dst=/a'] }, /^create bad name: "bad name" includes invalid characters/);
  });
});

describe('toCreateRequest: --tmpfs', () => {
  it('target → options', () => {
    assert.deepEqual(req({ tmpfs: ['/run', '/tmp:rw,noexec,size=64m'] }).hostConfig.Tmpfs, { '/run': '', '/tmp': 'rw,noexec,size=64m' });
    assert.equal(req({}).hostConfig.Tmpfs, undefined);
  });
  it('must be absolute and not /', () => {
    rejects({ tmpfs: ['run'] }, "invalid mount path: 'run' mount path must be absolute");
    rejects({ tmpfs: ['/:size=1m'] }, "invalid specification: destination can't be '/'");
  });
});

describe('toCreateRequest: resources', () => {
  it('memory, swap, reservation, shm', () => {
    const h = req({ memory: '512m', memorySwap: '1g', memoryReservation: '256MiB', shmSize: '128m' }).hostConfig;
    assert.equal(h.Memory, 512 * 1024 * 1024);
    assert.equal(h.MemorySwap, 1024 * 1024 * 1024);
    assert.equal(h.MemoryReservation, 256 * 1024 * 1024);
    assert.equal(h.ShmSize, 128 * 1024 * 1024);
    assert.equal(req({ memory: '64m', memorySwap: '-1' }).hostConfig.MemorySwap, -1);
  });

  it('memory errors', () => {
    rejects({ memory: 'lots' }, `invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'`);
    rejects({ memory: '10x' }, `invalid argument "10x" for "-m, --memory" flag: invalid suffix: 'x'`);
    rejects({ memory: '4m' }, 'Minimum memory limit allowed is 6MB');
    rejects({ memory: '64m', memorySwap: '32m' }, 'Minimum memoryswap limit should be larger than memory limit, see usage');
    rejects({ memorySwap: '1g' }, 'You should always set the Memory limit when using Memoryswap limit, see usage');
    rejects({ memorySwap: '-2' }, `invalid argument "-2" for "--memory-swap" flag: invalid size: '-2'`);
    rejects({ memoryReservation: '1m' }, 'Minimum memory reservation allowed is 6MB');
    rejects({ memory: '64m', memoryReservation: '128m' }, 'Minimum memory limit can not be less than memory reservation limit, see usage');
    rejects({ shmSize: 'big' }, `invalid argument "big" for "--shm-size" flag: invalid size: 'big'`);
  });

  it('--cpus', () => {
    assert.equal(req({ cpus: '0.5' }).hostConfig.NanoCpus, 500_000_000);
    assert.equal(req({ cpus: '1/4' }).hostConfig.NanoCpus, 250_000_000);
    assert.equal(req({ cpus: '5e-1' }).hostConfig.NanoCpus, 500_000_000);
    assert.equal(req({ cpus: '.25' }).hostConfig.NanoCpus, 250_000_000);
    assert.equal(req({ cpus: '1' }).hostConfig.NanoCpus, 1_000_000_000);
    rejects({ cpus: 'x' }, 'invalid argument "x" for "--cpus" flag: failed to parse x as a rational number');
    rejects({ cpus: '1/0' }, 'invalid argument "1/0" for "--cpus" flag: failed to parse 1/0 as a rational number');
    rejects({ cpus: '0.0000000001' }, 'invalid argument "0.0000000001" for "--cpus" flag: value is too precise');
    const n = availableParallelism();
    const range = `range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`;
    rejects({ cpus: String(n + 1) }, range);
    rejects({ cpus: '-1' }, range);
    rejects({ cpus: '0.5', cpuPeriod: '100000' }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
    rejects({ cpus: '0.5', cpuQuota: '50000' }, 'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  });

  it('CPU shares, period, quota, cpuset', () => {
    const h = req({ cpuShares: '512', cpuPeriod: '100000', cpuQuota: '50000', cpusetCpus: '0-1,3' }).hostConfig;
    assert.deepEqual([h.CpuShares, h.CpuPeriod, h.CpuQuota, h.CpusetCpus], [512, 100000, 50000, '0-1,3']);
    assert.equal(req({ cpuShares: '0x200' }).hostConfig.CpuShares, 512);
    assert.equal(req({ cpuShares: '0o10' }).hostConfig.CpuShares, 8);
    assert.equal(req({ cpuShares: '010' }).hostConfig.CpuShares, 8);
    assert.equal(req({ cpuShares: '1_000' }).hostConfig.CpuShares, 1000);
    rejects({ cpuShares: 'many' }, 'invalid argument "many" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "many": invalid syntax');
    rejects(
      { cpuShares: '9223372036854775808' },
      'invalid argument "9223372036854775808" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "9223372036854775808": value out of range',
    );
    rejects({ cpuPeriod: '500' }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
    rejects({ cpuPeriod: '2000000' }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
    rejects({ cpuQuota: '999' }, 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
    assert.equal(req({ cpuQuota: '-1' }).hostConfig.CpuQuota, -1);
    rejects({ cpusetCpus: '0-' }, 'Invalid value 0- for cpuset cpus: invalid format: 0-');
    rejects({ cpusetCpus: '3-1' }, 'Invalid value 3-1 for cpuset cpus: invalid format: 3-1');
    rejects({ cpusetCpus: 'a' }, 'Invalid value a for cpuset cpus: invalid format: a');
  });

  it('--pids-limit', () => {
    assert.equal(req({ pidsLimit: '100' }).hostConfig.PidsLimit, 100);
    assert.equal(req({ pidsLimit: '-1' }).hostConfig.PidsLimit, -1);
    rejects({ pidsLimit: '1.5' }, 'invalid argument "1.5" for "--pids-limit" flag: strconv.ParseInt: parsing "1.5": invalid syntax');
  });

  it('--ulimit', () => {
    const h = req({ ulimit: ['nproc=100', 'nofile=1024:2048', 'core=-1', 'nproc=50:60'] }).hostConfig;
    assert.deepEqual(h.Ulimits, [
      { Name: 'core', Soft: -1, Hard: -1 },
      { Name: 'nofile', Soft: 1024, Hard: 2048 },
      { Name: 'nproc', Soft: 50, Hard: 60 },
    ]);
    assert.deepEqual(req({ ulimit: ['nofile=10:-1'] }).hostConfig.Ulimits, [{ Name: 'nofile', Soft: 10, Hard: -1 }]);
    const err = (v: string, cause: string) => rejects({ ulimit: [v] }, `invalid argument "${v}" for "--ulimit" flag: ${cause}`);
    err('nofile', 'invalid ulimit argument: nofile');
    err('as=1', 'invalid ulimit type: as');
    err('nofile=1:2:3', 'too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`');
    err('nofile=x', 'strconv.ParseInt: parsing "x": invalid syntax');
    err('nofile=1:y', 'strconv.ParseInt: parsing "y": invalid syntax');
    err('nofile=20:10', 'ulimit soft limit must be less than or equal to hard limit: 20 > 10');
    err('nofile=-1:10', 'ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 10');
  });
});

describe('toCreateRequest: restart policy', () => {
  it('valid policies', () => {
    assert.deepEqual(req({ restart: 'always' }).hostConfig.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
    assert.deepEqual(req({ restart: 'unless-stopped' }).hostConfig.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
    assert.deepEqual(req({ restart: 'on-failure' }).hostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 0 });
    assert.deepEqual(req({ restart: 'on-failure:5' }).hostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 5 });
    assert.deepEqual(req({ restart: '' }).hostConfig.RestartPolicy, { Name: '', MaximumRetryCount: 0 });
    assert.deepEqual(req({}).hostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  });

  it('errors', () => {
    rejects({ restart: ':3' }, 'invalid restart policy format: no policy provided before colon');
    rejects({ restart: 'on-failure:x' }, 'invalid restart policy format: maximum retry count must be an integer');
    rejects({ restart: 'on-failure:-1' }, 'invalid restart policy: maximum retry count cannot be negative');
    rejects({ restart: 'always:3' }, "invalid restart policy: maximum retry count can only be used with 'on-failure'");
    rejects({ restart: 'no:-2' }, "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative");
    rejects(
      { restart: 'sometimes' },
      "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'",
    );
  });

  it('--rm conflicts with a restart policy other than no', () => {
    rejects({ rm: true, restart: 'always' }, 'conflicting options: cannot specify both --restart and --rm');
    rejects({ rm: true, restart: 'on-failure:2' }, 'conflicting options: cannot specify both --restart and --rm');
    assert.equal(req({ rm: true, restart: 'no' }).hostConfig.AutoRemove, true);
  });
});

describe('toCreateRequest: security', () => {
  it('--security-opt', () => {
    const opts = ['no-new-privileges', 'no-new-privileges=true', 'no-new-privileges:false', 'seccomp=unconfined', 'seccomp=builtin', 'apparmor=unconfined', 'label=disable', 'label:type:svirt_t'];
    assert.deepEqual(req({ securityOpt: opts }).hostConfig.SecurityOpt, opts);
    rejects({ securityOpt: ['bogus'] }, 'invalid --security-opt: "bogus"');
    rejects({ securityOpt: ['writable-cgroups'] }, 'invalid --security-opt: "writable-cgroups"');
    assert.deepEqual(req({ securityOpt: ['writable-cgroups=true'] }).hostConfig.SecurityOpt, ['writable-cgroups=true']);
    rejects({ securityOpt: ['seccomp='] }, 'invalid --security-opt: "seccomp="');
    rejects({ securityOpt: ['foo=bar'] }, 'invalid --security-opt: "foo=bar"');
    rejects({ securityOpt: ['no-new-privileges=maybe'] }, 'invalid --security-opt: "no-new-privileges=maybe"');
    rejects({ securityOpt: ['seccomp=/etc/profile.json'] }, 'seccomp profile files are not supported yet: --security-opt "seccomp=/etc/profile.json"');
  });

  it('--cap-add / --cap-drop', () => {
    const h = req({ capAdd: ['NET_ADMIN', 'cap_sys_time', 'ALL'], capDrop: ['chown'] }).hostConfig;
    assert.deepEqual(h.CapAdd, ['NET_ADMIN', 'cap_sys_time', 'ALL']);
    assert.deepEqual(h.CapDrop, ['chown']);
    rejects({ capAdd: ['FLY'] }, 'invalid CapAdd: unknown capability: "CAP_FLY"');
    rejects({ capDrop: ['cap_nope'] }, 'invalid CapDrop: unknown capability: "CAP_NOPE"');
  });

  it('--sysctl', () => {
    assert.deepEqual(req({ sysctl: ['net.ipv4.ip_forward=1', 'kernel.shmmax=1000', 'fs.mqueue.msg_max=5'] }).hostConfig.Sysctls, {
      'net.ipv4.ip_forward': '1',
      'kernel.shmmax': '1000',
      'fs.mqueue.msg_max': '5',
    });
    rejects({ sysctl: ['kernel.hostname=x'] }, `invalid argument "kernel.hostname=x" for "--sysctl" flag: sysctl 'kernel.hostname=x' is not allowed`);
    rejects({ sysctl: ['net.ipv4.ip_forward'] }, `invalid argument "net.ipv4.ip_forward" for "--sysctl" flag: sysctl 'net.ipv4.ip_forward' is not allowed`);
  });
});

describe('toCreateRequest: networking', () => {
  it('--network', () => {
    assert.equal(req({}).hostConfig.NetworkMode, 'default');
    assert.equal(req({ network: ['host'] }).hostConfig.NetworkMode, 'host');
    assert.equal(req({ network: ['container:web'] }).hostConfig.NetworkMode, 'container:web');
    assert.equal(req({ network: ['name=mynet'] }).hostConfig.NetworkMode, 'mynet');
    rejects({ network: ['name=a,ip6=b'] }, `invalid argument "name=a,ip6=b" for "--network" flag: network option 'ip6' is not supported by gantry yet`);
    const long = req({ network: ['name=a,alias=b,ip=10.1.0.9'], networkAlias: ['c'] });
    assert.deepEqual(long.networkingConfig, { EndpointsConfig: { a: { Aliases: ['b', 'c'], IPAMConfig: { IPv4Address: '10.1.0.9' } } } });
    rejects({ ip: 'nope' }, /invalid argument "nope" for "--ip" flag/);
    assert.deepEqual(req({ egressAllow: ['10.0.0.0/8:443'] }).hostConfig.Egress, { Mode: 'deny', Allow: ['10.0.0.0/8:443'] });
    assert.equal(req({ publishAll: true }).hostConfig.PublishAllPorts, true);
    rejects({ network: ['name=a,foo=b'] }, 'invalid argument "name=a,foo=b" for "--network" flag: invalid field key foo');
    rejects({ network: ['driver=x'] }, 'invalid argument "driver=x" for "--network" flag: invalid field key driver');
    rejects({ network: ['a', 'b'] }, /more than one network/);
  });

  it('--dns, --dns-search, --add-host', () => {
    const h = req({
      dns: ['8.8.8.8', ' 2001:db8::1 '],
      dnsSearch: ['example.com', '.', 'sub.example.org.'],
      addHost: ['db:10.0.0.2', 'v6=::1', 'br:[fe80::1]', 'gw:host-gateway'],
    }).hostConfig;
    assert.deepEqual(h.Dns, ['8.8.8.8', '2001:db8::1']);
    assert.deepEqual(h.DnsSearch, ['example.com', '.', 'sub.example.org']); // Docker drops the trailing dot
    assert.deepEqual(h.ExtraHosts, ['db:10.0.0.2', 'v6:::1', 'br:fe80::1', 'gw:host-gateway']);
    rejects({ dns: ['dns.example'] }, 'invalid argument "dns.example" for "--dns" flag: IP address is not correctly formatted: dns.example');
    rejects({ dnsSearch: ['-bad-'] }, 'invalid argument "-bad-" for "--dns-search" flag: -bad- is not a valid domain');
    rejects({ dnsSearch: ['123'] }, 'invalid argument "123" for "--dns-search" flag: 123 is not a valid domain');
    rejects({ addHost: ['nohost'] }, `invalid argument "nohost" for "--add-host" flag: bad format for add-host: "nohost"`);
    rejects({ addHost: [':1.2.3.4'] }, `invalid argument ":1.2.3.4" for "--add-host" flag: bad format for add-host: ":1.2.3.4"`);
    rejects({ addHost: ['db:notanip'] }, `invalid argument "db:notanip" for "--add-host" flag: invalid IP address in add-host: "notanip"`);
  });

  it('-p / --publish', () => {
    const r = req({
      publish: ['80', '8080:8080', '127.0.0.1:5353:53/udp', '[::1]:9000:9000', '7000-7001:70-71', '6000-6010:60', '127.0.0.1::443', '9999:80'],
    });
    assert.deepEqual(r.hostConfig.PortBindings, {
      '80/tcp': [{ HostIp: '', HostPort: '' }, { HostIp: '', HostPort: '9999' }],
      '8080/tcp': [{ HostIp: '', HostPort: '8080' }],
      '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
      '9000/tcp': [{ HostIp: '::1', HostPort: '9000' }],
      '70/tcp': [{ HostIp: '', HostPort: '7000' }],
      '71/tcp': [{ HostIp: '', HostPort: '7001' }],
      '60/tcp': [{ HostIp: '', HostPort: '6000-6010' }],
      '443/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    });
    assert.deepEqual(Object.keys(r.config.ExposedPorts ?? {}), ['80/tcp', '8080/tcp', '53/udp', '9000/tcp', '70/tcp', '71/tcp', '60/tcp', '443/tcp']);
  });

  it('-p long syntax', () => {
    const r = req({ publish: ['published=8080,target=80', 'target=53,published=5353,protocol=udp', 'target=90'] });
    assert.deepEqual(r.hostConfig.PortBindings, {
      '80/tcp': [{ HostIp: '', HostPort: '8080' }],
      '53/udp': [{ HostIp: '', HostPort: '5353' }],
      '90/tcp': [{ HostIp: '', HostPort: '' }],
    });
    rejects({ publish: ['target=80,bogus'] }, "invalid publish opts format (should be name=value but got 'bogus')");
  });

  it('-p errors', () => {
    rejects({ publish: ['80/xyz'] }, 'invalid proto: xyz');
    rejects({ publish: ['8080:'] }, 'no port specified: 8080:<empty>');
    rejects({ publish: ['http'] }, 'invalid containerPort: http');
    rejects({ publish: ['99999'] }, 'invalid containerPort: 99999');
    rejects({ publish: ['x:80'] }, 'invalid hostPort: x');
    rejects({ publish: ['8000-8002:80-81'] }, 'invalid ranges specified for container and host Ports: 80-81 and 8000-8002');
    rejects({ publish: ['localhost:80:80'] }, 'invalid IP address: localhost');
    rejects({ publish: ['0'] }, 'invalid port specification: "0/tcp"');
  });

  it('--expose', () => {
    const r = req({ expose: ['80', '53/UDP', '8000-8002'], publish: ['80'] });
    assert.deepEqual(r.config.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {}, '8002/tcp': {} });
    rejects({ expose: ['http'] }, "invalid range format for --expose: invalid start port 'http': invalid syntax");
    rejects({ expose: ['70000'] }, "invalid range format for --expose: invalid start port '70000': value out of range");
    rejects({ expose: ['90-80'] }, 'invalid range format for --expose: invalid port range: 90-80');
    rejects({ expose: ['80-x'] }, "invalid range format for --expose: invalid end port 'x': invalid syntax");
  });
});
