import assert from "node:assert/strict";
import { csv } from "../../lib/_util/mod.ts";

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
