// Shutdown helpers: closing waits for work in flight, but never for ever.

/** Resolves when `work` settles or after `ms`, whichever comes first; never rejects. */
export async function waitAtMost(work: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve(work).catch(() => undefined),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
