import { INGEST_LIMITS, type IngestLimits } from '@nself-tv/queues';
import { ConfigError, defineSettings, wholeNumber } from '@nself-tv/service/settings';
import { z } from 'zod';
import { type DashboardMode, dashboardPathProblem } from './dashboard.js';

const token = z.string().min(16, 'must be at least 16 characters').optional();

/** What {@link workerSettings} reads. */
export interface WorkerValues {
  apiToken: string | undefined;
  readToken: string | undefined;
  /** Off, or how the dashboard opens and the tokens that open it. */
  dashboard: { mode: DashboardMode; path: string; tokens: string[] } | undefined;
  shutdownDeadlineMs: number;
  ingestLimits: IngestLimits;
}

/** The worker runner's own variables: the job API's tokens, the dashboard, shutdown and ingest limits. */
export const workerSettings = defineSettings(
  'Worker apps (video-processor, thumbnail-generator)',
  {
    API_TOKEN: token.meta({
      description:
        'Bearer token for `POST /api/v1/jobs/*` and `GET /api/v1/jobs/:id` (16+ characters); unset disables the job API (403) and says so.',
    }),
    API_READ_TOKEN: token.meta({
      description: 'A second token (16+ characters) that may only read jobs (`GET /api/v1/jobs/:id`).',
    }),
    DASHBOARD: z.enum(['off', 'read-only', 'read-write']).default('off').meta({
      description:
        'Queue dashboard (bull-board) of all six queues: `read-only` (look, inspect jobs and failure reasons) or `read-write` (also retry, remove, promote, clean, pause).',
    }),
    DASHBOARD_TOKEN: token.meta({
      description:
        'Its own token (16+ characters); unset: `API_TOKEN` opens it (and `API_READ_TOKEN` when read-only). A dashboard without any token refuses to start.',
    }),
    DASHBOARD_PATH: z
      .string()
      .default('/admin/queues')
      .superRefine((path, ctx) => {
        const problem = dashboardPathProblem(path);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .meta({
        description: 'Where it is served (lowercase segments; not under `/api`, `/health`, `/ready`, `/metrics`).',
      }),
    SHUTDOWN_DEADLINE_MS: wholeNumber(0, 86_400_000).default(30_000).meta({
      description: 'After SIGTERM, running jobs get this long; the rest go back to wait without using an attempt.',
    }),
    INGEST_RATE_PER_FAMILY_PER_MINUTE: wholeNumber(1, 100_000)
      .default(INGEST_LIMITS.perFamilyPerMinute)
      .meta({ description: 'video-processor: new ingests a family may start per minute (429 beyond).' }),
    INGEST_MAX_WAITING: wholeNumber(1, 1_000_000)
      .default(INGEST_LIMITS.maxWaiting)
      .meta({ description: 'video-processor: transcodes waiting overall before new ingests get 429.' }),
  },
  (v): WorkerValues => {
    // The dashboard is never open to everyone: its own token, or the app's.
    const tokens = v.DASHBOARD_TOKEN
      ? [v.DASHBOARD_TOKEN]
      : [v.API_TOKEN, v.DASHBOARD === 'read-only' ? v.API_READ_TOKEN : undefined].filter(
          (t): t is string => t !== undefined,
        );
    if (v.DASHBOARD !== 'off' && tokens.length === 0) {
      throw new ConfigError([{ variable: 'DASHBOARD', message: `${v.DASHBOARD} needs DASHBOARD_TOKEN or API_TOKEN` }]);
    }
    return {
      apiToken: v.API_TOKEN,
      readToken: v.API_READ_TOKEN,
      dashboard: v.DASHBOARD === 'off' ? undefined : { mode: v.DASHBOARD, path: v.DASHBOARD_PATH, tokens },
      shutdownDeadlineMs: v.SHUTDOWN_DEADLINE_MS,
      ingestLimits: { perFamilyPerMinute: v.INGEST_RATE_PER_FAMILY_PER_MINUTE, maxWaiting: v.INGEST_MAX_WAITING },
    };
  },
);
