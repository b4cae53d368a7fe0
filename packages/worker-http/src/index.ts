export type { WorkerHttpOptions } from './worker-http.js';
export { registerWorkerRoutes } from './worker-http.js';
