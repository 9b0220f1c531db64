// Failed authentications per client address in a sliding window: past the limit, the address gets
// 429 without its credentials being checked, which caps password guessing across many accounts
// (per-account lockout lives in the database, see accounts.ts). Kept in memory per node: a node
// restart or another node behind the balancer starts its own count, which only loosens the cap by
// the number of nodes.
export class AddressThrottle {
  private readonly failures = new Map<string, number[]>();
  private sweepAt = 0;

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the address may try again, or 0 when it may try now. */
  retryAfterSeconds(address: string): number {
    const times = this.recent(address);
    if (times.length < this.maxFailures) return 0;
    return Math.max(1, Math.ceil((times[times.length - this.maxFailures]! + this.windowMs - this.now()) / 1000));
  }

  recordFailure(address: string): void {
    const times = this.recent(address);
    times.push(this.now());
    // Only the last maxFailures matter for the decision.
    if (times.length > this.maxFailures) times.splice(0, times.length - this.maxFailures);
    this.failures.set(address, times);
    this.sweep();
  }

  private recent(address: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const times = (this.failures.get(address) ?? []).filter((t) => t > cutoff);
    if (times.length === 0) this.failures.delete(address);
    return times;
  }

  /** Forgets addresses whose failures are all outside the window (bounded memory under a spray of addresses). */
  private sweep(): void {
    const now = this.now();
    if (now < this.sweepAt) return;
    this.sweepAt = now + Math.min(this.windowMs, 60_000);
    const cutoff = now - this.windowMs;
    for (const [address, times] of this.failures) {
      if (times[times.length - 1]! <= cutoff) this.failures.delete(address);
    }
  }
}
