/**
 * Registers cdktf's jest matchers (toHaveResourceWithProperties, ...). Imported for its side
 * effect by the infrastructure tests.
 */
import { setupJest } from "cdktf/lib/testing/adapters/jest";

setupJest();
