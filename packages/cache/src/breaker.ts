/** Circuit breaker settings. */
export interface BreakerOptions {
  /** Consecutive Redis failures (errors or timeouts) that open the breaker. @default 5 */
  failureThreshold?: number;
  /** How long an open breaker skips Redis before letting one call probe it. @default 5000 */
  cooldownMs?: number;
}

/**
 * Stops calling a dead Redis for a while. Closed: every call goes through.
 * Open: calls are skipped until the cooldown ends. Half-open: one probe goes
 * through; success closes the breaker, failure opens it again.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private probing = false;
  private readonly threshold: number;
  private readonly cooldownMs: number;

  constructor(
    options: BreakerOptions,
    private readonly onChange: (open: boolean) => void,
  ) {
    this.threshold = options.failureThreshold ?? 5;
    this.cooldownMs = options.cooldownMs ?? 5000;
  }

  /** True when a Redis call may be made now. */
  allow(): boolean {
    if (this.failures < this.threshold) return true;
    if (Date.now() < this.openUntil || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    const wasOpen = this.failures >= this.threshold;
    this.failures = 0;
    this.probing = false;
    if (wasOpen) this.onChange(false);
  }

  failure(): void {
    this.probing = false;
    this.failures += 1;
    if (this.failures >= this.threshold) {
      const opening = Date.now() >= this.openUntil;
      this.openUntil = Date.now() + this.cooldownMs;
      if (opening && this.failures === this.threshold) this.onChange(true);
    }
  }

  get isOpen(): boolean {
    return this.failures >= this.threshold;
  }
}
