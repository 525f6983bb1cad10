import assert from "node:assert/strict";
import { z } from "zod";
import { parseParams, requireSectorRange, showValue } from "../../lib/_util/errors.ts";

Deno.test("showValue writes JSON but keeps NaN and the infinities as themselves", () => {
  assert.equal(showValue(NaN), "NaN");
  assert.equal(showValue(Infinity), "Infinity");
  assert.equal(showValue(-Infinity), "-Infinity");
  assert.equal(showValue("2"), '"2"');
  assert.equal(showValue(undefined), "undefined");
  assert.equal(showValue({ a: [1, NaN, null], b: { c: "x" } }), '{"a":[1,NaN,null],"b":{"c":"x"}}');
  // Where JSON can write a value, the same text.
  for (const v of [0, -0, 1e21, 1.5, true, null, 'a"b', [1, "x"], { k: { j: [] } }]) {
    assert.equal(showValue(v), JSON.stringify(v));
  }
});

Deno.test("parseParams returns what the schema makes, or throws a RangeError naming every field, its rule and its value", () => {
  const schema = z.object({ rpm: z.number().positive(), heads: z.number().int().default(4) })
    .strict();
  assert.deepEqual(parseParams("spin disk", schema, { rpm: 7200 }), { rpm: 7200, heads: 4 });
  assert.throws(() => parseParams("spin disk", schema, { rpm: NaN, heads: 1.5, rmp: 1 }), (e) => {
    assert.ok(e instanceof RangeError);
    assert.equal(
      e.message,
      "Cannot spin disk: 'rpm' Invalid input: expected number, received NaN: current value is NaN; " +
        "'heads' Invalid input: expected int, received number: current value is 1.5; " +
        "'rmp' is not a known parameter, did you mean 'rpm'?",
    );
    assert.ok(e.cause instanceof z.ZodError, "the schema's own error is the cause");
    return true;
  });
  assert.throws(
    () => parseParams("spin disk", schema, 5),
    /^RangeError: Cannot spin disk: '\(params\)' Invalid input: expected object, received number: current value is 5$/,
  );
});

Deno.test("requireSectorRange says which rule a block request breaks", () => {
  requireSectorRange("read", 0, 16, 16);
  const cases: [number, number, string][] = [
    [1.5, 8, "'lba' must be a whole number: current values are lba 1.5, count 8"],
    [0, NaN, "'count' must be a whole number: current values are lba 0, count NaN"],
    [0, 0, "'count' must be at least 1"],
    [-1, 4, "'lba'+'count' must lie within [0, 16]"],
    [9, 8, "'lba'+'count' must lie within [0, 16]: current values are lba 9, count 8"],
  ];
  for (const [lba, count, why] of cases) {
    assert.throws(() => requireSectorRange("read", lba, count, 16), (e) => {
      assert.ok(e instanceof RangeError);
      assert.ok(e.message.startsWith("Cannot read: ") && e.message.includes(why), e.message);
      return true;
    });
  }
});
