import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { brotliCompressSync, constants as zlib } from "node:zlib";
import type { Plugin, PluginBuild } from "esbuild";

/**
 * esbuild plugins that trim from the Lambda bundle what the function never runs. Each one
 * fails the build when the package it trims is in the bundle but the file it rewrites was not
 * found or no longer looks as expected (a dependency upgrade), instead of quietly producing a
 * different bundle. `npm run bench` measures the result; the bundle tests
 * (__tests__/handler/index.test.ts) exercise every path they touch.
 */

const requireFromHere = createRequire(__filename);

/** The first four bytes of every WebAssembly module. */
const WASM_MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d]);

/**
 * Fails the build at its end when `present()` (the package was bundled) but `acted()` is false
 * (the plugin found nothing to do): the package's layout changed under the plugin.
 */
function expectAction(build: PluginBuild, plugin: string, present: () => boolean, acted: () => boolean): void {
  build.onEnd(() => {
    if (present() && !acted()) {
      throw new Error(`${plugin}: the files it rewrites were not found in the bundled package: review build/bundle-plugins.ts`);
    }
  });
}

/** An onLoad result: generated CommonJS source. */
const cjs = (contents: string) => ({ contents, loader: "js" as const });

/**
 * undici embeds its HTTP parser, llhttp, twice as base64 WebAssembly: with and without SIMD.
 * It uses the SIMD build wherever WebAssembly SIMD exists (every Node 20+ on x86-64 and arm64,
 * so every Lambda), so the fallback is pointed at the SIMD build; and that build is stored
 * brotli-compressed (54 KB of wasm: 71 KB as undici's base64, 20 KB compressed), inflated
 * once, in well under a millisecond, when the first connection needs the parser.
 */
export function undiciLlhttpSimdOnly(): Plugin {
  return {
    name: "undici-llhttp-simd-only",
    setup(build) {
      let h1Client = false;
      let packed = false;
      build.onLoad({ filter: /undici[/\\]lib[/\\]dispatcher[/\\]client-h1\.js$/ }, () => {
        h1Client = true;
        return undefined;
      });
      expectAction(build, "undici-llhttp-simd-only", () => h1Client, () => packed);
      build.onResolve({ filter: /^\.\.?\/.*llhttp-wasm\.js$/ }, (args) => ({
        path: resolve(args.resolveDir, args.path.replace("llhttp-wasm.js", "llhttp_simd-wasm.js")),
      }));
      build.onLoad({ filter: /undici[/\\]lib[/\\]llhttp[/\\]llhttp_simd-wasm\.js$/ }, (args) => {
        const wasm: unknown = requireFromHere(args.path);
        if (!Buffer.isBuffer(wasm) || !wasm.subarray(0, 4).equals(WASM_MAGIC)) {
          throw new Error(`${args.path} no longer exports the llhttp WebAssembly as a Buffer: review build/bundle-plugins.ts`);
        }
        const compressed = brotliCompressSync(wasm, {
          params: { [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: wasm.length },
        });
        packed = true;
        return cjs(
          `"use strict";\nmodule.exports = require("node:zlib").brotliDecompressSync(Buffer.from(${JSON.stringify(compressed.toString("base64"))}, "base64"));\n`,
        );
      });
    },
  };
}

/**
 * The function speaks HTTP/1.1 only (undici's default: `allowH2` is off), and builds its own
 * multipart bodies (handler/telegram/client.ts), so two modules undici loads for other cases are
 * replaced by stubs that throw if ever reached: the HTTP/2 client, and the fetch Body module
 * undici's HTTP/1 client requires only to encode a FormData body (which drags in the whole
 * WHATWG layer: webidl, FormData, data: URLs). 50 KB.
 */
export function undiciHttp1Only(): Plugin {
  const stub = (what: string) =>
    cjs(`"use strict";\nconst unsupported = () => { throw new Error(${JSON.stringify(`${what} is not in the Lambda bundle (build/bundle-plugins.ts)`)}); };\nmodule.exports = unsupported;\nmodule.exports.extractBody = unsupported;\n`);
  return {
    name: "undici-http1-only",
    setup(build) {
      let client = false;
      const stubbed = new Set<string>();
      build.onLoad({ filter: /undici[/\\]lib[/\\]dispatcher[/\\]client\.js$/ }, () => {
        client = true;
        return undefined;
      });
      expectAction(build, "undici-http1-only", () => client, () => stubbed.size === 2);
      build.onResolve({ filter: /^\.\/client-h2\.js$/ }, (args) => {
        if (!/undici[/\\]lib[/\\]dispatcher$/.test(args.resolveDir)) return undefined;
        stubbed.add("h2");
        return { path: "undici-client-h2", namespace: "undici-stub" };
      });
      build.onResolve({ filter: /^\.\.\/web\/fetch\/body\.js$/ }, (args) => {
        if (!/undici[/\\]lib[/\\]dispatcher$/.test(args.resolveDir) || !args.importer.endsWith("client-h1.js")) return undefined;
        stubbed.add("body");
        return { path: "undici-fetch-body", namespace: "undici-stub" };
      });
      build.onLoad({ filter: /^undici-client-h2$/, namespace: "undici-stub" }, () => stub("undici's HTTP/2 client"));
      build.onLoad({ filter: /^undici-fetch-body$/, namespace: "undici-stub" }, () => stub("A FormData request body"));
    },
  };
}

/** `const _xN = "xmlName";`: the string constants an AWS SDK schema file starts with. */
const SCHEMA_CONSTANT = /^const (_[A-Za-z0-9_]+) = ("(?:[^"\\]|\\.)*");$/gm;
/** `[_xN]:`: a computed object key naming one of them. */
const COMPUTED_KEY = /\[(_[A-Za-z0-9_]+)\]:/g;

