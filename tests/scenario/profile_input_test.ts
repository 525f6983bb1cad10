import assert from "node:assert/strict";
import { readOverrideItems, readProfileInput } from "../../lib/scenario/mod.ts";

const NOT_A_NUMBER = '--set: hdd.rpm: must be a number: current value is "abc"';

Deno.test("profile input is the built-in profile when nothing is given", async () => {
  const r = await readProfileInput();
  assert.equal(r.profile?.hdd.rpm.value, 7200);
  assert.deepEqual(r.overrides, {});
  assert.deepEqual(r.issues, []);
});

Deno.test("profile input applies --set items to the profile file", async () => {
  const r = await readProfileInput({
    path: new URL("../../data/profiles/paper-2015-ssd.json", import.meta.url).pathname,
    set: ["hdd.rpm=15000", "vmm.pipeline=2"],
  });
  assert.deepEqual(r.issues, []);
  assert.equal(r.profile?.hdd.rpm.value, 15000);
  assert.equal(r.profile?.vmm.pipeline.value, 2);
  assert.deepEqual(r.overrides, { "hdd.rpm": "15000", "vmm.pipeline": "2" });
});

Deno.test("profile input lists every issue, each prefixed by its flag, and no profile", async () => {
  const r = await readProfileInput({ set: ["hdd.rpm=abc", "oops", "nope.x=1"] });
  assert.equal(r.profile, undefined);
  assert.equal(r.issues.length, 3);
  assert.ok(r.issues.every((i) => i.startsWith("--set: ")), r.issues.join("\n"));
  assert.ok(r.issues.includes(NOT_A_NUMBER));
  assert.ok(r.issues.some((i) => i.includes("nope.x: no such section (sections: cpu,")));
  // The well-formed items are still returned, as text.
  assert.deepEqual(r.overrides, { "hdd.rpm": "abc", "nope.x": "1" });
});

Deno.test("profile input checks every value of a path given twice, whichever comes first", async () => {
  for (const set of [["hdd.rpm=15000", "hdd.rpm=abc"], ["hdd.rpm=abc", "hdd.rpm=15000"]]) {
    const r = await readProfileInput({ set });
    assert.equal(r.profile, undefined);
    assert.deepEqual(r.issues, ["--set: hdd.rpm: given more than once", NOT_A_NUMBER], set.join());
  }
  // Two valid values are still refused: which one counts would be a guess.
  const twice = await readProfileInput({ set: ["hdd.rpm=15000", "hdd.rpm=7200"] });
  assert.deepEqual(twice.issues, ["--set: hdd.rpm: given more than once"]);
});

Deno.test("profile input reports another item's issue once, not once per repeated value", async () => {
  const r = await readProfileInput({ set: ["nope.x=1", "hdd.rpm=7200", "hdd.rpm=8000"] });
  assert.equal(r.issues.filter((i) => i.includes("nope.x")).length, 1, r.issues.join("\n"));
  assert.equal(r.issues.length, 2);
});

Deno.test("profile input names an unreadable profile file by its label", async () => {
  const r = await readProfileInput({
    path: "/nonexistent/profile.json",
    labels: { path: "profile", set: "set" },
  });
  assert.equal(r.profile, undefined);
  assert.equal(r.issues.length, 1);
  assert.match(r.issues[0], /^profile: cannot read \/nonexistent\/profile\.json: /);
});

Deno.test("override items read leniently keep first values, repeats and malformed items apart", () => {
  const r = readOverrideItems(["a.b=1", "bad", "a.b=2", "c.d=x"]);
  assert.deepEqual(r.overrides, { "a.b": "1", "c.d": "x" });
  assert.deepEqual(r.again, [["a.b", "2"]]);
  assert.equal(r.issues.length, 2, r.issues.join("\n"));
  assert.deepEqual(readOverrideItems(["a.b=1"]), {
    overrides: { "a.b": "1" },
    again: [],
    issues: [],
  });
});
