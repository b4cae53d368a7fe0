import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ComposeError, composeConfig } from './compose-config.js';

const root = new URL('../..', import.meta.url).pathname;
const APPS = ['video-processor', 'thumbnail-generator', 'stream-gateway'] as const;
const SECRETS = { API_TOKEN: 'a'.repeat(24), PLAYBACK_JWT_SECRET: 'p'.repeat(40), AUTH_JWT_SECRET: 's'.repeat(40) };

interface Service {
  image?: string;
  command?: string[];
  build?: { context: string; target: string; args?: Record<string, string> };
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: ({ target: number; published: number | string; host_ip?: string } | string)[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  entrypoint?: string[];
}

/** A service's published ports, in one shape: compose writes `ip:published:target/proto` when an address is named. */
function portsOf(service: Service | undefined) {
  return (service?.ports ?? []).map((p) => {
    if (typeof p !== 'string') return p;
    const [address, published, target] = p.replace(/\/\w+$/, '').split(':');
    return { host_ip: address, published: Number(published), target: Number(target) };
  });
}

/** The file rendered as `docker compose config` renders it, with exactly `vars` in the environment. */
function render(vars: Record<string, string>, profiles: string[] = []) {
  try {
    const { services } = composeConfig(join(root, 'compose.yaml'), vars, profiles);
    return { status: 0, stderr: '', services: services as Record<string, Service> };
  } catch (error) {
    if (!(error instanceof ComposeError)) throw error;
    return { status: 1, stderr: error.message, services: {} as Record<string, Service> };
  }
}

/** The Dockerfile's stages: name → their instructions, one line each (continuations joined). */
function dockerfileStages() {
  const lines = readFileSync(join(root, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));
  const stages = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of lines) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from?.[1]) {
      current = [];
      stages.set(from[1], current);
    }
    current.push(line.trim());
  }
  return stages;
}

