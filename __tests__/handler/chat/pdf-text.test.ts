import { readPdfText } from "../../../handler/chat/pdf-text";
import { minimalPdf } from "../../support/pdf";

/** The PDF reader in its worker, on PDFs the tests write by hand. */
describe("readPdfText", () => {
  it("reads each page's text layer, lines and all", async () => {
    expect(await readPdfText(minimalPdf(["Hello (world)\nsecond line", "Page two"]), 10_000)).toEqual({
      ok: true,
      pages: ["Hello (world)\nsecond line", "Page two"],
      totalPages: 2,
    });
  });

  it("finds no text on pages that have no text layer (a scan)", async () => {
    expect(await readPdfText(minimalPdf([null, null]), 10_000)).toEqual({ ok: true, pages: ["", ""], totalPages: 2 });
  });

  it("stops after the page that brings the text over maxChars, and says how many pages there are", async () => {
    const pages = Array.from({ length: 30 }, (_, i) => `page ${i + 1} has some words on it`);
    // 27 characters a page: 54 after two, 81 after the third.
    const read = await readPdfText(minimalPdf(pages), 60);
    expect(read).toEqual({ ok: true, pages: pages.slice(0, 3), totalPages: 30 });
  });

  it("says a file that is not a PDF, or a truncated one, is damaged", async () => {
    expect(await readPdfText(Buffer.from("not a pdf at all"), 1_000)).toEqual({ ok: false, problem: "damaged" });
    expect(await readPdfText(minimalPdf(["Hello"]).subarray(0, 200), 1_000)).toEqual({ ok: false, problem: "damaged" });
  });

  it("says an encrypted PDF needs a password", async () => {
    expect(await readPdfText(minimalPdf(["secret"], { encrypted: true }), 1_000)).toEqual({ ok: false, problem: "password" });
  });

  it("ends a reading that runs out of time or heap as too complex", async () => {
    const pdf = minimalPdf(["Hello"]);
    expect(await readPdfText(pdf, 1_000, { timeoutMs: 1 })).toEqual({ ok: false, problem: "too_complex" });
    expect(await readPdfText(pdf, 1_000, { maxHeapMb: 2 })).toEqual({ ok: false, problem: "too_complex" });
  });

  it("rejects when the reader itself cannot be loaded", async () => {
    await expect(readPdfText(minimalPdf(["Hello"]), 1_000, { readerPath: "/nonexistent/pdf-reader.mjs" })).rejects.toThrow(/Cannot find module/);
  });
});
