/**
 * The Rust example (examples/blockchain) end to end: its Dockerfile starts `FROM rust:1.76`,
 * which here is a local stand-in made by scripts/make-rust-image.sh from Debian's own rustc
 * and cargo (no Docker Hub). The image itself is checked, the example is installed and run in
 * it by hand (no builder needed), then built with `gantry build` and run as Docker would.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { destroyWithContainers } from '../support/containers.js';
import { GANTRY, needsRoot, REPO, type Run, runCommand, Sandbox } from '../support/harness.js';

const EXAMPLE = join(REPO, 'examples/blockchain');

/** What the example prints when the chain it mined validates (and a tampered copy does not). */
function assertChainOutput(r: Run): void {
  const out = `stdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(r.code, 0, out);
  assert.match(r.stdout, /^Mining 4 blocks \(difficulty 3: hashes start with "000"\)$/m, out);
  assert.equal(r.stdout.match(/^ {2}hash: {10}000[0-9a-f]{61}$/gm)?.length, 4, `four mined blocks\n${out}`);
  assert.match(r.stdout, /^Chain valid: 4 blocks, every hash matches its block and links to the one before\.$/m, out);
  assert.match(r.stdout, /^Tampered copy rejected: block #1's hash does not match its contents\.$/m, out);
}

describe('the Rust example on a local rust:1.76', { skip: needsRoot }, () => {
  let sb: Sandbox;
  const dirs: string[] = [];
  /** Runs scripts/make-rust-image.sh against the sandbox's store. */
  const makeImage = () =>
    runCommand('bash', [join(REPO, 'scripts/make-rust-image.sh')], { env: { GANTRY_ROOT: sb.root, GANTRY } });

  before(async () => {
    sb = await Sandbox.create('gantry-e2e-rust-');
    const r = await makeImage();
    if (r.code !== 0) throw new Error(`make-rust-image.sh exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  });
  after(async () => {
    await destroyWithContainers(sb);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('the image has cargo and rustc on the official image\'s PATH, and its ENV', async () => {
    assert.match((await sb.ok(['run', '--rm', 'rust:1.76', 'cargo', '--version'])).stdout, /^cargo 1\.\d+\.\d+/);
    assert.match((await sb.ok(['run', '--rm', 'rust:1.76', 'rustc', '--version'])).stdout, /^rustc 1\.\d+\.\d+/);
    const [img] = JSON.parse((await sb.ok(['image', 'inspect', 'rust:1.76'])).stdout);
    assert.ok(img.Config.Env.includes('PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'), img.Config.Env);
    assert.ok(img.Config.Env.includes('CARGO_HOME=/usr/local/cargo'), img.Config.Env);
    assert.ok(img.Config.Env.includes('RUSTUP_HOME=/usr/local/rustup'), img.Config.Env);
  });

  it('making the image again changes nothing', async () => {
    const id = (await sb.ok(['image', 'inspect', '-f', '{{.Id}}', 'rust:1.76'])).stdout;
    const r = await makeImage();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^rust:1\.76 is up to date/);
    assert.equal((await sb.ok(['image', 'inspect', '-f', '{{.Id}}', 'rust:1.76'])).stdout, id);
  });

  it('cargo install --path . installs the example, and "My blockchain" runs by name from PATH', async () => {
    // The Dockerfile's two steps by hand, with the cargo home kept in a host directory between
    // them: the install, then the exec-form CMD (no shell: the runtime finds it on PATH).
    const cargoHome = await mkdtemp('/var/tmp/gantry-e2e-cargo-');
    dirs.push(cargoHome);
    const mounts = ['-v', `${cargoHome}:/usr/local/cargo`, '-v', `${EXAMPLE}:/src:ro`];
    await sb.ok(['run', '--rm', ...mounts, 'rust:1.76', 'sh', '-c', 'cp -r /src /usr/src/blockchain && cd /usr/src/blockchain && rm -rf target && cargo install --path .']);
    assertChainOutput(await sb.run(['run', '--rm', ...mounts, 'rust:1.76', 'My blockchain']));
  });

  it('gantry build -t blockchain examples/blockchain, then run it', async () => {
    const b = await sb.run(['build', '-t', 'blockchain', EXAMPLE]);
    assert.equal(b.code, 0, `gantry build exited ${b.code}\nstdout: ${b.stdout}\nstderr: ${b.stderr}`);
    const [img] = JSON.parse((await sb.ok(['image', 'inspect', 'blockchain'])).stdout);
    assert.deepEqual(img.Config.Cmd, ['My blockchain']);
    assert.equal(img.Config.WorkingDir, '/usr/src/blockchain');
    assertChainOutput(await sb.run(['run', '--rm', 'blockchain']));
  });
});
