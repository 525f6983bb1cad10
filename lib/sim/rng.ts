/**
 * Seeded pseudo-random numbers with independent named streams. Each stream
 * is an sfc32 generator whose state is derived from (seed, name) by
 * FNV-1a + splitmix32, so adding a stream never shifts another one's draws.
 */
import { rangeError, requireNumber } from "../_util/mod.ts";

function splitmix32(a: number): () => number {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function fnv1a(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The text hashed for stream `name` of `seed`: the seed's digits, then the
 * name. A name that starts with a digit or a NUL gets a NUL in between, so
 * no two (seed, name) pairs share a text (seed 1's "2x" is not seed 12's
 * "x"); every other name keeps the plain concatenation and its draws.
 */
function streamKey(seed: number, name: string): string {
  const c = name.charCodeAt(0);
  return (c >= 48 && c <= 57) || c === 0 ? `${seed}\u0000${name}` : `${seed}${name}`;
}

/**
 * One stream of random numbers.
 * @example
 * ```ts
 * import { RngStreams } from "./rng.ts";
 * const s = new RngStreams(7).stream("arrivals");
 * const x = s.exponential(10);
 * console.assert(x >= 0);
 * ```
 */
export class RandomStream {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** The stream `name` of `seed` (models use {@link RngStreams.stream}). */
  constructor(seed: number, readonly name: string) {
    const mix = splitmix32(fnv1a(streamKey(seed, name)));
    this.#a = mix();
    this.#b = mix();
    this.#c = mix();
    this.#d = mix();
    for (let i = 0; i < 12; i++) this.#u32();
  }

  #u32(): number {
    // sfc32 (Chris Doty-Humphrey's Small Fast Chaotic generator).
    const a = this.#a, b = this.#b, c = this.#c;
    const t = (((a + b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    this.#c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  random(): number {
    return ((this.#u32() >>> 5) * 67108864 + (this.#u32() >>> 6)) / 9007199254740992;
  }

  /**
   * Uniform float in [lo, hi) (`lo` itself when `hi === lo`); both bounds
   * finite.
   */
  uniform(lo: number, hi: number): number {
    if (!(hi >= lo && hi - lo < Infinity)) {
      if (!Number.isFinite(lo)) throw rangeError("draw uniform", "lo", "a finite number", lo);
      throw rangeError("draw uniform", "hi", `a finite number >= lo (${lo})`, hi);
    }
    for (;;) {
      // lo + (hi - lo) * r can round up to hi: draw again then (rare).
      const x = lo + (hi - lo) * this.random();
      if (x < hi || hi === lo) return x;
    }
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1 && Number.isInteger(n))) {
      requireNumber("draw an integer", "n", n, { integer: true, min: 0, strict: true });
    }
    return Math.floor(this.random() * n);
  }

  /** Exponential variate with the given mean. */
  exponential(mean: number): number {
    if (!(mean > 0 && mean < Infinity)) {
      requireNumber("draw an exponential", "mean", mean, { min: 0, strict: true });
    }
    return -mean * Math.log(1 - this.random());
  }

  /**
   * A Zipf sampler over 1..n with P(k) ∝ k^-exponent (rejection-inversion,
   * Hörmann & Derflinger 1996): O(1) per draw, no table, any n.
   */
  zipf(options: { n: number; exponent: number }): () => number {
    const { n, exponent: s } = options;
    requireNumber("create a Zipf sampler", "n", n, { integer: true, min: 1 });
    requireNumber("create a Zipf sampler", "exponent", s, { min: 0, strict: true });
    const helper1 = (x: number) => (Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x / 2);
    const helper2 = (x: number) => (Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x / 2);
    const h = (x: number) => Math.exp(-s * Math.log(x));
    const hInt = (x: number) => {
      const lx = Math.log(x);
      return helper2((1 - s) * lx) * lx;
    };
    const hIntInv = (x: number) => {
      let t = x * (1 - s);
      if (t < -1) t = -1;
      return Math.exp(helper1(t) * x);
    };
    const hX1 = hInt(1.5) - 1;
    const hN = hInt(n + 0.5);
    const sCut = 2 - hIntInv(hInt(2.5) - h(2));
    return () => {
      for (;;) {
        const u = hN + this.random() * (hX1 - hN);
        const x = hIntInv(u);
        let k = Math.round(x);
        if (k < 1) k = 1;
        else if (k > n) k = n;
        if (k - x <= sCut || u >= hInt(k + 0.5) - h(k)) return k;
      }
    };
  }
}

/**
 * Independent named streams from one seed.
 * @example
 * ```ts
 * import { RngStreams } from "./rng.ts";
 * const a = new RngStreams(1).stream("disk").random();
 * const b = new RngStreams(1).stream("disk").random();
 * console.assert(a === b);
 * ```
 */
export class RngStreams {
  #streams = new Map<string, RandomStream>();
  /** Streams of `seed` (a non-negative integer); none created yet. */
  constructor(readonly seed: number) {
    requireNumber("create random streams", "seed", seed, { integer: true, min: 0 });
  }
  /** The stream called `name` (created on first use; same object afterwards). */
  stream(name: string): RandomStream {
    let s = this.#streams.get(name);
    if (s === undefined) {
      s = new RandomStream(this.seed, name);
      this.#streams.set(name, s);
    }
    return s;
  }
}
