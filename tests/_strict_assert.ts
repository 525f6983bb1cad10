/**
 * Preloaded by `deno task test`: a false `console.assert` throws, so an
 * `@example` whose assertion no longer holds fails its doc test instead of
 * printing "Assertion failed" and passing.
 */
console.assert = (condition?: boolean, ...data: unknown[]): void => {
  if (!condition) {
    throw new Error(`Assertion failed${data.length > 0 ? `: ${data.map(String).join(" ")}` : ""}`);
  }
};
