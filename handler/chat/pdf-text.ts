import { join } from "node:path";
import { Worker } from "node:worker_threads";

/**
 * A PDF's text, read by pdf-reader.mjs in a worker thread started for that one file: the reader
 * (pdf.js, 1.6 MB) is loaded only when a PDF arrives, never at a cold start, and the worker's
 * heap is capped and its time bounded, so a hostile PDF costs at most that worker.
 */

/**
 * The reader's path: beside this file in the source tree (handler/chat/), and beside index.js in
 * the bundle (dist/handler/, where tsup.config.ts builds it and the deployed zip carries it).
 */
export const PDF_READER_PATH = join(__dirname, "pdf-reader.mjs");

/** How a PDF is read. */
export interface PdfReadOptions {
  /** Longest the reading may take, in ms; then the worker is ended. @default PDF_READ_DEFAULTS.timeoutMs (8000) */
  readonly timeoutMs?: number;
  /**
   * The worker's heap (old generation), in MB; running out ends it. Beside the function's own
   * heap, within Lambda's 256 MB. @default PDF_READ_DEFAULTS.maxHeapMb (96)
   */
  readonly maxHeapMb?: number;
  /** The reader script. @default PDF_READER_PATH */
  readonly readerPath?: string;
}

/** Defaults of {@link PdfReadOptions}: a 5 MB PDF of text reads in well under a second. */
export const PDF_READ_DEFAULTS = Object.freeze({ timeoutMs: 8_000, maxHeapMb: 96 });

/** Why a PDF could not be read: a password, a damaged file, or one too large or complex for the time and heap it gets. */
export type PdfProblem = "password" | "damaged" | "too_complex";

/**
 * A PDF's text by page, from the first, as far as it was read (`pages.length` of `totalPages`),
 * or why there is none.
 */
export type PdfText =
  | { readonly ok: true; readonly pages: readonly string[]; readonly totalPages: number }
  | { readonly ok: false; readonly problem: PdfProblem };

/** The reader's answer, checked: it is another thread's message. */
function answerOf(message: unknown): PdfText | undefined {
  const value = message as { pages?: unknown; totalPages?: unknown; problem?: unknown } | null;
  const { pages, totalPages } = value ?? {};
  if (Array.isArray(pages) && pages.every((p) => typeof p === "string") && typeof totalPages === "number") return { ok: true, pages: pages as string[], totalPages };
  if (value?.problem === "password" || value?.problem === "damaged") return { ok: false, problem: value.problem };
  return undefined;
}

/**
 * Reads the text of the PDF `data` in a new worker, page after page, stopping after the page that
 * brings it over `maxChars` (what the model can be given: the rest would cost time and heap for
 * nothing). Resolves with the pages read, or a problem (password, damaged, or too_complex: out
 * of time or heap); rejects when the reader itself failed (it could not be loaded, or broke in a
 * way pdf.js does not name).
 */
export function readPdfText(data: Uint8Array, maxChars: number, options: PdfReadOptions = {}): Promise<PdfText> {
  const { timeoutMs, maxHeapMb } = { ...PDF_READ_DEFAULTS, ...options };
  return new Promise<PdfText>((resolve, reject) => {
    const worker = new Worker(options.readerPath ?? PDF_READER_PATH, {
      workerData: { data, maxChars },
      // Not the parent's flags (tsx's loader, jest's): the reader is plain JavaScript.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
      // pdf.js may still print; the function's log lines are JSON, so its output is dropped.
      stdout: true,
      stderr: true,
    });
    worker.stdout.resume();
    worker.stderr.resume();
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
      void worker.terminate();
    };
    const timer = setTimeout(() => settle(() => resolve({ ok: false, problem: "too_complex" })), timeoutMs);
    worker.once("message", (message: unknown) => {
      const answer = answerOf(message);
      settle(() => (answer ? resolve(answer) : reject(new Error("the PDF reader answered something it should not"))));
    });
    worker.once("error", (err: Error & { code?: string }) => {
      settle(() => (err.code === "ERR_WORKER_OUT_OF_MEMORY" ? resolve({ ok: false, problem: "too_complex" }) : reject(err)));
    });
    worker.once("exit", (code) => settle(() => reject(new Error(`the PDF reader stopped (exit code ${code}) without an answer`))));
  });
}
