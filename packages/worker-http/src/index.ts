export type { DashboardMode, DashboardOptions } from './dashboard.js';
export { dashboardPathProblem, registerQueueDashboard } from './dashboard.js';
export type { ProbeOptions, RunningService } from './service.js';
export { ConfigError, configFrom, parseEnv, registerProbes, runService, serviceEnvFields } from './service.js';
export type { WorkerAppOptions, WorkerLimits, WorkerPartProcessors, WorkerProcessors } from './worker-app.js';
export { runWorkerApp, startWorkerApp } from './worker-app.js';
export type { WorkerHttpOptions } from './worker-http.js';
export { registerWorkerRoutes, WORKER_ROUTER_OPTIONS } from './worker-http.js';
