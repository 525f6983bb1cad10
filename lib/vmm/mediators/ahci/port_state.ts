/**
 * The mediator's view of one AHCI port, followed from the guest's register
 * writes (I/O interpretation of state transitions, AHCI 1.3.1 §10.3):
 * `idle` (ST=0, no list), `running` (guest set ST with its list shadowed),
 * `detaching` (the VMM is handing the port back), `native` (the hardware uses
 * the guest's own structures; the mediator is gone).
 * @module
 */

/** Mediated port state. */
export type PortState = "idle" | "running" | "detaching" | "native";

const EDGES: Record<PortState, readonly PortState[]> = {
  idle: ["running", "detaching"],
  running: ["idle", "detaching"],
  detaching: ["native"],
  native: [],
};

/**
 * Applies a transition; throws on an edge the mediator never takes.
 * @example
 * ```ts
 * import { nextPortState } from "./port_state.ts";
 * console.assert(nextPortState("idle", "running") === "running");
 * ```
 */
export function nextPortState(from: PortState, to: PortState): PortState {
  if (from === to) return to;
  if (!EDGES[from].includes(to)) {
    throw new Error(`ahci mediator: illegal port transition ${from} -> ${to}`);
  }
  return to;
}
