import assert from "node:assert/strict";
import { reproduce } from "../../experiments/mod.ts";

/** reproduce's refusal of `options`, timed: it must come before any figure runs. */
async function refusal(options: unknown): Promise<string> {
  const t0 = performance.now();
  let message = "";
  await assert.rejects(reproduce(options as never), (e: Error) => {
    assert.ok(e instanceof RangeError, `${e.name}: ${e.message}`);
    message = e.message;
    return true;
  });
  assert.ok(performance.now() - t0 < 2000, "refused before running");
  return message;
}

Deno.test("reproduce names every unknown option (with the closest one) and every bad value before running", async () => {
  assert.equal(
    await refusal({ smal: true, parallel: "no" }),
    "Cannot reproduce the figures: 'smal' is not an option, did you mean small? " +
      "The options are small, seeds, profile, parallel; " +
      `'parallel' must be true or false: current value is "no"`,
  );
  assert.equal(
    await refusal({ seeds: [-1] }),
    "Cannot reproduce the figures: 'seeds[0]' must be an integer in [0, 4294967295]: current value is -1",
  );
  assert.equal(
    await refusal({ small: 1, seeds: [1, 1.5, 1] }),
    "Cannot reproduce the figures: 'small' must be true or false: current value is 1; " +
      "'seeds[1]' must be an integer in [0, 4294967295]: current value is 1.5; " +
      "'seeds' must be a list without repeats: current value is [1,1.5,1]",
  );
  assert.equal(
    await refusal({ seeds: [] }),
    "Cannot reproduce the figures: 'seeds' must be a list of one or more seeds: current value is []",
  );
  assert.match(
    await refusal({ small: true, profile: { hdd: {} } }),
    /^Cannot reproduce the figures: 'profile' must be a profile \(loadProfile, parseProfile\)/,
  );
  assert.match(await refusal(null), /'\(params\)' must be an object: current value is null$/);
});
