// The monitoring files against the real Prometheus (Debian's `prometheus` package): promtool
// checks and unit-tests every alert, and a real Prometheus server scrapes a worker's and a
// gateway's /metrics and must hold every series the dashboard and the alerts use.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJobInspector } from '@nself-tv/queues';
import { createKeyspace, createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { freePort, harnessEnv, useTestRedis } from '@nself-tv/test-redis';
import { afterAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES } from './names.js';
import { createTvMetrics, type TvMetrics } from './tv-metrics.js';

const monitoring = fileURLToPath(new URL('../monitoring/', import.meta.url));
const redis = useTestRedis();
const keyspace = createKeyspace({ namespace: redis.namespace, cluster: redis.cluster });
const connection = createRequestConnection(loadRedisConfig(redis.env), { commandTimeoutMs: 5000 });
const inspector = createJobInspector(connection, keyspace);
const servers: Server[] = [];
let prometheus: ChildProcess | undefined;
let dataDir: string | undefined;
afterAll(async () => {
  prometheus?.kill('SIGKILL');
  for (const s of servers) s.close();
  await inspector.close();
  connection.disconnect();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const promtool = (...args: string[]) => execFileSync('promtool', args, { cwd: monitoring, encoding: 'utf8' });

/** Every metric name the dashboard's panels and the alert rules query. */
async function usedNames(): Promise<string[]> {
  const dashboard = JSON.parse(await readFile(join(monitoring, 'grafana-dashboard.json'), 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
  };
  const rules = (await readFile(join(monitoring, 'alerts.yml'), 'utf8'))
    .split('\n')
    .filter((l) => l.trim().startsWith('expr:'));
  const text = [...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...rules].join('\n');
  return [...new Set(text.match(/\b(?:nself_tv|redis)_[a-z_]+\b/g) ?? [])];
}

async function serve(metrics: TvMetrics): Promise<string> {
  const server = createServer(async (_req, res) => {
    res.setHeader('content-type', metrics.contentType);
    res.end(await metrics.metrics());
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('promtool', () => {
  it('the alert rules are valid, and every alert passes its unit tests', () => {
    expect(promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: \d+ rules found/);
    expect(promtool('test', 'rules', 'alerts.test.yml')).toContain('SUCCESS');
  });

  it('every alert of alerts.yml has a case in alerts.test.yml that fires it', async () => {
    const rules = await readFile(join(monitoring, 'alerts.yml'), 'utf8');
    const tests = await readFile(join(monitoring, 'alerts.test.yml'), 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1] as string);
    expect(alerts.length).toBeGreaterThan(5);
    for (const alert of alerts) {
      const firing = new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`);
      expect(tests, alert).toMatch(firing);
    }
  });
});

describe('a real Prometheus scrape', () => {
  it('holds every series the dashboard and alerts use; counters start at 0; redis *_total are counters', async () => {
    const queues = ['video:transcode', 'video:trickplay', 'video:subtitle'] as const;
    const worker = createTvMetrics({
      queues: { counts: () => inspector.counts(queues) },
      queueNames: queues,
      redis: connection,
      keyspace,
    });
    const gateway = createTvMetrics({ redis: connection, keyspace });
    // What each process has done by the first scrape: a job finished, a cache read, an admission.
    worker.onWorkerEvent({ type: 'completed', queue: 'video:transcode', jobId: 'j', durationMs: 1200 } as never);
    gateway.onCacheEvent({ type: 'hit', entry: 'trending', key: 'cache:trending' } as never);
    gateway.onCacheEvent({ type: 'load', entry: 'trending', key: 'cache:trending', durationMs: 3 } as never);
    gateway.onSessionEvent({ type: 'admit', result: 'admitted' } as never);

    const text = await worker.metrics();
    // Exported before any failure, at 0: the first failure is an increase Prometheus can see.
    expect(text).toContain('nself_tv_queue_jobs_failed_total{queue="video:trickplay"} 0');
    expect(text).toContain('nself_tv_queue_jobs_stalled_total{queue="video:transcode"} 0');
    for (const name of ['redis_commands_processed_total', 'redis_keyspace_hits_total', 'redis_keyspace_misses_total']) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
    // promtool's own lint of the exposition (names, help, types).
    const lint = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let said = '';
    lint.stdout.on('data', (b) => {
      said += b;
    });
    lint.stderr.on('data', (b) => {
      said += b;
    });
    lint.stdin.end(text);
    await new Promise((ok) => lint.once('close', ok));
    // prom-client's own Node metrics name three gauges *_total; everything of ours passes.
    expect(said.split('\n').filter((l) => l && !l.startsWith('nodejs_'))).toEqual([]);

    const targets = [await serve(worker), await serve(gateway)];
    dataDir = await mkdtemp(join(tmpdir(), 'prometheus-'));
    const port = await freePort();
    const config = join(dataDir, 'prometheus.yml');
    await writeFile(
      config,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: nself-tv\n    static_configs:\n      - targets: ${JSON.stringify(targets)}\n`,
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dataDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore', env: { ...process.env, ...harnessEnv() } },
    );
    const used = await usedNames();
    const want = used.filter((n) => Object.values(METRIC_NAMES).some((m) => n === m || n.startsWith(`${m}_`)));
    expect(want.length).toBe(used.length);
    let have: string[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/label/__name__/values`);
        have = ((await res.json()) as { data: string[] }).data;
        if (want.every((n) => have.includes(n))) break;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(want.filter((n) => !have.includes(n))).toEqual([]);
  }, 60_000);
});
