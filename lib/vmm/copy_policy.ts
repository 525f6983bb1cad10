/**
 * When the background copier may put its next chunk on the disk. The copier
 * asks {@link CopyPolicy.decide} before each chunk and tells the policy what
 * happened, so policies stay pure and testable. Three policies:
 * - `idle`: copy only after the guest's disk has been idle for `idleThreshold`
 *   (BMcast's "copies the rest in the background when the disk is idle");
 * - `rate`: copy at most `bytesPerSecond` (token bucket), idle or not;
 * - `adaptive`: an idle threshold that doubles when a guest command had to
 *   wait behind a copy command and shrinks after copies that bothered nobody
 *   (beyond the paper, `redirectAware`: also when the copier's fetch overlapped
 *   a redirected guest read at the image server).
 */
import { z } from "zod";
import { parseParams, type SimTime } from "../_util/mod.ts";

/** Policy configuration (scenario field `copier.policy`). */
export const CopyPolicySchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("idle"),
    /** Guest disk idle time before a copy command may start, ns. */
    idleThreshold: z.number().int().nonnegative(),
    /** How long to wait before asking again while guest commands are outstanding, ns. */
    recheck: z.number().int().positive().default(1_000_000),
  }).strict(),
  z.object({
    kind: z.literal("rate"),
    /** Long-run copy rate cap, bytes/s. */
    bytesPerSecond: z.number().positive(),
    /** Bucket depth, bytes (burst). */
    burstBytes: z.number().positive(),
  }).strict(),
  z.object({
    kind: z.literal("adaptive"),
    minIdle: z.number().int().nonnegative(),
    maxIdle: z.number().int().positive(),
    /** Threshold decrease after an undisturbed copy, ns. */
    step: z.number().int().positive(),
    /** How long to wait before asking again while guest commands are outstanding, ns. */
    recheck: z.number().int().positive().default(1_000_000),
    /**
     * Beyond the paper: the threshold also doubles when one of the copier's
     * image-source requests overlapped a redirected guest read since the last
     * copy (the read may have waited behind it at the image server).
     */
    redirectAware: z.boolean().default(false),
  }).strict(),
]).superRefine((c, ctx) => {
  // The threshold moves between the two: a floor above the ceiling has no meaning.
  if (c.kind === "adaptive" && c.minIdle > c.maxIdle) {
    ctx.addIssue({
      code: "custom",
      path: ["maxIdle"],
      message: `must be >= minIdle (${c.minIdle})`,
    });
  }
});
/** Parsed policy configuration. */
export type CopyPolicyConfig = z.input<typeof CopyPolicySchema>;

/** What the copier knows when it asks. */
export interface CopyContext {
  /** Current simulated time, ns. */
  now: SimTime;
  /** Time the guest's last disk command completed or was issued, whichever is later. */
  lastGuestIo: SimTime;
  /** Guest commands issued and not completed. */
  guestOutstanding: number;
  /** Bytes of the next chunk. */
  chunkBytes: number;
  /**
   * The copier's image-source requests so far that overlapped a redirected
   * guest read (outstanding when issued, or started while it was at the source).
   */
  fetchOverlaps: number;
}

/** A policy's answer: copy now, or ask again at `at`. */
export type CopyDecision = { action: "copy" } | { action: "wait"; at: SimTime };

/** A background-copy policy. */
export interface CopyPolicy {
  /** Which policy this is (`kind` of its configuration). */
  readonly kind: CopyPolicyConfig["kind"];
  /** Whether the next chunk may be written now or when to ask again. */
  decide(ctx: CopyContext): CopyDecision;
  /** Called after each copy command with the guest queueing delay it caused, ns. */
  copied(ctx: CopyContext, guestDelay: SimTime): void;
  /** Current idle threshold (for recorders), ns; 0 where not applicable. */
  readonly idleThreshold: SimTime;
}

function idleDecision(ctx: CopyContext, threshold: SimTime, recheck: SimTime): CopyDecision {
  if (ctx.guestOutstanding > 0) {
    return { action: "wait", at: ctx.now + Math.max(recheck, threshold) };
  }
  const at = ctx.lastGuestIo + threshold;
  return at <= ctx.now ? { action: "copy" } : { action: "wait", at };
}

type Parsed = z.output<typeof CopyPolicySchema>;
const FACTORIES: {
  [K in Parsed["kind"]]: (c: Extract<Parsed, { kind: K }>) => CopyPolicy;
} = {
  idle: (c) => ({
    kind: "idle",
    idleThreshold: c.idleThreshold,
    decide: (ctx) => idleDecision(ctx, c.idleThreshold, c.recheck),
    copied: () => {},
  }),
  rate: (c) => {
    let tokens = c.burstBytes;
    let last = 0;
    return {
      kind: "rate",
      idleThreshold: 0,
      decide(ctx) {
        // The bucket never holds more than burstBytes: a larger chunk would wait forever.
        if (ctx.chunkBytes > c.burstBytes) {
          throw new RangeError(
            `Cannot copy with the rate policy: 'burstBytes' must be >= the copy chunk (${ctx.chunkBytes} bytes): current value is ${c.burstBytes}`,
          );
        }
        tokens = Math.min(c.burstBytes, tokens + ((ctx.now - last) / 1e9) * c.bytesPerSecond);
        last = ctx.now;
        if (tokens >= ctx.chunkBytes) return { action: "copy" };
        const wait = Math.ceil(((ctx.chunkBytes - tokens) / c.bytesPerSecond) * 1e9);
        return { action: "wait", at: ctx.now + Math.max(1, wait) };
      },
      copied(ctx) {
        tokens -= ctx.chunkBytes;
      },
    };
  },
  adaptive: (c) => {
    let threshold = c.minIdle;
    let overlaps = 0;
    return {
      kind: "adaptive",
      get idleThreshold() {
        return threshold;
      },
      decide: (ctx) => idleDecision(ctx, threshold, c.recheck),
      copied(ctx, guestDelay) {
        // A new overlap: a redirected read may have waited behind the copier's fetch.
        const overlapped = c.redirectAware && ctx.fetchOverlaps > overlaps;
        overlaps = ctx.fetchOverlaps;
        threshold = guestDelay > 0 || overlapped
          ? Math.min(c.maxIdle, Math.max(1, threshold) * 2)
          : Math.max(c.minIdle, threshold - c.step);
      },
    };
  },
};

/**
 * Builds a policy from its configuration, validated against lib/vmm's `CopyPolicySchema`.
 * @throws RangeError naming every field that breaks its rule, with its value
 * @example
 * ```ts
 * import { makeCopyPolicy } from "./copy_policy.ts";
 * const p = makeCopyPolicy({ kind: "idle", idleThreshold: 1_000_000 });
 * const d = p.decide({ now: 5_000_000, lastGuestIo: 4_500_000, guestOutstanding: 0, chunkBytes: 1 << 20, fetchOverlaps: 0 });
 * console.assert(d.action === "wait" && d.at === 5_500_000);
 * ```
 */
export function makeCopyPolicy(config: CopyPolicyConfig): CopyPolicy {
  const c = parseParams("make copy policy", CopyPolicySchema, config);
  // deno-lint-ignore no-explicit-any
  return (FACTORIES[c.kind] as (x: any) => CopyPolicy)(c);
}