describe('compose.yaml', () => {
  it('is valid, and runs Redis with noeviction and AOF and the three apps against it', () => {
    const { status, stderr, services } = render(SECRETS, ['s3']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(Object.keys(services).sort()).toEqual(
      ['minio', 'minio-buckets', 'redis', 'stream-gateway', 'thumbnail-generator', 'video-processor'].sort(),
    );
    const redis = services.redis as Service;
    const command = (redis.command ?? []).join(' ');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(command).toContain('--appendonly yes');
    expect(redis.volumes?.some((v) => v.startsWith('redis-data:/data'))).toBe(true);
    for (const app of APPS) {
      const s = services[app] as Service;
      expect(s.environment?.REDIS_HOST, app).toBe('redis');
      expect(s.build?.target, app).toBe(app);
      expect(s.depends_on?.redis?.condition, app).toBe('service_healthy');
      expect(s.profiles, app).toBeUndefined();
    }
  });

  it('gives the workers the media volume to write and the gateway the same volume read-only', () => {
    const { services } = render(SECRETS);
    expect(services['video-processor']?.volumes).toContain('media:/media:rw');
    expect(services['thumbnail-generator']?.volumes).toContain('media:/media:rw');
    expect(services['stream-gateway']?.volumes).toContain('media:/media:ro');
  });

  it('refuses to render without the secrets, naming each, instead of starting with empty ones', () => {
    for (const missing of ['API_TOKEN', 'PLAYBACK_JWT_SECRET'] as const) {
      const vars: Record<string, string> = { ...SECRETS };
      delete vars[missing];
      const { status, stderr } = render(vars);
      expect(status, missing).not.toBe(0);
      expect(stderr, missing).toContain(`set ${missing} in .env`);
    }
    // Set but empty is missing too.
    expect(render({ ...SECRETS, API_TOKEN: '' }).status).not.toBe(0);
  });

  it('switches every app to S3 and keeps MinIO and its bucket job behind the s3 profile', () => {
    const keys = { S3_ACCESS_KEY_ID: 'nself', S3_SECRET_ACCESS_KEY: 'a-long-secret' };
    const { status, services } = render({ ...SECRETS, ...keys, STORAGE: 's3' }, ['s3']);
    expect(status).toBe(0);
    for (const app of APPS) {
      const env = services[app]?.environment ?? {};
      expect(env.STORAGE, app).toBe('s3');
      expect(env.S3_ENDPOINT, app).toBe('http://minio:9000');
      expect(env.S3_FORCE_PATH_STYLE, app).toBe('true');
      expect(env.S3_ACCESS_KEY_ID, app).toBe('nself');
    }
    expect(services.minio?.profiles).toEqual(['s3']);
    expect(services['minio-buckets']?.profiles).toEqual(['s3']);
    expect(services.minio?.environment?.MINIO_ROOT_USER).toBe('nself');
    // Without the keys the bucket job stops the profile with a message, not MinIO's default user.
    expect(services['minio-buckets']?.entrypoint?.join(' ')).toContain('set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY');
  });

  it('publishes the workers (unauthenticated /metrics, a bearer token over plain HTTP) on this host only', () => {
    const { services } = render(SECRETS);
    for (const app of ['video-processor', 'thumbnail-generator']) {
      expect(
        portsOf(services[app]).map((p) => p.host_ip),
        app,
      ).toEqual(['127.0.0.1']);
    }
    expect(portsOf(services['stream-gateway']).map((p) => p.host_ip)).toEqual(['0.0.0.0']);
    const open = render({
      ...SECRETS,
      WORKER_BIND_ADDRESS: '10.0.0.5',
      GATEWAY_BIND_ADDRESS: '127.0.0.1',
    }).services;
    expect(portsOf(open['video-processor'])[0]?.host_ip).toBe('10.0.0.5');
    expect(portsOf(open['stream-gateway'])[0]?.host_ip).toBe('127.0.0.1');
  });

  it('names every image by a fixed version, never latest; ours by the apps’ own version', () => {
    const { services } = render({ ...SECRETS, S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' }, ['s3']);
    for (const [name, service] of Object.entries(services)) {
      const tag = service.image?.split(':').at(-1) ?? '';
      expect(tag, name).not.toBe('latest');
      expect(tag, name).toMatch(/^(\d+\.\d+(\.\d+)?(-[a-z]+)?|RELEASE\.[0-9T-]+Z)$/);
    }
    for (const app of APPS) {
      const { version } = JSON.parse(readFileSync(join(root, `apps/${app}/package.json`), 'utf8')) as {
        version: string;
      };
      expect(services[app]?.image, app).toBe(`nself-tv/${app}:${version}`);
    }
  });

  it('builds each app from the Dockerfile stage of its name, on the port that stage exposes and the app defaults to', () => {
    const { services } = render(SECRETS);
    const stages = dockerfileStages();
    const defaultPorts: Record<string, number> = {};
    for (const app of APPS) {
      const source =
        app === 'stream-gateway'
          ? readFileSync(join(root, 'apps/stream-gateway/src/config.ts'), 'utf8').match(/serviceSettings\((\d+)\)/)
          : readFileSync(join(root, `apps/${app}/src/main.ts`), 'utf8').match(/defaultPort: (\d+)/);
      defaultPorts[app] = Number(source?.[1]);
    }
    for (const app of APPS) {
      const stage = stages.get(app);
      expect(stage, `Dockerfile stage ${app}`).toBeDefined();
      const exposed = Number(stage?.find((l) => l.startsWith('EXPOSE'))?.split(/\s+/)[1]);
      const envPort = Number(stage?.find((l) => l.startsWith('ENV PORT='))?.slice('ENV PORT='.length));
      const s = services[app] as Service;
      expect(exposed, app).toBe(defaultPorts[app]);
      expect(envPort, app).toBe(exposed);
      expect(Number(s.environment?.PORT), app).toBe(exposed);
      expect(
        portsOf(s).map((p) => p.target),
        app,
      ).toEqual([exposed]);
      expect(stage, `${app} runs unprivileged`).toContain('USER nself');
    }
  });
});

describe('the Compose check itself', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'nself-tv-compose-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const write = (text: string) => {
    const file = join(scratch, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    return file;
  };

  it('refuses what the Compose specification refuses: an unknown key, a port of the wrong type', () => {
    expect(() => composeConfig(write('services:\n  a:\n    image: x\n    enviroment: {A: "1"}\n'), {})).toThrow(
      /enviroment|additional/,
    );
    expect(() => composeConfig(write('services:\n  a:\n    image: x\n    ports: {a: 1}\n'), {})).toThrow(ComposeError);
  });

  it('interpolates as Compose does: defaults, required values, $$, and leaves profiled services out', () => {
    const file = write(
      [
        'services:',
        '  a:',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's own ${} syntax is what is tested
        '    image: "x:${TAG:-1.0}"',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's own ${} syntax is what is tested
        '    environment: {B: "${B-unset}", C: "$${C}", D: "${D:+on}"}',
        '  b:',
        '    image: y',
        '    profiles: [extra]',
      ].join('\n'),
    );
    const plain = composeConfig(file, { B: '', D: 'x' }).services as Record<string, Service>;
    expect(plain.a?.image).toBe('x:1.0');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's own ${} syntax is what is tested
    expect(plain.a?.environment).toEqual({ B: '', C: '${C}', D: 'on' });
    expect(Object.keys(plain)).toEqual(['a']);
    expect(Object.keys(composeConfig(file, {}, ['extra']).services)).toEqual(['a', 'b']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's own ${} syntax is what is tested
    const strict = write('services:\n  a:\n    image: "${IMG:?name the image}"\n');
    expect(() => composeConfig(strict, {})).toThrow(/IMG.*name the image/);
  });
});

describe('Dockerfile', () => {
  const stages = dockerfileStages();
  const runtime = stages.get('runtime') ?? [];

  it('runs every app under tini with a HEALTHCHECK, and puts ffmpeg in the two worker images only', () => {
    expect(runtime).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]');
    expect(runtime.some((l) => l.startsWith('HEALTHCHECK') && l.includes('/health'))).toBe(true);
    const parentOf = (stage: string) => stages.get(stage)?.[0]?.split(/\s+/)[1];
    expect(parentOf('video-processor')).toBe('media-runtime');
    expect(parentOf('thumbnail-generator')).toBe('media-runtime');
    expect(parentOf('stream-gateway')).toBe('runtime');
    expect(parentOf('media-runtime')).toBe('runtime');
  });

  it('copies only `pnpm deploy --prod` output into the app images', () => {
    for (const app of APPS) {
      const copies = (stages.get(app) ?? []).filter((l) => l.startsWith('COPY'));
      expect(copies, app).toEqual([`COPY --from=build /out/${app} /app`]);
    }
    expect((stages.get('build') ?? []).join('\n')).toMatch(/deploy --prod/);
  });

  it('keeps secrets, dependencies and build output out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.env', '**/node_modules', '**/dist', '.git']) expect(ignored, entry).toContain(entry);
  });
});
