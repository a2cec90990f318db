/**
 * Reads the text layer of a PDF, in a worker thread that handler/chat/pdf-text.ts starts only
 * when a PDF arrives. The reader is pdf.js in unpdf's serverless build (no worker of its own to
 * fetch, no canvas): 1.6 MB that never weighs on a cold start, since tsup builds this file into
 * dist/handler/pdf-reader.mjs beside index.js (tsup.config.ts) and nothing loads it before a PDF.
 *
 * Why a worker and plain JavaScript: unpdf ships pdf.js as an ES module only, which neither the
 * bundle's CommonJS nor Jest's module runtime can load in-process on Node 20 (as with
 * local/sqs-emulator-worker.mjs); and a worker has a heap of its own, capped by its caller, who
 * ends it at a deadline, so a hostile PDF can exhaust only that.
 *
 * workerData: { data: Uint8Array, maxChars: number }. Posts { pages: string[], totalPages: number }:
 * the text of each page in order, up to the first page that brings it over maxChars; or
 * { problem: "password" | "damaged" } when pdf.js refuses the file; any other failure is thrown
 * (the caller gets the worker's error event).
 */
import { parentPort, workerData } from "node:worker_threads";
import { getDocumentProxy } from "unpdf";

try {
  // verbosity 0, errors only: pdf.js warns about fonts it cannot load, which reading text does not need.
  const pdf = await getDocumentProxy(workerData.data, { verbosity: 0 });
  const pages = [];
  let chars = 0;
  // One page at a time, each let go once read (all at once, as unpdf's extractText does, needs
  // several times the heap), and no further than the text the model can be given.
  for (let number = 1; number <= pdf.numPages && chars <= workerData.maxChars; number += 1) {
    const page = await pdf.getPage(number);
    const content = await page.getTextContent();
    const text = content.items.map((item) => ("str" in item ? item.str + (item.hasEOL ? "\n" : "") : "")).join("");
    pages.push(text);
    chars += text.length;
    page.cleanup();
  }
  parentPort.postMessage({ pages, totalPages: pdf.numPages });
} catch (error) {
  const name = typeof error?.name === "string" ? error.name : "";
  if (name === "PasswordException") parentPort.postMessage({ problem: "password" });
  else if (name === "InvalidPDFException" || name === "FormatError") parentPort.postMessage({ problem: "damaged" });
  else throw error;
}
