import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError } from "../../../scripts/lib/cli";
import { parseTfvars, readBotToken } from "../../../scripts/lib/tfvars";
import { TEST_TOKEN } from "../../support/updates";

describe("parseTfvars", () => {
  it("reads quoted strings, numbers and booleans and skips comments", () => {
    const text = [
      "# the bot",
      'telegram_token = "123:abc" # trailing comment',
      "// another comment",
      "lambda_memory_size = 512",
      "enabled=true",
      "/* a block",
      'hidden = "no"',
      "*/",
      "",
    ].join("\n");
    const values = parseTfvars(text);
    expect(Object.fromEntries(values)).toEqual({ telegram_token: "123:abc", lambda_memory_size: "512", enabled: "true" });
  });

  it("unescapes quotes and backslashes inside strings", () => {
    expect(parseTfvars('x = "a \\"b\\" c\\\\d"').get("x")).toBe('a "b" c\\d');
  });

  it("ignores lists, maps and unterminated strings", () => {
    const values = parseTfvars('list = ["a"]\nmap = { a = 1 }\nbad = "open');
    expect(values.size).toBe(0);
  });
});

describe("readBotToken", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tfvars-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("prefers TF_VAR_telegram_token", () => {
    writeFileSync(join(dir, "terraform.tfvars"), 'telegram_token = "from-file"');
    expect(readBotToken({ env: { TF_VAR_telegram_token: TEST_TOKEN }, cwd: dir })).toEqual({ token: TEST_TOKEN, source: "TF_VAR_telegram_token" });
  });

  it("falls back to terraform.tfvars", () => {
    writeFileSync(join(dir, "terraform.tfvars"), `telegram_token = "${TEST_TOKEN}"\n`);
    expect(readBotToken({ env: {}, cwd: dir })).toEqual({ token: TEST_TOKEN, source: "terraform.tfvars" });
  });

  it("says where to put the token when there is none", () => {
    expect(() => readBotToken({ env: {}, cwd: dir })).toThrow(CliError);
    expect(() => readBotToken({ env: {}, cwd: dir })).toThrow(/TF_VAR_telegram_token.*terraform\.tfvars/);
  });
});
