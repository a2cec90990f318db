import { build } from "esbuild";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { awsSdkSchemaKeys, awsSdkSha1Native, inlineSchemaKeys, mnemonistLruAsMap, undiciHttp1Only, undiciLlhttpSimdOnly } from "../../build/bundle-plugins";

describe("inlineSchemaKeys", () => {
  const source = [
    'const _h = "http";',
    'const _xN = "xmlName";',
    'const _q = "say \\"hi\\"";',
    "export var Used$ = [9, n0, _U, { [_h]: [\"GET\", \"/\", 200] }, () => Input$];",
    "export var Other$ = [3, n0, _O, { [_xN]: _B, [_q]: 1, [unknown]: 2 }];",
  ].join("\n");

  it("writes each computed key that names a string constant as that string", () => {
    const { contents, replaced } = inlineSchemaKeys(source);
    expect(replaced).toBe(3);
    expect(contents).toContain('{ ["http"]: ["GET", "/", 200] }');
    expect(contents).toContain('{ ["xmlName"]: _B, ["say \\"hi\\""]: 1, [unknown]: 2 }');
  });

  it("lets esbuild drop the schemas nobody imports", async () => {
    const dir = await mkdtemp(join(tmpdir(), "schema-keys-"));
    try {
      const schemas = join(dir, "node_modules/@aws-sdk/client-x/dist-es/schemas");
      await mkdir(schemas, { recursive: true });
      await writeFile(
        join(schemas, "schemas_0.js"),
        ['const _h = "http";', 'export var Kept$ = [1, { [_h]: "kept" }];', 'export var Dropped$ = [2, { [_h]: "dropped" }];'].join("\n"),
      );
      await writeFile(join(dir, "entry.js"), 'import { Kept$ } from "./node_modules/@aws-sdk/client-x/dist-es/schemas/schemas_0.js"; console.log(Kept$);');
      const bundle = async (plugins: Parameters<typeof build>[0]["plugins"]) =>
        (await build({ entryPoints: [join(dir, "entry.js")], bundle: true, write: false, format: "cjs", plugins })).outputFiles[0]!.text;
      expect(await bundle([])).toContain("dropped");
      const trimmed = await bundle([awsSdkSchemaKeys()]);
      expect(trimmed).toContain("kept");
      expect(trimmed).not.toContain("dropped");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Node's WebAssembly global (the ES2023 lib this project compiles with does not declare it). */
const wasmRuntime = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;

describe("aws-sdk-schema-keys", () => {
  it("fails the build when a bundled client's schemas were not rewritten (the SDK's layout changed)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "schema-keys-"));
    try {
      const client = join(dir, "node_modules/@aws-sdk/client-x/dist-es");
      await mkdir(join(client, "schemas"), { recursive: true });
      await writeFile(join(client, "schemas/schemas_0.js"), 'export var Kept$ = [1, { ["http"]: "kept" }];');
      await writeFile(join(client, "XClient.js"), 'export { Kept$ } from "./schemas/schemas_0.js";');
      await writeFile(join(dir, "entry.js"), 'import { Kept$ } from "./node_modules/@aws-sdk/client-x/dist-es/XClient.js"; console.log(Kept$);');
      await expect(build({ entryPoints: [join(dir, "entry.js")], bundle: true, write: false, plugins: [awsSdkSchemaKeys()] })).rejects.toThrow(
        /aws-sdk-schema-keys: the files it rewrites were not found/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("undici plugins", () => {
  /** Bundles a snippet that uses undici the way handler/net/undici.ts does, with the plugins, and runs it. */
  async function bundleAndLoad(snippet: string): Promise<unknown> {
    const result = await build({
      stdin: { contents: snippet, resolveDir: join(__dirname, "../.."), loader: "js" },
      bundle: true,
      write: false,
      format: "cjs",
      platform: "node",
      plugins: [undiciLlhttpSimdOnly(), undiciHttp1Only()],
    });
    const text = result.outputFiles[0]!.text;
    const module = { exports: {} as Record<string, unknown> };
    new Function("module", "exports", "require", text)(module, module.exports, createRequire(__filename));
    return { text, exports: module.exports };
  }

  it("keep undici's llhttp WebAssembly loadable, compressed, and leave the WHATWG and HTTP/2 modules out", async () => {
    const { text, exports } = (await bundleAndLoad(
      'module.exports = { wasm: require("undici/lib/llhttp/llhttp_simd-wasm.js"), Agent: require("undici/lib/dispatcher/agent") };',
    )) as { text: string; exports: { wasm: Buffer; Agent: unknown } };
    expect(wasmRuntime.validate(exports.wasm)).toBe(true);
    expect(exports.wasm).toEqual(createRequire(__filename)("undici/lib/llhttp/llhttp_simd-wasm.js"));
    expect(typeof exports.Agent).toBe("function");
    expect(text.match(/brotliDecompressSync/g)).toHaveLength(1);
    expect(text).not.toContain("llhttp/llhttp-wasm.js");
    expect(text).not.toContain("webidl");
    expect(text).not.toContain("node:http2");
  });
});

describe("mnemonistLruAsMap", () => {
  it("bundles the endpoint cache on a Map, without mnemonist and obliterator, and it still caches and evicts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lru-"));
    try {
      await writeFile(join(dir, "entry.js"), 'const { EndpointCache } = require("@aws-sdk/endpoint-cache"); module.exports = EndpointCache;');
      const result = await build({
        entryPoints: [join(dir, "entry.js")],
        bundle: true,
        write: false,
        format: "cjs",
        platform: "node",
        nodePaths: [join(__dirname, "../../node_modules")],
        plugins: [mnemonistLruAsMap()],
      });
      const text = result.outputFiles[0]!.text;
      expect(text).not.toMatch(/obliterator|mnemonist[/\\]lru-cache\.js/);
      const file = join(dir, "out.js");
      await writeFile(file, text);
      const EndpointCache = createRequire(__filename)(file) as new (capacity: number) => { set(k: string, v: { Address: string; CachePeriodInMinutes: number }[]): void; getEndpoint(k: string): string | undefined; has(k: string): boolean };
      const cache = new EndpointCache(2);
      cache.set("a", [{ Address: "a.example", CachePeriodInMinutes: 5 }]);
      cache.set("b", [{ Address: "b.example", CachePeriodInMinutes: 5 }]);
      expect(cache.getEndpoint("a")).toBe("a.example");
      cache.set("c", [{ Address: "c.example", CachePeriodInMinutes: 5 }]);
      expect([cache.has("a"), cache.has("b"), cache.has("c")]).toEqual([true, false, true]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("awsSdkSha1Native", () => {
  it("leaves the SDK's JavaScript SHA-1 out, and the SDK's SHA-1 still hashes with node:crypto", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sha1-"));
    try {
      await writeFile(join(dir, "entry.js"), 'const { Sha1Node } = require("@aws-sdk/checksums/sha"); module.exports = Sha1Node;');
      const bundle = async (plugins: Parameters<typeof build>[0]["plugins"]) =>
        (await build({ entryPoints: [join(dir, "entry.js")], bundle: true, write: false, format: "cjs", platform: "node", mainFields: ["module", "main"], nodePaths: [join(__dirname, "../../node_modules")], plugins })).outputFiles[0]!.text;
      const full = await bundle([]);
      const trimmed = await bundle([awsSdkSha1Native()]);
      expect(trimmed.length).toBeLessThan(full.length - 1_500);
      const file = join(dir, "out.js");
      await writeFile(file, trimmed);
      const Sha1 = createRequire(__filename)(file) as new () => { update(d: Uint8Array): void; digest(): Promise<Uint8Array> };
      const hash = new Sha1();
      hash.update(new TextEncoder().encode("abc"));
      expect(Buffer.from(await hash.digest()).toString("hex")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
