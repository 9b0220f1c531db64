import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { latestEvery } from './throttle';

describe('latestEvery', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('reports the first value at once, then the latest one per interval', () => {
    const seen: number[] = [];
    const progress = latestEvery<number>(200, (v) => seen.push(v));
    progress.push(1);
    progress.push(2);
    progress.push(3);
    expect(seen).toEqual([1]);
    vi.advanceTimersByTime(199);
    expect(seen).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([1, 3]);
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([1, 3]);
    progress.push(4);
    expect(seen).toEqual([1, 3, 4]);
  });

  it('reports the flushed value at once and drops what was pending', () => {
    const seen: number[] = [];
    const progress = latestEvery<number>(200, (v) => seen.push(v));
    progress.push(1);
    progress.push(2);
    progress.flush(70);
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([1, 70]);
  });
});
