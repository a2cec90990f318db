import { resolve } from "node:path";
import { defineConfig } from "tsup";
import { awsSdkSchemaKeys, awsSdkSha1Native, mnemonistLruAsMap, undiciHttp1Only, undiciLlhttpSimdOnly } from "./build/bundle-plugins";

/**
 * Builds the Lambda bundle: one self-contained CommonJS file, dist/handler/index.js,
 * with every runtime package inlined so the deployed zip needs no node_modules.
 * node20 is the oldest runtime we run on (local mode here); Lambda's nodejs24.x runs it too.
 * Size and cold-load time are measured by `npm run bench`; the choices below each trim what
 * the function never runs.
 *
 * Beside it, dist/handler/pdf-reader.mjs: the PDF reader (pdf.js, 1.6 MB), an ES module of its
 * own that handler/chat/pdf-text.ts runs in a worker only when a PDF arrives, so it weighs on no
 * cold start. The deployed zip is the whole folder. The bundle's clean leaves that file alone:
 * both builds run at once.
 */
const PDF_READER_FILE = "pdf-reader.mjs";

export default defineConfig([
  {
    entry: { index: "handler/index.ts" },
    outDir: "dist/handler",
    format: ["cjs"],
    platform: "node",
    target: "node20",
    bundle: true,
    noExternal: [/.*/],
    minify: true,
    sourcemap: false,
    clean: [`!${PDF_READER_FILE}`],
    splitting: false,
    treeshake: true,
    esbuildOptions(options) {
      // The AWS SDK ships ES modules beside CommonJS; only those let esbuild drop unused code.
      options.mainFields = ["module", "main"];
      // Lambda passes the role's credentials in the environment: skip the SDK's full default chain.
      options.alias = {
        ...options.alias,
        "@aws-sdk/credential-provider-node": resolve(__dirname, "handler/net/lambda-credentials.ts"),
      };
    },
    esbuildPlugins: [undiciLlhttpSimdOnly(), undiciHttp1Only(), awsSdkSchemaKeys(), mnemonistLruAsMap(), awsSdkSha1Native()],
  },
  {
    entry: { "pdf-reader": `handler/chat/${PDF_READER_FILE}` },
    outDir: "dist/handler",
    format: ["esm"],
    platform: "node",
    target: "node20",
    bundle: true,
    noExternal: [/.*/],
    minify: true,
    // unpdf's pdf.js is tree-shaken already; Rollup's pass over 1.6 MB would only cost time.
    treeshake: false,
    sourcemap: false,
    clean: false,
    splitting: false,
  },
]);
