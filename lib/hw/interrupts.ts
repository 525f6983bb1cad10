/**
 * Interrupt delivery to the OS (a simplified MSI/IOAPIC): a device raises a
 * vector; the handler the OS registered runs after the delivery latency.
 * Under BMcast external interrupts go straight to the guest (no interrupt
 * exiting), so nothing here knows about a VMM. Counts every delivery so
 * tests can prove that no VMM-caused interrupt ever reaches the guest.
 */
import { requireNumber } from "../_util/mod.ts";
import type { SimTime } from "../_util/mod.ts";
import type { Simulation } from "../sim/mod.ts";

/**
 * Vectors and their handlers.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { InterruptController } from "./interrupts.ts";
 * const sim = new Simulation();
 * const ic = new InterruptController(sim, { latency: 500 });
 * let at = -1;
 * ic.onVector(40, () => (at = sim.now));
 * ic.raise(40);
 * sim.run();
 * console.assert(at === 500);
 * ```
 */
export class InterruptController {
  /** Delay from {@link InterruptController.raise} to the handler running, ns. */
  readonly latency: SimTime;
  /** Deliveries per vector. */
  readonly delivered = new Map<number, number>();
  /** Raises with no handler registered (spurious from the OS's view). */
  spurious = 0;
  #handlers = new Map<number, () => void>();

  /**
   * Creates a controller with no handlers registered.
   * @param sim Simulation that schedules deliveries.
   * @param options.latency Delivery latency, ns (an integer >= 0).
   * @throws RangeError when the latency is not an integer >= 0.
   */
  constructor(readonly sim: Simulation, options: { latency: SimTime }) {
    requireNumber("create interrupt controller", "latency", options.latency, {
      integer: true,
      min: 0,
    });
    this.latency = options.latency;
  }

  /** Registers the OS handler for `vector` (replaces any previous one). */
  onVector(vector: number, handler: () => void): void {
    this.#handlers.set(vector, handler);
  }

  /** A device (or a VMM injecting an event) raises `vector`. */
  raise(vector: number): void {
    this.sim.call(this.latency, () => {
      this.delivered.set(vector, (this.delivered.get(vector) ?? 0) + 1);
      const h = this.#handlers.get(vector);
      if (h === undefined) this.spurious++;
      else h();
    });
  }
}
