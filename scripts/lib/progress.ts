/**
 * A progress indicator without a package: on a terminal a spinner with the elapsed time,
 * redrawn in place; elsewhere (a log, a test) one dot per step and the time at the end.
 */
import type { TextSink } from "./cli";

/** Spinner frames. */
export const SPINNER_FRAMES: readonly string[] = ["|", "/", "-", "\\"];

/** "1m 05s" / "42s" for a duration in ms. Pure. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s`;
}

/** One frame of the spinner line. Pure. */
export function formatSpinnerLine(frame: number, label: string, elapsedMs: number): string {
  return `${SPINNER_FRAMES[frame % SPINNER_FRAMES.length]} ${label} ${formatElapsed(elapsedMs)}`;
}

/** A running indicator. */
export interface Progress {
  /** Marks one step (one poll); updates the label when given. */
  step(label?: string): void;
  /** Ends the indicator with a final line. */
  done(message: string): void;
}

/** Options of {@link startProgress}. */
export interface ProgressOptions {
  /** Redraw a spinner in place (a terminal). @default sink.isTTY */
  readonly interactive?: boolean;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
  /** Spinner redraw interval, in ms. @default 120 */
  readonly frameMs?: number;
}

/** Starts an indicator on `sink` (stderr) with a label such as "waiting for the instance". */
export function startProgress(sink: TextSink & { isTTY?: boolean }, label: string, options: ProgressOptions = {}): Progress {
  const now = options.now ?? Date.now;
  const interactive = options.interactive ?? Boolean(sink.isTTY);
  const started = now();
  let current = label;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => {
    sink.write(`\r\x1b[2K${formatSpinnerLine(frame++, current, now() - started)}`);
  };
  if (interactive) {
    draw();
    timer = setInterval(draw, options.frameMs ?? 120);
    timer.unref();
  } else {
    sink.write(`${label} `);
  }
  return {
    step(next) {
      if (interactive) {
        if (next !== undefined) current = next;
        draw();
      } else {
        if (next !== undefined && next !== current) {
          current = next;
          sink.write(`\n${next} `);
        }
        sink.write(".");
      }
    },
    done(message) {
      if (timer) clearInterval(timer);
      const elapsed = formatElapsed(now() - started);
      sink.write(interactive ? `\r\x1b[2K${message} (${elapsed})\n` : ` ${message} (${elapsed})\n`);
    },
  };
}
