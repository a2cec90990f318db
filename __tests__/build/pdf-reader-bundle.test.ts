import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { readPdfText } from "../../handler/chat/pdf-text";
import { minimalPdf } from "../support/pdf";

const run = promisify(execFile);

/**
 * The PDF reader as tsup builds it: a file of its own beside index.js (the deployed zip is the
 * whole folder), self-contained (it reads a PDF from a folder with no node_modules anywhere
 * above it), and not inside index.js, so a cold start never loads pdf.js.
 */
describe("dist/handler/pdf-reader.mjs (the built PDF reader)", () => {
  let outDir: string;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), "pdf-reader-bundle-"));
    // The project's tsup config, written to a temporary folder so dist/ of a parallel build is untouched.
    await run("npx", ["tsup", "--out-dir", outDir], { cwd: join(__dirname, "../.."), env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
  }, 120_000);
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it("is built beside index.js", async () => {
    expect((await readdir(outDir)).sort()).toEqual(["index.js", "pdf-reader.mjs"]);
  });

  it("reads a PDF with nothing but itself", async () => {
    const read = await readPdfText(minimalPdf(["Built and bundled"]), 1_000, { readerPath: join(outDir, "pdf-reader.mjs") });
    expect(read).toEqual({ ok: true, pages: ["Built and bundled"], totalPages: 1 });
  });

  it("leaves pdf.js out of index.js, which only names the reader's file", async () => {
    const index = await readFile(join(outDir, "index.js"), "utf8");
    expect(index).toContain('"pdf-reader.mjs"');
    expect(index).not.toContain("PasswordException");
  });
});
