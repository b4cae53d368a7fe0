// Podman without a daemon, as these scripts use it: the engine settings a sandboxed machine needs
// (runc, cgroupfs, file events, open-file limits it may set) in a containers.conf of our own, and
// the tools installed with apt-get when they are missing and we are root on Debian.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const say = (line) => console.log(`[images] ${line}`);

export { say };

const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

/** Installs podman, buildah, runc and debootstrap when one is missing (root + apt-get only). */
export function ensureTools() {
  const wanted = { podman: 'podman', buildah: 'buildah', runc: 'runc', debootstrap: 'debootstrap' };
  const missing = Object.entries(wanted).filter(([tool]) => !has(tool));
  if (missing.length === 0) return;
  const packages = missing.map(([, pkg]) => pkg);
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    throw new Error(
      `needed and not installed: ${packages.join(', ')} (Debian: apt-get install -y ${packages.join(' ')})`,
    );
  }
  say(`installing ${packages.join(' ')} with apt-get`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', ...packages], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

let env;
/** The environment podman runs with: CONTAINERS_CONF points at our engine settings. */
export function podmanEnv() {
  if (env) return env;
  // Containers get the open-file and process limits this process may grant, not more: podman's
  // defaults are higher, and runc refuses to raise a limit in a sandbox.
  const hard = (flag, fallback) => {
    const value = spawnSync('sh', ['-c', `ulimit -H${flag}`], { encoding: 'utf8' }).stdout.trim();
    return /^\d+$/.test(value) ? value : fallback;
  };
  const nofile = hard('n', '1024');
  const nproc = hard('u', '4096');
  const dir = join(tmpdir(), 'nself-tv-podman');
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'containers.conf');
  writeFileSync(
    conf,
    [
      '[containers]',
      `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
      '[engine]',
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      '',
    ].join('\n'),
  );
  env = { ...process.env, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? conf };
  return env;
}

/** Runs a command with output shown; throws when it fails. */
export function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
  return r;
}

/** Runs podman; returns its stdout (trimmed). Throws with stderr when it fails, unless `allowFail`. */
export function podman(args, { allowFail = false, input, inherit = false } = {}) {
  const r = spawnSync('podman', args, {
    env: podmanEnv(),
    encoding: 'utf8',
    input,
    maxBuffer: 64 * 1024 * 1024,
    stdio: inherit ? ['pipe', 'inherit', 'inherit'] : 'pipe',
  });
  if (r.status !== 0 && !allowFail) {
    throw new Error(`podman ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr ?? '').trim().slice(-2000)}`);
  }
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim() };
}
