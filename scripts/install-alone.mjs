// `pnpm test:consumers`: every published package as another team installs it. Each is packed
// (`pnpm pack`, which writes the real versions in for `workspace:` and `catalog:`), installed alone
// into an empty project with npm and strict peer dependencies, type-checked with `strict` and
// `skipLibCheck: false` from a file that imports every export, and imported, while a loader hook
// records every module Node resolves. It fails when:
// - npm cannot install the package with exactly its declared dependencies and peers;
// - its types do not check (an import of a package it does not declare, a type lost to `any`…);
// - importing it loads a package outside what it declares (followed through the installed
//   packages' own declarations), or loads an optional peer that only a subpath or a lazy import
//   may load, or the S3 SDK at all from an entry whose types do not name it;
// - it declares a dependency or a required peer that importing it never loads (a dependency for
//   types alone drags its whole install along: that is what an optional peer or a shape is for);
// - installing it brings an HTTP framework (Fastify, bull-board) it does not declare itself.
// A subpath whose types name an optional peer (`@nself-tv/storage/s3`, the HTTP half of
// `@nself-tv/service`) is checked in a second install that adds those peers. The installed size and
// the time to import each package alone are printed for the record.
//
//   node scripts/install-alone.mjs [--only queues,storage] [--keep]
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { only: { type: 'string' }, keep: { type: 'boolean' } } });
const say = (line) => console.log(`[install-alone] ${line}`);
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
const nodeTypes = readJson(join(root, 'package.json')).devDependencies['@types/node'];

/** The published packages, by name: their folder, and (once packed) the manifest as published. */
const published = new Map();
for (const dir of readdirSync(join(root, 'packages'))) {
  const manifest = readJson(join(root, 'packages', dir, 'package.json'));
  if (!manifest.private) published.set(manifest.name, { dir: join(root, 'packages', dir), manifest });
}

const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
};

const work = mkdtempSync(join(tmpdir(), 'install-alone-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
const tarballOf = new Map();
for (const [name, { dir }] of published) {
  const packed = run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir });
  if (!packed.ok) throw new Error(`pnpm pack ${name}: ${packed.out}`);
  const file = readdirSync(tarballs).find((f) => f.startsWith(`${name.slice(1).replace('/', '-')}-`));
  if (!file) throw new Error(`pnpm pack ${name}: no tarball in ${tarballs}`);
  tarballOf.set(name, join(tarballs, file));
  // The manifest as npm sees it: `workspace:` and `catalog:` replaced by versions.
  const packedManifest = run('tar', ['-xOzf', join(tarballs, file), 'package/package.json']);
  if (!packedManifest.ok) throw new Error(`${file}: ${packedManifest.out}`);
  published.get(name).manifest = JSON.parse(packedManifest.out);
}

const required = (m) => [
  ...Object.keys(m.dependencies ?? {}),
  ...Object.keys(m.peerDependencies ?? {}).filter((p) => !m.peerDependenciesMeta?.[p]?.optional),
];
const optionalPeers = (m) => Object.keys(m.peerDependencies ?? {}).filter((p) => m.peerDependenciesMeta?.[p]?.optional);

/** Our packages a package needs installed beside it (not on a registry yet): its required closure. */
function ownClosure(name, seen = new Set()) {
  for (const dep of required(published.get(name).manifest)) {
    if (published.has(dep) && !seen.has(dep)) {
      seen.add(dep);
      ownClosure(dep, seen);
    }
  }
  return seen;
}

/** The packages a project's installed dependency `name` may load: itself and what it declares, transitively. */
function allowedFrom(project, names) {
  const allowed = new Set();
  const visit = (name) => {
    if (allowed.has(name)) return;
    const manifestPath = join(project, 'node_modules', name, 'package.json');
    if (!existsSync(manifestPath)) return;
    allowed.add(name);
    const m = readJson(manifestPath);
    for (const dep of [...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]) visit(dep);
  };
  for (const name of names) visit(name);
  return allowed;
}

