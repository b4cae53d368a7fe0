export type { WorkerAppOptions, WorkerLimits, WorkerProcessors } from './worker-app.js';
export { runWorkerApp } from './worker-app.js';
export type { WorkerHttpOptions } from './worker-http.js';
export { registerWorkerRoutes } from './worker-http.js';
