// Progress that changes many times a second, told at a pace the page can afford: each report
// redraws part of the page, and without a GPU every redraw is a frame composited on the CPU,
// taken from the decoding and the transfers that the progress is about.

export interface LatestEvery<T> {
  /** A new value: reported now if the last report is older than the interval, else at its end. */
  push(value: T): void;
  /** The final value: reported now, and nothing pending is reported after it. */
  flush(value: T): void;
}

/** Reports the latest value pushed at most once per `intervalMs`, and the flushed one at once. */
export function latestEvery<T>(intervalMs: number, report: (value: T) => void): LatestEvery<T> {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: { value: T } | undefined;
  const send = (value: T) => {
    last = Date.now();
    pending = undefined;
    report(value);
  };
  return {
    push(value) {
      if (timer !== undefined) {
        pending = { value };
        return;
      }
      const wait = last + intervalMs - Date.now();
      if (wait <= 0) {
        send(value);
        return;
      }
      pending = { value };
      timer = setTimeout(() => {
        timer = undefined;
        if (pending) send(pending.value);
      }, wait);
    },
    flush(value) {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      send(value);
    },
  };
}
