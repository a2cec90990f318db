import { defineConfig } from "tsup";

/**
 * Builds the Lambda bundle: one self-contained CommonJS file, dist/handler/index.js,
 * with every runtime package inlined so the deployed zip needs no node_modules.
 * node20 is the oldest runtime we run on (local mode here); Lambda's nodejs24.x runs it too.
 */
export default defineConfig({
  entry: { index: "handler/index.ts" },
  outDir: "dist/handler",
  format: ["cjs"],
  platform: "node",
  target: "node20",
  bundle: true,
  noExternal: [/.*/],
  minify: true,
  sourcemap: false,
  clean: true,
  splitting: false,
  treeshake: true,
});
