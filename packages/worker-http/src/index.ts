export type { DashboardMode, DashboardOptions } from './dashboard.js';
export { dashboardPathProblem, queueDashboard } from './dashboard.js';
export { WORKER_ERROR_CODES } from './openapi.js';
export type { FailureCode } from './retry-policy.js';
export { RETRY_POLICY } from './retry-policy.js';
export type { WorkerValues } from './settings.js';
export { workerSettings } from './settings.js';
export type {
  IngestCompletion,
  WorkerAppOptions,
  WorkerPartProcessors,
  WorkerProcessors,
} from './worker-app.js';
export { runWorkerApp, startWorkerApp, workerAppSettings } from './worker-app.js';
export type { WorkerHttpOptions } from './worker-http.js';
export { WORKER_ROUTER_OPTIONS, workerRoutes } from './worker-http.js';
