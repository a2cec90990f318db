import { findNginx } from "./nginx";

/**
 * Runs once before the suite: says in one line what a fresh machine lacks for the proxy tests
 * (a real nginx), instead of letting each of them fail with the same error.
 */
export default function globalSetup(): void {
  try {
    findNginx();
  } catch {
    process.stderr.write("\nnginx is missing: the Ollama proxy tests will fail. Install it with: sudo apt-get install -y nginx-light (or nginx)\n\n");
  }
}
