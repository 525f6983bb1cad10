import assert from "node:assert/strict";
import fc from "fast-check";
import { FlowNetwork, Simulation } from "../../lib/sim/mod.ts";

const MB = 1e6;

function close(got: number, want: number, msg: string) {
  assert.ok(
    Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want)),
    `${msg}: got ${got}, want ${want}`,
  );
}

Deno.test("flows on one link share it equally and the survivor speeds up", () => {
  const sim = new Simulation();
  const net = new FlowNetwork(sim);
  const l = net.link({ name: "l", bandwidth: 100 * MB });
  const a = net.flow({ route: [l], bytes: 100 * MB });
  const b = net.flow({ route: [l], bytes: 50 * MB });
  close(a.rate, 50 * MB, "a");
  close(b.rate, 50 * MB, "b");
  sim.run();
  assert.equal(b.sentAt, 1e9);
  assert.equal(a.sentAt, 1.5e9);
  assert.equal(l.bytesCarried, 150 * MB);
});

Deno.test("max-min fairness across several links with different bottlenecks (hand-computed)", () => {
  // Links: L1 = 10, L2 = 4, L3 = 6 (MB/s).
  // f1: L1 ; f2: L1+L2 ; f3: L2 ; f4: L1+L3 ; f5: L3 with cap 1.
  // Progressive filling: f5 capped at 1 -> L3 has 5 left for f4.
  // L2: 4/2 = 2 (f2, f3) is the tightest -> f2 = f3 = 2.
  // L1: 10 - 2 = 8 for f1, f4 -> 4 each; L3 gives f4 up to 5 so L1 binds: f1 = f4 = 4.
  const sim = new Simulation();
  const net = new FlowNetwork(sim);
  const L1 = net.link({ name: "L1", bandwidth: 10 * MB });
  const L2 = net.link({ name: "L2", bandwidth: 4 * MB });
  const L3 = net.link({ name: "L3", bandwidth: 6 * MB });
  const big = 1e12;
  const f1 = net.flow({ route: [L1], bytes: big });
  const f2 = net.flow({ route: [L1, L2], bytes: big });
  const f3 = net.flow({ route: [L2], bytes: big });
  const f4 = net.flow({ route: [L1, L3], bytes: big });
  const f5 = net.flow({ route: [L3], bytes: big, maxRate: 1 * MB });
  close(f1.rate, 4 * MB, "f1");
  close(f2.rate, 2 * MB, "f2");
  close(f3.rate, 2 * MB, "f3");
  close(f4.rate, 4 * MB, "f4");
  close(f5.rate, 1 * MB, "f5");
});

Deno.test("a flow completes after its transfer plus the route latency", () => {
  const sim = new Simulation();
  const net = new FlowNetwork(sim);
  const a = net.link({ name: "a", bandwidth: 1e9, latency: 2_000 });
  const b = net.link({ name: "b", bandwidth: 1e9, latency: 3_000 });
  const f = net.flow({ route: [a, b], bytes: 1e6 });
  let doneAt = -1;
  f.then(() => (doneAt = sim.now));
  sim.run();
  assert.equal(f.sentAt, 1_000_000);
  assert.equal(doneAt, 1_005_000);
});

