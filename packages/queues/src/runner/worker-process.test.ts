import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useTestRedis } from '@nself-tv/test-redis';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createProducer } from '../producer.js';
import { optimizeJob, queueTestKit, waitFor } from '../test-helpers.js';

const redis = useTestRedis();
const kit = queueTestKit(redis);
const producer = createProducer({ connection: kit.requestConnection(), keyspace: kit.keyspace });
const queue = new Queue('optimize', { connection: kit.workerConnection(), prefix: kit.keyspace.queuePrefix('image') });
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await producer.close();
  await queue.close();
});

const fixture = fileURLToPath(new URL('../../test/fixtures/worker-process.mjs', import.meta.url));

/** Starts a worker process and resolves once it has said `ready`. */
function startWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, [fixture], {
    env: {
      ...process.env,
      ...redis.env,
      NAMESPACE: redis.namespace,
      QUEUE_IMAGE_OPTIMIZE_LOCK_DURATION_MS: '2000',
      QUEUE_IMAGE_OPTIMIZE_STALLED_INTERVAL_MS: '1000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: string[] = [];
  child.stdout?.on('data', (b: Buffer) => lines.push(...b.toString().trim().split('\n')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, exited, ready: waitFor(() => lines.includes('ready'), 15_000) };
}

describe('worker processes', () => {
  it('SIGKILL mid-job: another worker recovers the stalled job and completes it', async () => {
    const first = startWorker({ JOB_MS: '60000' });
    await first.ready;
    const id = await producer.enqueue('image:optimize', optimizeJob('killed.jpg'));
    await waitFor(() => first.lines.includes(`started ${id}`));
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await (await queue.getJob(id))?.getState()).toBe('active');

    const second = startWorker({ JOB_MS: '100' });
    await second.ready;
    await waitFor(async () => (await (await queue.getJob(id))?.getState()) === 'completed', 30_000);
    expect(second.lines).toContain(`started ${id}`);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);

  it('SIGTERM mid-job that outlives the deadline: exits 0 within the deadline and the job is back in wait', async () => {
    const worker = startWorker({ JOB_MS: '0', DEADLINE_MS: '1000' });
    await worker.ready;
    const id = await producer.enqueue('image:optimize', optimizeJob('term-long.jpg'));
    await waitFor(() => worker.lines.includes(`started ${id}`));
    const t0 = performance.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(1000 + 3000);
    const job = await queue.getJob(id);
    expect(await job?.getState()).toBe('waiting');
    expect(job?.attemptsMade).toBe(0);
    await job?.remove();
  }, 30_000);

  it('SIGTERM mid-job that finishes before the deadline: the job completes, then the process exits 0', async () => {
    const worker = startWorker({ JOB_MS: '700', DEADLINE_MS: '5000' });
    await worker.ready;
    const id = await producer.enqueue('image:optimize', optimizeJob('term-short.jpg'));
    await waitFor(() => worker.lines.includes(`started ${id}`));
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await (await queue.getJob(id))?.getState()).toBe('completed');
  }, 30_000);
});
