import assert from "node:assert/strict";
import { csv, textTable } from "../../lib/_util/mod.ts";

Deno.test("csv quotes a value holding a carriage return, as RFC 4180 asks", () => {
  assert.equal(csv([{ note: "a\rb", n: 1 }]), 'note,n\n"a\rb",1\n');
  assert.equal(csv([{ note: "a\r\nb" }]), 'note\n"a\r\nb"\n');
});

Deno.test("csv quotes commas, quotes and line feeds and leaves other values bare", () => {
  assert.equal(
    csv([{ a: "x,y", b: 'say "hi"', c: "1\n2", d: -0, e: NaN }]),
    'a,b,c,d,e\n"x,y","say ""hi""","1\n2",0,NaN\n',
  );
});

Deno.test("textTable rejects a row shorter than the header, naming the row and the cell count", () => {
  assert.throws(() => textTable(["name", "n", "note"], [["a", 1, "x"], ["b", 2]], [false, true]), {
    name: "RangeError",
    message:
      "Cannot format text table: 'rows[1]' must be a row of 3 cells, one per header column: current value is 2 cells",
  });
});

Deno.test("textTable rejects a row longer than the header (its extra cell has no column)", () => {
  assert.throws(
    () => textTable(["name"], [["a", "stray"]], [false]),
    /'rows\[0\]' must be a row of 1 cell, one per header column: current value is 2 cells/,
  );
});

Deno.test("textTable aligns full rows: left or right per column, trailing blanks trimmed", () => {
  assert.equal(
    textTable(["name", "n"], [["a", 10], ["bb", 2]], [false, true]),
    "name |  n\na    | 10\nbb   |  2",
  );
  assert.equal(textTable(["a", "b"], [], [false, false]), "a | b");
});
