export type { HttpErrorCode } from './errors.js';
export {
  errorBodySchema,
  errorDocsProblems,
  errorTable,
  HTTP_ERROR_CODES,
  HTTP_ERRORS,
  HttpError,
  statusOf,
} from './errors.js';
export type { HttpErrorsOptions } from './http.js';
export { frameworkErrors, httpErrors, jsonBodies, OUTAGE_MESSAGES, shared } from './http.js';
export type { MetricsSource, PingableConnection, ProbeOptions } from './probes.js';
export { registerProbes } from './probes.js';
export type { RunningService } from './run-service.js';
export { runService } from './run-service.js';