/**
 * Rewrites one AWS SDK schema file so esbuild can drop the schemas of operations the bot never
 * calls. Their trait objects use computed keys (`{ [_xN]: _B }`), and esbuild must assume a
 * computed key may run code, so it kept every schema that has one: 65 KB of the 100 S3
 * operations' shapes. Writing each key as the string it names changes nothing at run time.
 * Pure; exported for its test.
 */
export function inlineSchemaKeys(source: string): { contents: string; replaced: number } {
  const constants = new Map<string, string>();
  for (const [, name, literal] of source.matchAll(SCHEMA_CONSTANT)) constants.set(name!, literal!);
  let replaced = 0;
  const contents = source.replace(COMPUTED_KEY, (whole, name: string) => {
    const literal = constants.get(name);
    if (literal === undefined) return whole;
    replaced++;
    return `[${literal}]:`;
  });
  return { contents, replaced };
}

/** {@link inlineSchemaKeys} applied to the schema files of the AWS SDK clients in the bundle. */
export function awsSdkSchemaKeys(): Plugin {
  return {
    name: "aws-sdk-schema-keys",
    setup(build) {
      const clients = new Set<string>();
      const rewritten = new Set<string>();
      const clientOf = (path: string) => /@aws-sdk[/\\](client-[a-z0-9-]+)[/\\]dist-es[/\\]/.exec(path)?.[1];
      build.onLoad({ filter: /@aws-sdk[/\\]client-[a-z0-9-]+[/\\]dist-es[/\\].*Client\.js$/ }, (args) => {
        const client = clientOf(args.path);
        if (client) clients.add(client);
        return undefined;
      });
      expectAction(build, "aws-sdk-schema-keys", () => clients.size > 0, () => [...clients].every((c) => rewritten.has(c)));
      build.onLoad({ filter: /@aws-sdk[/\\]client-[a-z0-9-]+[/\\]dist-es[/\\]schemas[/\\]schemas_\d+\.js$/ }, async (args) => {
        const { contents, replaced } = inlineSchemaKeys(await readFile(args.path, "utf8"));
        const client = clientOf(args.path);
        if (client && replaced > 0) rewritten.add(client);
        if (replaced === 0 && /\[_[A-Za-z0-9_]+\]:/.test(contents)) {
          throw new Error(`${args.path}: its computed keys no longer name string constants: review build/bundle-plugins.ts`);
        }
        return { contents, loader: "js", resolveDir: dirname(args.path) };
      });
    },
  };
}

