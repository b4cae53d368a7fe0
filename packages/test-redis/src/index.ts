export type { AppProcess, JsonReply } from './app-process.js';
export { jobApi, killAppProcesses, processesMatching, startAppProcess, until } from './app-process.js';
export type { HarnessProcess } from './harness-processes.js';
export { HARNESS_MARKER, HARNESS_TITLE, harnessEnv, harnessProcesses } from './harness-processes.js';
export { runReadmeExample } from './readme-example.js';
export type { RedisServerHandle, StartRedisOptions } from './redis-server.js';
export { freePort, hasRedisServer, REDIS_MISSING_MESSAGE, startRedisServer } from './redis-server.js';
export type { TestRedis } from './test-redis.js';
export { scanKeys, uniqueNamespace, useTestRedis } from './test-redis.js';
