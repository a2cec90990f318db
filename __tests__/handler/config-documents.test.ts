import { loadConfig } from "../../handler/config";
import { TELEGRAM_GET_FILE_LIMIT_BYTES } from "../../config/defaults";

const complete = { TELEGRAM_TOKEN: "123456:abc", S3_BUCKET_NAME: "bucket", OLLAMA_URL: "http://127.0.0.1:11434/" };

describe("loadConfig: DOCUMENT_MAX_BYTES", () => {
  it("is 5 MB by default", () => {
    expect(loadConfig(complete).maxDocumentBytes).toBe(5 * 1024 * 1024);
  });

  it("takes a whole number of bytes from 1024", () => {
    expect(loadConfig({ ...complete, DOCUMENT_MAX_BYTES: "1048576" }).maxDocumentBytes).toBe(1048576);
    const small = loadConfig({ ...complete, DOCUMENT_MAX_BYTES: "12" });
    expect(small.maxDocumentBytes).toBe(5 * 1024 * 1024);
    expect(small.problems).toEqual([{ variable: "DOCUMENT_MAX_BYTES", message: 'DOCUMENT_MAX_BYTES must be a whole number >= 1024, got "12"; using 5242880' }]);
  });

  it("lowers one over Telegram's 20 MB getFile limit to it, saying so", () => {
    const large = loadConfig({ ...complete, DOCUMENT_MAX_BYTES: String(30 * 1024 * 1024) });
    expect(large.maxDocumentBytes).toBe(TELEGRAM_GET_FILE_LIMIT_BYTES);
    expect(large.problems).toEqual([
      { variable: "DOCUMENT_MAX_BYTES", message: `DOCUMENT_MAX_BYTES may be at most ${TELEGRAM_GET_FILE_LIMIT_BYTES} (Telegram's getFile limit), got ${30 * 1024 * 1024}; using that` },
    ]);
  });
});
