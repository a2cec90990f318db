/**
 * Time as the live reply sees it, so tests can drive it with a fake clock instead of waiting.
 */
export interface Clock {
  /** Milliseconds since some fixed point (only differences matter). */
  now(): number;
  /**
   * Resolves after `ms` milliseconds, or as soon as `signal` aborts (then without error), so a
   * finished reply leaves no timer behind.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Real time: `Date.now()` and `setTimeout`, cleared when the signal aborts. */
export const realClock: Clock = Object.freeze({
  now: () => Date.now(),
  sleep: (ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
    }),
});