/** The export subpaths of a package (`.`, `./s3`), each with the optional peers its types name. */
function subpaths(name, project) {
  const dir = join(project, 'node_modules', name);
  const m = readJson(join(dir, 'package.json'));
  const optional = optionalPeers(m);
  return Object.entries(m.exports)
    .filter(([path, target]) => path !== './package.json' && typeof target === 'object')
    .map(([path, target]) => {
      const types = readFileSync(join(dir, target.types), 'utf8');
      const chunks = [...types.matchAll(/from '\.\/([^']+)\.js'/g)].map((c) =>
        readFileSync(join(dir, 'dist', `${c[1]}.d.ts`), 'utf8'),
      );
      const text = [types, ...chunks].join('\n');
      const needs = optional.filter((p) => text.includes(`from '${p}'`) || text.includes(`import('${p}')`));
      return { specifier: path === '.' ? name : `${name}/${path.slice(2)}`, needs };
    });
}

/** Loaded only by an entry whose types name it (`@nself-tv/storage/s3`), whatever declares it. */
const NEVER_ON_IMPORT = [/^@aws-sdk\//];
/** Installed only for a package that declares it itself: the HTTP shell never reaches a library. */
const HTTP_FRAMEWORKS = ['fastify', '@bull-board/api', '@bull-board/fastify'];

const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.LOADED_LOG, result.url + '\\n');
  return result;
}
`;
const REGISTER = `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`;

/** The packages whose files were loaded, from the log of resolved URLs. */
function loadedPackages(log) {
  const names = new Set();
  for (const url of readFileSync(log, 'utf8').split('\n')) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m?.[1]) names.add(m[1]);
  }
  return names;
}

const bytesUnder = (dir) => {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += bytesUnder(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
};

/** Installs `name` (and, when asked, its optional peers) into a fresh project and checks `specifiers`. */
function check(name, { withOptional }) {
  const problems = [];
  const manifest = published.get(name).manifest;
  const project = join(work, `${name.slice(1).replace('/', '-')}${withOptional ? '-with-optional-peers' : ''}`);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const own = [name, ...ownClosure(name)].map((n) => tarballOf.get(n));
  const extra = withOptional
    ? optionalPeers(manifest).flatMap((p) =>
        published.has(p)
          ? [p, ...ownClosure(p)].filter((n) => !own.includes(tarballOf.get(n))).map((n) => tarballOf.get(n))
          : [`${p}@${manifest.peerDependencies[p]}`],
      )
    : [];
  const npm = ['install', '--no-audit', '--no-fund', '--strict-peer-deps', '--loglevel=error'];
  const installed = run('npm', [...npm, ...own, ...extra], { cwd: project });
  if (!installed.ok) return { problems: [`npm install: ${installed.out.slice(-2000)}`] };
  const sizeBytes = bytesUnder(join(project, 'node_modules'));
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  for (const framework of HTTP_FRAMEWORKS) {
    if (!declared.has(framework) && existsSync(join(project, 'node_modules', framework, 'package.json'))) {
      problems.push(`installing it brings ${framework}, which it does not declare (through a dependency's)`);
    }
  }
  // The checker's own types come after the measure: they are the consumer's, not the package's.
  // ioredis's declarations import redis-errors, whose types ioredis keeps as a dev dependency: a
  // consumer that checks library types installs them itself (an ioredis matter, not ours).
  const types = run('npm', [...npm, '--no-save', `@types/node@${nodeTypes}`, '@types/redis-errors@1.2.3'], {
    cwd: project,
  });
  if (!types.ok) return { problems: [`npm install @types/node: ${types.out.slice(-2000)}`] };

  const all = subpaths(name, project);
  const targets = all.filter((s) => (withOptional ? s.needs.length > 0 : s.needs.length === 0));
  if (targets.length === 0) return { problems, sizeBytes, skipped: true };
  // With the optional peers installed, every entry is imported again: one that needs none must
  // still not load them (they are there now, so only a lazy import keeps them out).
  const loadTargets = withOptional ? all : targets;
  const imports = targets.map((s, i) => `import * as m${i} from '${s.specifier}';`);
  writeFileSync(
    join(project, 'check.ts'),
    `${imports.join('\n')}\nexport const all = [${targets.map((_, i) => `m${i}`).join(', ')}];\n`,
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        types: ['node'],
        noUncheckedIndexedAccess: true,
      },
      files: ['check.ts'],
    }),
  );
  const typed = run(process.execPath, [tsc, '-p', project]);
  if (!typed.ok) problems.push(`tsc (strict, skipLibCheck false): ${typed.out.slice(0, 3000)}`);

  writeFileSync(join(project, 'hooks.mjs'), HOOKS);
  writeFileSync(join(project, 'register.mjs'), REGISTER);
  const allowed = allowedFrom(project, [name]);
  let loadMs;
  const loadedByAll = new Set();
  for (const target of loadTargets) {
    const log = join(project, `loaded-${loadTargets.indexOf(target)}.log`);
    writeFileSync(log, '');
    const started = process.hrtime.bigint();
    const imported = run(
      'node',
      ['--import', './register.mjs', '--input-type=module', '-e', `await import('${target.specifier}');`],
      { cwd: project, env: { ...process.env, LOADED_LOG: log } },
    );
    if (target.specifier === name || loadMs === undefined) loadMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (!imported.ok) {
      problems.push(`import '${target.specifier}': ${imported.out.slice(0, 2000)}`);
      continue;
    }
    const loaded = loadedPackages(log);
    for (const p of loaded) loadedByAll.add(p);
    const heavy = [...loaded].filter((p) => NEVER_ON_IMPORT.some((re) => re.test(p)) && !target.needs.includes(p));
    if (heavy.length && target.needs.length === 0) {
      problems.push(`import '${target.specifier}' loads ${heavy.join(', ')}: only an entry that uses it may`);
    }
    const outside = [...loaded].filter((p) => !allowed.has(p));
    if (outside.length)
      problems.push(`import '${target.specifier}' loads ${outside.join(', ')}, which it does not declare`);
    // Optional peers are loaded by a subpath whose types name one, or lazily: never by another entry.
    const eager = target.needs.length ? [] : optionalPeers(manifest).filter((p) => loaded.has(p));
    if (eager.length) problems.push(`import '${target.specifier}' loads the optional peer(s) ${eager.join(', ')}`);
  }
  if (!withOptional) {
    const unused = required(manifest).filter((d) => !loadedByAll.has(d));
    if (unused.length) problems.push(`declares ${unused.join(', ')}, which importing it never loads`);
  }
  return { problems, sizeBytes, loadMs, checked: targets.map((t) => t.specifier) };
}

