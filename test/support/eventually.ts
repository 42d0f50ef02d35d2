/**
 * Retries an assertion until it holds or `timeoutMs` passes, then throws its last failure. For
 * outcomes that happen asynchronously (a worker letting go of a cancelled call), not for timing:
 * the bound only keeps a broken build from hanging.
 */
export async function eventually(assertion: () => void | Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
