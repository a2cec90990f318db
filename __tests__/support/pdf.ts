/**
 * Small PDFs written by hand for the tests: a catalog, a page tree, one Helvetica font and a
 * page per entry, each with a content stream, and a cross-reference table whose offsets are
 * counted as the file is written. A page given as text shows it (`BT /F1 12 Tf (...) Tj ET`, one
 * line per \n); a page given as `null` only draws a line, as a scan without a text layer has
 * pictures and no text.
 */

/** One page: its text (lines apart by \n), or null for a page with no text layer. */
export type PdfPage = string | null;

/** Escapes a PDF literal string's specials. */
const literal = (text: string) => text.replace(/[\\()]/g, (c) => `\\${c}`);

/** The content stream of a page. */
function contentOf(page: PdfPage): string {
  if (page === null) return "0.5 w 72 720 m 540 72 l S";
  const lines = page.split("\n").map((line) => `(${literal(line)}) Tj`);
  return `BT /F1 12 Tf 14 TL 72 720 Td ${lines.join(" T* ")} ET`;
}

/** Options of {@link minimalPdf}. */
export interface PdfOptions {
  /**
   * Encrypt it, as far as a reader can tell: a standard security handler whose user password is
   * not empty (its /U matches no password), so opening it asks for one. @default false
   */
  readonly encrypted?: boolean;
}

/** A valid PDF 1.4 file with these pages (Latin-1 text). */
export function minimalPdf(pages: readonly PdfPage[], options: PdfOptions = {}): Buffer {
  const bodies: string[] = ["", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"];
  const kids: number[] = [];
  for (const page of pages) {
    const stream = contentOf(page);
    bodies.push(`<< /Length ${Buffer.byteLength(stream, "latin1")} >>\nstream\n${stream}\nendstream`);
    const content = bodies.length;
    bodies.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${content} 0 R >>`);
    kids.push(bodies.length);
  }
  bodies[0] = "<< /Type /Catalog /Pages 2 0 R >>";
  bodies[1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(" ")}] /Count ${kids.length} >>`;
  let out = "%PDF-1.4\n";
  const offsets = bodies.map((body, i) => {
    const offset = Buffer.byteLength(out, "latin1");
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return offset;
  });
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${bodies.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")}`;
  const id = "0123456789abcdef0123456789abcdef";
  const encrypt = options.encrypted ? ` /Encrypt << /Filter /Standard /V 1 /R 2 /O <${id}${id}> /U <${id}${id}> /P -4 >> /ID [<${id}> <${id}>]` : "";
  out += `trailer\n<< /Size ${bodies.length + 1} /Root 1 0 R${encrypt} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}
