import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

/**
 * A request's logger that becomes pino's child logger (with the request id) only when the
 * request writes a line. Fastify makes a child per request, and building one costs more than
 * a heartbeat's own work, while a heartbeat that succeeds writes nothing.
 */
export class RequestLogger implements FastifyBaseLogger {
  readonly #parent: Logger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  /** Fastify's `childLoggerFactory`. */
  static factory(this: void, logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    return new RequestLogger(logger as Logger, bindings, options);
  }

  #logger(): Logger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  /** The logger whose level applies: the child once built (its level may be set), else the parent's. */
  #current(): Logger {
    return this.#child ?? this.#parent;
  }

  #write(level: Level, args: unknown[]): void {
    if (!this.#current().isLevelEnabled(level)) return;
    const logger = this.#logger();
    Reflect.apply(logger[level], logger, args);
  }

  get level(): string {
    return this.#current().level;
  }
  set level(level: string) {
    this.#logger().level = level;
  }
  isLevelEnabled(level: string): boolean {
    return this.#current().isLevelEnabled(level);
  }
  bindings(): Bindings {
    return this.#logger().bindings();
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger().child(bindings, options);
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}
}

/** A request's path for the log: no query (tokens), no playback signature. */
function loggedPath(url: string): string {
  return (url.split('?')[0] ?? '').replace(/^\/play\/([^/]*)\/[^/]*/, '/play/$1/<signature>');
}

/**
 * One log line per request, when it completes, and its id in `X-Request-Id`.
 * Successes of `quietRoute` (the heartbeat: every viewer, every minute,
 * counted in /metrics) are logged at debug; its failures like any other.
 */
export function registerRequestLog(app: FastifyInstance, quietRoute: string): void {
  // Callback hooks: an async hook costs a promise and a microtask on every request.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const level = reply.statusCode < 300 && request.routeOptions.url === quietRoute ? 'debug' : 'info';
    // Quiet heartbeats build no log line at all.
    const log = request.log as FastifyBaseLogger & { isLevelEnabled(level: string): boolean };
    if (!log.isLevelEnabled(level)) return done();
    request.log[level](
      {
        method: request.method,
        url: request.routeOptions.url ?? loggedPath(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
    done();
  });
}
