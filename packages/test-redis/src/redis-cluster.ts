import { spawnSync } from 'node:child_process';
import { freePort, type RedisServerHandle, startRedisServer } from './redis-server.js';

/** A local Redis Cluster started for tests: masters only, every slot covered. */
export interface RedisClusterHandle {
  /** Its masters, in slot order. */
  readonly nodes: readonly RedisServerHandle[];
  /** `127.0.0.1:p1,127.0.0.1:p2,…`, the value of `REDIS_CLUSTER_NODES`. */
  readonly seeds: string;
  /** The environment an app needs to use it. */
  readonly env: { REDIS_CLUSTER_NODES: string };
  /** Stops every node and removes their folders. */
  close(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface StartRedisClusterOptions {
  /** Number of masters (3 or more, as `redis-cli --cluster create` asks). @default 3 */
  masters?: number;
  /** Extra redis-server arguments for every node. @default [] */
  args?: string[];
}

function cli(args: string[]): string {
  const r = spawnSync('redis-cli', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`redis-cli is needed for a test cluster: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/**
 * Starts `masters` redis-server processes with `--cluster-enabled yes` (each with its own bus
 * port, so no port + 10000 clash) under the harness's watchdog, joins them with
 * `redis-cli --cluster create` and waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  if (masters < 3) throw new Error('a Redis Cluster needs at least 3 masters');
  const nodes: RedisServerHandle[] = [];
  const close = async () => {
    await Promise.all(nodes.map((n) => n.close()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      const busPort = await freePort();
      nodes.push(
        await startRedisServer({
          args: [
            ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
            ...['--cluster-port', String(busPort), '--cluster-node-timeout', '2000'],
            ...(options.args ?? []),
          ],
        }),
      );
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    cli(['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    const deadline = Date.now() + 15_000;
    for (const node of nodes) {
      while (!cli(['-p', String(node.port), 'cluster', 'info']).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`cluster node ${node.port} did not reach cluster_state:ok`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const seeds = addresses.join(',');
    return { nodes, seeds, env: { REDIS_CLUSTER_NODES: seeds }, close };
  } catch (error) {
    await close();
    throw error;
  }
}
