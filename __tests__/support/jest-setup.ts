// cdktf must never phone home from tests (no network here or in CI).
process.env.CHECKPOINT_DISABLE = "1";
// The AWS SDK warns on Node 20 that its releases after January 2027 need Node 22; the pinned
// version runs on Node 20, and the same warning in every test file hides real output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
