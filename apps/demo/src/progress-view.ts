import type { IngestState } from '@nself-tv/queues';

/** Shows an ingest's progress: redrawn bars on a terminal, plain lines otherwise. */
export interface ProgressView {
  update(state: IngestState): void;
  /** Leaves the last picture on screen. */
  end(): void;
}

const BAR = 24;
const bar = (percent: number) => {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * BAR);
  return `${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}`;
};
const pct = (n: number) => `${String(Math.floor(n)).padStart(3)}%`;

/** Seconds left of a running stage (from its finished chunks), and since when the film plays. */
const eta = (s: IngestState['stages'][number]) =>
  s.status === 'running' && s.etaSeconds !== undefined ? `  ~${s.etaSeconds} s left` : '';
const playable = (state: IngestState) =>
  state.playableAt === undefined
    ? ''
    : `  playable after ${((state.playableAt - state.createdAt) / 1000).toFixed(1)} s`;

function lines(state: IngestState): string[] {
  const out = [
    `ingest ${state.ingestId}  ${bar(state.progress)} ${pct(state.progress)}  ${state.status}${playable(state)}`,
  ];
  for (const s of state.stages) {
    const job = s.jobId ? `  job ${s.jobId}` : '';
    out.push(`  ${s.name.padEnd(10)} ${bar(s.progress)} ${pct(s.progress)}  ${s.status.padEnd(9)}${job}${eta(s)}`);
  }
  return out;
}

/**
 * On a terminal, the picture is redrawn in place; elsewhere (CI, a pipe, a
 * file) a line is printed when a stage changes status or passes a quarter.
 */
export function createProgressView(write: (text: string) => void, tty: boolean): ProgressView {
  let drawn = 0;
  const seen = new Map<string, string>();
  return {
    update(state) {
      if (tty) {
        const picture = lines(state);
        write(`${drawn ? `\x1b[${drawn}A` : ''}${picture.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
        drawn = picture.length;
        return;
      }
      for (const s of state.stages) {
        const mark = `${s.status}:${s.status === 'running' ? Math.floor(s.progress / 25) * 25 : ''}`;
        if (seen.get(s.name) === mark) continue;
        seen.set(s.name, mark);
        if (s.status === 'pending' && !seen.has(`${s.name}:printed`)) continue;
        seen.set(`${s.name}:printed`, 'y');
        const job = s.jobId ? ` (job ${s.jobId})` : '';
        const error = s.error ? `: ${s.error}` : '';
        write(
          `[ingest] ${s.name} ${s.status} ${Math.floor(s.progress)}%${job}${error}${eta(s)}  overall ${Math.floor(state.progress)}%${playable(state)}\n`,
        );
      }
    },
    end() {
      drawn = 0;
    },
  };
}
