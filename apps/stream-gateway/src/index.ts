export type { GatewayDeps } from './app.js';
export { buildGateway } from './app.js';
export type { GatewayConfig } from './config.js';
export { ConfigError, gatewayAppSettings, gatewaySettings, loadGatewayConfig } from './config.js';
