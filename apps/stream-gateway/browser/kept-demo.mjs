// The browser tests' real apps: the demo run with --keep (Redis, the three apps and a real
// ingest, left running), and how to stop what it left.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';

const repo = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');

/**
 * Runs `npm run demo -- <args> --keep --dir <dir>` with `env` added, and answers what it left
 * running (running.json), the gateway's address and `stop()`. Throws with the demo's output
 * when it fails.
 */
export async function keptDemo(dir, args, env = {}) {
  const demo = spawnSync(process.execPath, [join(repo, 'apps/demo/dist/main.js'), ...args, '--keep', '--dir', dir], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (demo.status !== 0) throw new Error(`the demo failed:\n${demo.stdout}\n${demo.stderr}`);
  const running = JSON.parse(await readFile(join(dir, 'running.json'), 'utf8'));
  const stop = () => {
    for (const pid of [...running.apps.map((a) => -a.pid), running.redisPid].filter(Boolean)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
    }
  };
  return { running, gateway: running.apps.find((a) => a.name === 'stream-gateway').address, stop };
}

/** The demo family's caller token, as the web app would hold it (HS256, Hasura claims, 1 h). */
export function callerTokenFor(running) {
  return new SignJWT({
    'https://hasura.io/jwt/claims': {
      'x-hasura-user-id': 'demo-user',
      'x-hasura-family-id': running.familyId,
      'x-hasura-default-role': 'user',
    },
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('demo-user')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(running.secrets.AUTH_JWT_SECRET));
}
