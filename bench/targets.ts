/**
 * The issues' performance targets and their verdicts. Pure: figures in, PASS/MISS out.
 */

/** The figures the targets are judged on. */
export interface TargetInputs {
  /** Median module load time of the bundle in a fresh node process, in ms (already "over bare node": measured inside it). */
  readonly coldLoadMs: number | undefined;
  /** Size of dist/handler/index.js, in bytes. */
  readonly bundleBytes: number | undefined;
  /** p99 of the warm handler time of a chat message, in ms. */
  readonly chatP99Ms: number | undefined;
  /** AWS requests per chat message, one figure per (sessions, history) combination measured. */
  readonly chatRequests: readonly number[];
  /** The slowest stop measured, from the stop reaching the bot to the end of the model request, in ms (issue 14). */
  readonly worstStopMs: number | undefined;
  /** Stopped answers that did not end as stopped (the model request not ended by the bot, or no "(stopped)"). @default 0 */
  readonly unstoppedAnswers?: number;
  /** Per provider, the median first text after the model's first token, in ms (the slowest is a container's first answer, its connection included). @default - not measured */
  readonly firstTextByProvider?: Readonly<Record<string, number>>;
}

/** One target's verdict. */
export interface Verdict {
  readonly target: string;
  /** The limit in words, e.g. "<= 60 ms". */
  readonly limit: string;
  /** The measured figure in words; "not measured" when it was skipped. */
  readonly actual: string;
  /** PASS, MISS, or SKIP when not measured. */
  readonly result: "PASS" | "MISS" | "SKIP";
}

/** The limits of issue 5, and issue 14's for a stop. */
export const TARGETS = Object.freeze({
  coldLoadOverBareNodeMs: 60,
  bundleKilobytes: 600,
  chatP99Ms: 15,
  stopToModelEndMs: 1_500,
  firstTextAfterFirstTokenMs: 50,
});

const verdict = (ok: boolean): "PASS" | "MISS" => (ok ? "PASS" : "MISS");

/** Judges the measured figures against {@link TARGETS}. */
export function evaluateTargets(inputs: TargetInputs): Verdict[] {
  const out: Verdict[] = [];
  out.push(
    inputs.coldLoadMs === undefined
      ? { target: "cold load over bare node", limit: `<= ${TARGETS.coldLoadOverBareNodeMs} ms`, actual: "not measured", result: "SKIP" }
      : {
          target: "cold load over bare node",
          limit: `<= ${TARGETS.coldLoadOverBareNodeMs} ms`,
          actual: `${inputs.coldLoadMs.toFixed(1)} ms`,
          result: verdict(inputs.coldLoadMs <= TARGETS.coldLoadOverBareNodeMs),
        },
  );
  out.push(
    inputs.bundleBytes === undefined
      ? { target: "bundle size", limit: `<= ${TARGETS.bundleKilobytes} KB`, actual: "not measured", result: "SKIP" }
      : {
          target: "bundle size",
          limit: `<= ${TARGETS.bundleKilobytes} KB`,
          actual: `${(inputs.bundleBytes / 1024).toFixed(1)} KB`,
          result: verdict(inputs.bundleBytes <= TARGETS.bundleKilobytes * 1024),
        },
  );
  out.push(
    inputs.chatP99Ms === undefined
      ? { target: "warm p99, chat message", limit: `<= ${TARGETS.chatP99Ms} ms`, actual: "not measured", result: "SKIP" }
      : {
          target: "warm p99, chat message",
          limit: `<= ${TARGETS.chatP99Ms} ms`,
          actual: `${inputs.chatP99Ms.toFixed(2)} ms`,
          result: verdict(inputs.chatP99Ms <= TARGETS.chatP99Ms),
        },
  );
  const distinct = [...new Set(inputs.chatRequests)].sort((a, b) => a - b);
  out.push(
    distinct.length === 0
      ? { target: "requests per chat message", limit: "constant in sessions and history", actual: "not measured", result: "SKIP" }
      : {
          target: "requests per chat message",
          limit: "constant in sessions and history",
          actual: distinct.length === 1 ? `${distinct[0]} everywhere` : `varies: ${distinct.join(", ")}`,
          result: verdict(distinct.length === 1),
        },
  );
  const unstopped = inputs.unstoppedAnswers ?? 0;
  const stop = { target: "stop to end of model request, slowest", limit: `< ${TARGETS.stopToModelEndMs} ms` };
  out.push(
    inputs.worstStopMs === undefined
      ? { ...stop, actual: "not measured", result: "SKIP" }
      : unstopped > 0
        ? { ...stop, actual: `${unstopped} answer(s) not stopped`, result: "MISS" }
        : { ...stop, actual: `${Math.round(inputs.worstStopMs)} ms`, result: verdict(inputs.worstStopMs < TARGETS.stopToModelEndMs) },
  );
  for (const [provider, ms] of Object.entries(inputs.firstTextByProvider ?? {})) {
    const limit = `<= ${TARGETS.firstTextAfterFirstTokenMs} ms`;
    out.push({ target: `first text after the first token, ${provider}, p50`, limit, actual: `${Math.round(ms)} ms`, result: verdict(ms <= TARGETS.firstTextAfterFirstTokenMs) });
  }
  return out;
}
