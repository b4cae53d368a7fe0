export type { SessionErrorCode } from './errors.js';
export { SessionError } from './errors.js';
export type { AdmitResult, EndResult, HeartbeatResult, Session } from './session.js';
export { sessionSchema } from './session.js';
export type { AdmitRequest, Caller, SessionEvent, SessionStore, SessionStoreOptions } from './session-store.js';
export { createSessionStore, SESSION_DEFAULTS } from './session-store.js';
