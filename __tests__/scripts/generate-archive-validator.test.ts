import { readFileSync } from "node:fs";
import { ARCHIVE_VALIDATOR_PATH, archiveValidatorSource } from "../../scripts/generate-archive-validator";

describe("generate-archive-validator", () => {
  it("the committed validator is what ARCHIVE_SCHEMA generates today (run `npm run generate` after a schema change)", () => {
    expect(readFileSync(ARCHIVE_VALIDATOR_PATH, "utf8")).toBe(archiveValidatorSource());
  });
});
