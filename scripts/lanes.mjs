// Runs commands side by side, each one's output line by line behind its name: what `npm test`'s
// two lanes and the Node-line matrix share.
import { spawn } from 'node:child_process';

/**
 * Runs `command args` with its lines prefixed `[name] `, handing each line to `onLine` too.
 * Resolves with whether it exited 0 and how many seconds it took.
 */
export function runPrefixed(name, command, args, { env = process.env, onLine = () => {} } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = (stream, out) => {
      let rest = '';
      stream.on('data', (b) => {
        const lines = (rest + b.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          onLine(line);
          out.write(`[${name}] ${line}\n`);
        }
      });
      stream.on('end', () => rest && out.write(`[${name}] ${rest}\n`));
    };
    relay(child.stdout, process.stdout);
    relay(child.stderr, process.stderr);
    child.on('close', (code) => resolve({ ok: code === 0, seconds: Math.round((Date.now() - started) / 1000) }));
  });
}