const names = values.only
  ? values.only.split(',').map((n) => (n.startsWith('@') ? n : `@nself-tv/${n.trim()}`))
  : [...published.keys()].sort();
const rows = [];
let failed = 0;
for (const name of names) {
  if (!published.has(name)) throw new Error(`${name} is not a published package of this workspace`);
  for (const withOptional of [false, true]) {
    if (withOptional && optionalPeers(published.get(name).manifest).length === 0) continue;
    const label = `${name}${withOptional ? ' + optional peers' : ''}`;
    const started = Date.now();
    const result = check(name, { withOptional });
    if (result.skipped) continue;
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    if (result.problems.length) {
      failed += 1;
      say(`FAIL ${label} (${seconds} s)`);
      for (const p of result.problems) console.log(p.replace(/^/gm, '    '));
    } else {
      say(`ok   ${label}: ${result.checked.join(', ')} (${seconds} s)`);
    }
    rows.push({
      label,
      mb: result.sizeBytes === undefined ? '-' : (result.sizeBytes / 1024 / 1024).toFixed(1),
      ms: result.loadMs === undefined ? '-' : result.loadMs.toFixed(0),
    });
  }
}
say('installed alone: node_modules size, and the time to start Node and import the main entry (or the first checked)');
for (const r of rows) say(`  ${r.label.padEnd(44)} ${String(r.mb).padStart(6)} MB ${String(r.ms).padStart(6)} ms`);
if (values.keep) say(`projects kept in ${work}`);
else rmSync(work, { recursive: true, force: true });
say(failed ? `${failed} install(s) failed` : 'every package installs, type-checks and loads alone');
process.exit(failed ? 1 : 0);