Deno.test("max-min allocation properties hold for random networks", () => {
  // Feasible (no link over capacity) and every flow is bottlenecked: it hits
  // its cap, or crosses a saturated link where it has the maximal rate.
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 6 }),
      fc.array(
        fc.record({
          links: fc.uniqueArray(fc.nat(5), { minLength: 1, maxLength: 3 }),
          cap: fc.option(fc.integer({ min: 1, max: 60 })),
        }),
        { minLength: 1, maxLength: 25 },
      ),
      (caps, specs) => {
        const sim = new Simulation();
        const net = new FlowNetwork(sim);
        const links = caps.map((c, i) => net.link({ name: `L${i}`, bandwidth: c }));
        const flows = specs.map((s) =>
          net.flow({
            route: s.links.map((i) => links[i % links.length]).filter((l, i, a) =>
              a.indexOf(l) === i
            ),
            bytes: 1e12,
            maxRate: s.cap ?? undefined,
          })
        );
        for (const l of links) {
          assert.ok(l.load <= l.bandwidth * (1 + 1e-9), `${l.name} over capacity`);
        }
        for (const f of flows) {
          if (Math.abs(f.rate - f.maxRate) <= 1e-9 * f.maxRate) continue;
          const bottleneck = f.route.some((l) => {
            const saturated = l.load >= l.bandwidth * (1 - 1e-9);
            let maxRate = 0;
            for (const g of flows) if (g.route.includes(l)) maxRate = Math.max(maxRate, g.rate);
            return saturated && f.rate >= maxRate * (1 - 1e-9);
          });
          assert.ok(bottleneck, `flow without bottleneck: rate ${f.rate}`);
        }
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("flows arriving and leaving keep byte accounting exact", () => {
  const sim = new Simulation({ seed: 5 });
  const rng = sim.rng.stream("f");
  const net = new FlowNetwork(sim);
  const l = net.link({ name: "l", bandwidth: 1e8 });
  let total = 0, done = 0;
  for (let i = 0; i < 200; i++) {
    const bytes = Math.round(rng.uniform(1e3, 1e6));
    total += bytes;
    sim.call(
      Math.round(rng.uniform(0, 1e7)),
      () => net.flow({ route: [l], bytes }).then(() => done++),
    );
  }
  sim.run();
  assert.equal(done, 200);
  assert.equal(l.bytesCarried, total);
  assert.equal(net.activeFlows, 0);
  // the link is work-conserving: it never idles while flows wait, so it ends no
  // earlier than total / bandwidth
  assert.ok(sim.now >= (total / 1e8) * 1e9);
});

Deno.test("bad link and flow arguments throw RangeError naming the field", () => {
  const sim = new Simulation();
  const net = new FlowNetwork(sim);
  assert.throws(() => net.link({ name: "x", bandwidth: 0 }), {
    name: "RangeError",
    message: "Cannot create link 'x': 'bandwidth' must be a finite number > 0: current value is 0",
  });
  assert.throws(() => net.link({ name: "x", bandwidth: 1, latency: -1 }), /'latency'.*-1/);
  const l = net.link({ name: "ok", bandwidth: 1 });
  assert.throws(() => net.flow({ route: [l], bytes: -5 }), /'bytes'.*-5/);
  assert.throws(() => net.flow({ route: [], bytes: 5 }), /empty 'route'/);
  const other = new FlowNetwork(sim).link({ name: "foreign", bandwidth: 1 });
  assert.throws(() => net.flow({ route: [other], bytes: 5 }), TypeError);
  assert.throws(() => net.flow({ route: [l], bytes: 5, maxRate: 0 }), /'maxRate'/);
  assert.throws(() => net.flow({ route: [l], bytes: 5, maxRate: NaN }), /'maxRate'/);
  // Infinity means no cap of the flow's own, which an empty route cannot do without.
  assert.throws(() => net.flow({ route: [], bytes: 5, maxRate: Infinity }), /empty 'route'/);
});

Deno.test("maxRate Infinity, the documented default, is accepted as no cap of the flow's own", () => {
  const sim = new Simulation();
  const net = new FlowNetwork(sim);
  const l = net.link({ name: "l", bandwidth: 1e9 });
  const explicit = net.flow({ route: [l], bytes: 1_000, maxRate: Infinity });
  const dflt = net.flow({ route: [l], bytes: 1_000 });
  sim.run();
  assert.equal(explicit.maxRate, Infinity);
  assert.deepEqual([explicit.sentAt, dflt.sentAt], [2_000, 2_000]);
});

Deno.test("a flow's sent event fires when its last byte left, the route's latency before it completes", () => {
  const sim = new Simulation();
  const net = new FlowNetwork(sim);
  const l = net.link({ name: "l", bandwidth: 1e9, latency: 700 });
  const f = net.flow({ route: [l], bytes: 1_000 });
  const seen: [string, number][] = [];
  f.sent.then(() => seen.push(["sent", sim.now]));
  f.then(() => seen.push(["done", sim.now]));
  sim.run();
  assert.deepEqual(seen, [["sent", 1_000], ["done", 1_700]]);
  // Asked for after the fact (or for an empty flow, sent at once), it has already fired.
  const empty = net.flow({ route: [l], bytes: 0 });
  let late = -1;
  f.sent.then(() => (late = sim.now));
  empty.sent.then(() => seen.push(["empty sent", sim.now]));
  sim.run();
  assert.equal(late, 1_700);
  assert.deepEqual(seen.at(-1), ["empty sent", 1_700]);
});
