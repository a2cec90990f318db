// cdktf must never phone home from tests (no network here or in CI).
process.env.CHECKPOINT_DISABLE = "1";
