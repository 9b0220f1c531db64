import { describe, expect, it } from 'vitest';
import { AddressThrottle } from './throttle.js';

describe('AddressThrottle', () => {
  it('refuses an address after maxFailures within the window, and forgives as failures age out', () => {
    let now = 1_000_000;
    const throttle = new AddressThrottle(3, 60_000, () => now);
    for (let i = 0; i < 2; i++) {
      throttle.recordFailure('10.0.0.1');
      now += 10_000;
    }
    expect(throttle.retryAfterSeconds('10.0.0.1')).toBe(0);
    throttle.recordFailure('10.0.0.1');
    // Failures at t0, t0+10 s, t0+20 s; now t0+20 s: the oldest leaves the window at t0+60 s.
    expect(throttle.retryAfterSeconds('10.0.0.1')).toBe(40);
    expect(throttle.retryAfterSeconds('10.0.0.2'), 'other addresses are not affected').toBe(0);
    now += 40_000;
    expect(throttle.retryAfterSeconds('10.0.0.1')).toBe(0);
  });

  it('keeps memory bounded: only the last failures per address, and idle addresses are forgotten', () => {
    let now = 0;
    const throttle = new AddressThrottle(2, 1000, () => now);
    for (let i = 0; i < 100; i++) throttle.recordFailure('10.0.0.9');
    expect((throttle as unknown as { failures: Map<string, number[]> }).failures.get('10.0.0.9')).toHaveLength(2);
    for (let i = 0; i < 50; i++) throttle.recordFailure(`192.168.0.${i}`);
    now += 70_000;
    throttle.recordFailure('172.16.0.1');
    expect((throttle as unknown as { failures: Map<string, number[]> }).failures.size).toBe(1);
  });
});