/**
 * The LRU cache the DynamoDB client's endpoint-discovery cache is built on
 * (`@aws-sdk/endpoint-cache` imports `mnemonist/lru-cache`, which brings obliterator along:
 * about 7 KB minified). The bot never turns endpoint discovery on, so the cache is made and
 * never filled; a Map with the same methods (get, set, has, peek, clear, a capacity with
 * least-recently-used eviction) stands in for it.
 */
export const MAP_LRU_CACHE = `"use strict";
class LRUCache {
  constructor(capacity) { this.capacity = capacity; this.items = new Map(); }
  get size() { return this.items.size; }
  has(key) { return this.items.has(key); }
  peek(key) { return this.items.get(key); }
  get(key) {
    if (!this.items.has(key)) return undefined;
    const value = this.items.get(key);
    this.items.delete(key);
    this.items.set(key, value);
    return value;
  }
  set(key, value) {
    this.items.delete(key);
    this.items.set(key, value);
    if (this.items.size > this.capacity) this.items.delete(this.items.keys().next().value);
    return this;
  }
  clear() { this.items.clear(); }
}
module.exports = LRUCache;
module.exports.default = LRUCache;
`;

/** Bundles {@link MAP_LRU_CACHE} for `mnemonist/lru-cache`; fails when the endpoint cache stops importing it. */
export function mnemonistLruAsMap(): Plugin {
  return {
    name: "mnemonist-lru-as-map",
    setup(build) {
      let cache = false;
      let replaced = false;
      build.onLoad({ filter: /@aws-sdk[/\\]endpoint-cache[/\\]/ }, () => {
        cache = true;
        return undefined;
      });
      expectAction(build, "mnemonist-lru-as-map", () => cache, () => replaced);
      build.onResolve({ filter: /^mnemonist\/lru-cache(\.js)?$/ }, () => {
        replaced = true;
        return { path: "mnemonist-lru-cache", namespace: "map-lru-cache" };
      });
      build.onLoad({ filter: /.*/, namespace: "map-lru-cache" }, () => cjs(MAP_LRU_CACHE));
    },
  };
}

/**
 * The AWS SDK's pure-JavaScript SHA-1 (`Sha1Js`, 2.8 KB minified), its fallback for a runtime
 * without `node:crypto`'s sha1. Node always has it (Sha1Node checks `createHash("sha1")` and
 * uses the native hash), so the fallback becomes a class that says why it is missing.
 */
export const SHA1_JS_STUB = `"use strict";
class Sha1Js {
  constructor() { throw new Error("the AWS SDK's JavaScript SHA-1 is not bundled: node:crypto's sha1 is used (build/bundle-plugins.ts)"); }
}
exports.Sha1Js = Sha1Js;
`;

/** Bundles {@link SHA1_JS_STUB} for the SDK's Sha1Js; fails when the checksums package stops having it. */
export function awsSdkSha1Native(): Plugin {
  return {
    name: "aws-sdk-sha1-native",
    setup(build) {
      let checksums = false;
      let replaced = false;
      build.onLoad({ filter: /@aws-sdk[/\\]checksums[/\\].*[/\\]sha1[/\\]Sha1Node\.js$/ }, () => {
        checksums = true;
        return undefined;
      });
      expectAction(build, "aws-sdk-sha1-native", () => checksums, () => replaced);
      build.onLoad({ filter: /@aws-sdk[/\\]checksums[/\\].*[/\\]sha1[/\\]Sha1Js\.js$/ }, () => {
        replaced = true;
        return cjs(SHA1_JS_STUB);
      });
    },
  };
}
