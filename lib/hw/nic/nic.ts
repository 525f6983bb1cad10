/**
 * A Gigabit Ethernet NIC (Intel 82575EB class) at frame level. Software puts
 * a message in the transmit ring and rings the doorbell (a write of TDT);
 * the NIC's one transmit engine takes the descriptors in ring order, frames
 * each payload (MTU, headers, preamble and gap) and sends it as one flow
 * through its host's network port, one message after another, at most at
 * line rate and at most one frame per descriptor-processing time. When a
 * message's last byte left, its descriptor is written back (TDH moves past
 * it, ICR.TXDW). On arrival a message takes the receive descriptor at RDH if
 * software gave the hardware one (RDT), sets ICR.RXT0 and raises the vector
 * unless an unread cause is already pending (interrupt coalescing); with no
 * free descriptor it is dropped and counted (MPC).
 *
 * Ring rules follow the 82575EB Software Developer's Manual (324632-003):
 * a ring is a multiple of 8 descriptors (RDLEN/TDLEN count 128-byte units,
 * bits 19:7); the hardware owns the descriptors from head to tail - 1 and
 * head == tail means it owns none, so a ring holds at most ringSize - 1
 * (§14.3.58-14.3.59 RDH/RDT and the descriptor ring structure of §5).
 * It exposes its registers as a {@link BusDevice}, so a VMM can trap them.
 */
import { rangeError, requireNumber } from "../../_util/mod.ts";
import type { Bytes, SimTime } from "../../_util/mod.ts";
import {
  frameCount,
  type Framing,
  framing,
  type FramingOptions,
  type Network,
  type Packet,
  wireBytes,
} from "../../net/mod.ts";
import type { SimEvent } from "../../sim/mod.ts";
import type { InterruptController } from "../interrupts.ts";
import type { AccessSize, BusDevice } from "../mmio.ts";
import { NicIcr, NicReg, NicStatus } from "./registers.ts";

/** Options of {@link Nic}. */
export interface NicOptions {
  /** Device label (flow names, error messages). */
  name: string;
  /** Network the NIC's host port is attached to. */
  network: Network;
  /** Network host whose port this NIC is. */
  host: string;
  /** Where receive/transmit interrupts go. */
  interrupts: InterruptController;
  /** MSI vector. */
  vector: number;
  /** Line rate, bits/s. 1000BASE-T: 1e9. @default 1e9 */
  lineRate?: number;
  /** Framing of messages. @default { mtu: 1500, transport: "tcp" } */
  framing?: FramingOptions;
  /** NIC time per transmit descriptor (fetch, DMA, write-back), ns; pipelined with the wire. @default 0 */
  txDescriptorCost?: SimTime;
  /** NIC time per receive descriptor (DMA, write-back), ns; the last one delays the interrupt. @default 0 */
  rxDescriptorCost?: SimTime;
  /**
   * Descriptors per ring (transmit and receive): a multiple of 8 (RDLEN/TDLEN
   * are 128-byte units of 16-byte descriptors) from 8 to 4096 (the Linux igb
   * driver's IGB_MAX_TXD/IGB_MAX_RXD). @default 256
   */
  ringSize?: number;
}

/** A message to send. */
export interface NicMessage<T = unknown> {
  /** Destination network host. */
  to: string;
  /** Destination port on that host (see {@link Nic.bind}). */
  port: string;
  /** Application payload bytes (framing is added). */
  bytes: Bytes;
  /** Opaque data handed to the receiver as the packet's `payload`. */
  payload?: T;
}

interface TxJob {
  msg: NicMessage;
  done: SimEvent<void>;
}

/** What a NIC puts on the wire: only NICs make these, so a receiver can tell its own framing. */
class Wire {
  constructor(readonly frames: number, readonly data: unknown, readonly bytes: Bytes) {}
}

/** Counters. */
export interface NicStats {
  /** Messages the transmit engine took from the ring and put on the wire. */
  txMessages: number;
  /** Ethernet frames transmitted (after MTU segmentation). */
  txFrames: number;
  /** Bytes put on the wire, including headers, preamble and inter-frame gap. */
  txWireBytes: Bytes;
  /** Messages placed in the receive ring. */
  rxMessages: number;
  /** Ethernet frames of the messages placed in the receive ring. */
  rxFrames: number;
  /** Messages dropped because the hardware owned no free receive descriptor (MPC). */
  rxMissed: number;
  /** Messages on a bound port that no NIC framed (a plain {@link Network.send}): dropped. */
  rxUnframed: number;
  /** TDT writes that pointed past the descriptors software had filled. */
  badDoorbells: number;
  /** Interrupts raised on {@link NicOptions.vector}. */
  interrupts: number;
}

/**
 * The NIC.
 * @example
 * ```ts
 * import { Simulation } from "../../sim/mod.ts";
 * import { starNetwork } from "../../net/mod.ts";
 * import { InterruptController } from "../interrupts.ts";
 * import { Nic } from "./nic.ts";
 * import { NicReg } from "./registers.ts";
 * const sim = new Simulation();
 * const net = starNetwork(sim, { switchLatency: 0, hosts: ["a", "b"], bandwidth: 125e6 });
 * const ic = new InterruptController(sim, { latency: 0 });
 * const tx = new Nic({ name: "nic-a", network: net, host: "a", interrupts: ic, vector: 40 });
 * const rx = new Nic({ name: "nic-b", network: net, host: "b", interrupts: ic, vector: 41 });
 * rx.bind("app");
 * rx.write(NicReg.RDT, 4, rx.ringSize - 1); // the driver gives the hardware its receive buffers
 * rx.write(NicReg.IMS, 4, 0xffff_ffff);
 * let got = 0;
 * ic.onVector(41, () => { rx.read(NicReg.ICR, 4); got += rx.drain().length; });
 * tx.send({ to: "b", port: "app", bytes: 1448 * 10 }); // ten full frames
 * sim.run();
 * console.assert(got === 1 && tx.stats.txFrames === 10 && sim.now === 10 * 1538 * 8);
 * ```
 */
export class Nic implements BusDevice {
  /** Device label (flow names, error messages). */
  readonly name: string;
  /** Network the NIC's host port is attached to. */
  readonly network: Network;
  /** Network host whose port this NIC is. */
  readonly host: string;
  /** MSI vector raised on receive and transmit causes. */
  readonly vector: number;
  /** Line rate, bits/s. */
  readonly lineRate: number;
  /** Resolved framing (MTU, per-frame overheads) applied to every message. */
  readonly framing: Framing;
  /** NIC time per transmit descriptor, ns; delays the first frame and caps the frame rate. */
  readonly txDescriptorCost: SimTime;
  /** NIC time per receive descriptor, ns; delays the receive interrupt. */
  readonly rxDescriptorCost: SimTime;
  /** Descriptors per ring (transmit and receive). */
  readonly ringSize: number;
  /** Transmit, receive and interrupt counters since creation. */
  readonly stats: NicStats = {
    txMessages: 0,
    txFrames: 0,
    txWireBytes: 0,
    rxMessages: 0,
    rxFrames: 0,
    rxMissed: 0,
    rxUnframed: 0,
    badDoorbells: 0,
    interrupts: 0,
  };
  #ic: InterruptController;
  #ctrl = 0;
  #icr = 0;
  #ims = 0;
  #rdh = 0;
  #rdt = 0;
  #tdt = 0;
  #tdh = 0;
  #mpc = 0;
  /**
   * Descriptors past the doorbell (hardware-owned, TDH to TDT - 1), oldest
   * first; [0] is being fetched or is on the wire: the transmit engine is busy
   * exactly while this is not empty.
   */
  #txQueue: TxJob[] = [];
  /** Descriptors software filled but has not rung the doorbell for yet. */
  #txRing: TxJob[] = [];
  #rxRing: Packet[] = [];
  #unbind: (() => void)[] = [];

  /**
   * Creates a NIC with all registers 0, as after reset: interrupts masked,
   * empty rings, and RDH == RDT, so the hardware owns no receive descriptor
   * until software writes RDT.
   * @param options Host port, interrupt vector, rates and costs (validated).
   */
  constructor(options: NicOptions) {
    const {
      name,
      network,
      host,
      interrupts,
      vector,
      lineRate = 1e9,
      txDescriptorCost = 0,
      rxDescriptorCost = 0,
      ringSize = 256,
    } = options;
    const what = `create NIC '${name}'`;
    network.node(host);
    requireNumber(what, "vector", vector, { integer: true, min: 0 });
    requireNumber(what, "lineRate", lineRate, { min: 0, strict: true });
    requireNumber(what, "txDescriptorCost", txDescriptorCost, { integer: true, min: 0 });
    requireNumber(what, "rxDescriptorCost", rxDescriptorCost, { integer: true, min: 0 });
    requireNumber(what, "ringSize", ringSize, { integer: true, min: 8 });
    if (ringSize % 8 !== 0 || ringSize > 4096) {
      throw rangeError(what, "ringSize", "a multiple of 8 from 8 to 4096", ringSize);
    }
    this.name = name;
    this.network = network;
    this.host = host;
    this.vector = vector;
    this.lineRate = lineRate;
    this.framing = framing(options.framing);
    this.txDescriptorCost = txDescriptorCost;
    this.rxDescriptorCost = rxDescriptorCost;
    this.ringSize = ringSize;
    this.#ic = interrupts;
  }

  /**
   * Highest wire rate the NIC sustains, bytes/s: the line rate, or one full
   * frame per descriptor time if that is slower.
   */
  get maxWireRate(): number {
    const line = this.lineRate / 8;
    if (this.txDescriptorCost === 0) return line;
    return Math.min(line, (this.framing.wirePerFrame * 1e9) / this.txDescriptorCost);
  }

  /** Receives messages addressed to `port` on this host. */
  bind(port: string): void {
    this.#unbind.push(this.network.listen(this.host, port, (p) => this.#arrive(p)));
  }

  /** Stops receiving on all bound ports. */
  unbindAll(): void {
    for (const u of this.#unbind.splice(0)) u();
  }

  /**
   * Fills the next transmit descriptor (software's part); the NIC sends it
   * once TDT moves past it. Returns the event of its delivery at the
   * receiver (its descriptor is written back earlier, when the last byte left).
   * @throws RangeError when the ring is full: it holds at most ringSize - 1
   * descriptors not yet written back (head == tail means empty).
   */
  post(msg: NicMessage): SimEvent<void> {
    const what = `send on NIC '${this.name}'`;
    requireNumber(what, "bytes", msg.bytes, { min: 0 });
    if (this.txFree === 0) {
      throw rangeError(
        what,
        "txFree",
        `> 0 (the ring holds at most ringSize - 1 = ${
          this.ringSize - 1
        } descriptors not yet written back)`,
        this.txFree,
      );
    }
    this.network.route(this.host, msg.to);
    const done = this.network.sim.event<void>();
    this.#txRing.push({ msg, done });
    return done;
  }

  /** Transmit descriptors software may still fill: ringSize - 1 minus those not yet written back. */
  get txFree(): number {
    return this.ringSize - 1 - this.#txQueue.length - this.#txRing.length;
  }

  /** The tail value that covers every posted descriptor. */
  get postedTail(): number {
    return (this.#tdh + this.#txQueue.length + this.#txRing.length) % this.ringSize;
  }

  /**
   * Posts and rings the doorbell directly (a driver in VMX root mode or a
   * test). Guest drivers should `post()` and write TDT through `Cpu.mmio`.
   */
  send(msg: NicMessage): SimEvent<void> {
    const done = this.post(msg);
    this.write(NicReg.TDT, 4, this.postedTail);
    return done;
  }

  /**
   * The driver's receive routine: takes the received messages, oldest first,
   * and gives their descriptors back to the hardware (RDT moves forward by
   * their number).
   */
  drain(): Packet[] {
    const got = this.#rxRing.splice(0);
    this.#rdt = (this.#rdt + got.length) % this.ringSize;
    return got;
  }

  /** Messages waiting in the receive ring. */
  get rxPending(): number {
    return this.#rxRing.length;
  }

  read(offset: number, _size: AccessSize): number {
    const h = READS[offset as NicReg];
    return h === undefined ? 0 : h(this);
  }

  write(offset: number, _size: AccessSize, value: number): void {
    WRITES[offset as NicReg]?.(this, value >>> 0);
  }

  /** @internal */ _readIcr(): number {
    const v = this.#icr;
    this.#icr = 0; // read-to-clear (§8.8.1)
    return v;
  }
  /** @internal */ _regs() {
    return {
      ctrl: this.#ctrl,
      ims: this.#ims,
      rdh: this.#rdh,
      rdt: this.#rdt,
      tdt: this.#tdt,
      tdh: this.#tdh,
    };
  }
  /** @internal */ _readMpc(): number {
    const v = this.#mpc;
    this.#mpc = 0;
    return v;
  }
  /** @internal */ _setCtrl(v: number): void {
    this.#ctrl = v;
  }
  /** @internal IMS/IMC write; unmasking a pending cause raises it (MSI on the 0->1 edge). */
  _setIms(v: number, set: boolean): void {
    const before = (this.#icr & this.#ims) !== 0;
    this.#ims = set ? this.#ims | v : this.#ims & ~v;
    if (!before && (this.#icr & this.#ims) !== 0) this.#raise();
  }
  /** @internal */ _setRdt(v: number): void {
    this.#rdt = v % this.ringSize;
  }
  /** @internal */ _cause(bits: number): void {
    const pending = (this.#icr & this.#ims) !== 0;
    this.#icr |= bits;
    if (!pending && (this.#icr & this.#ims) !== 0) this.#raise();
  }

  #raise(): void {
    this.stats.interrupts++;
    this.#ic.raise(this.vector);
  }

  /**
   * @internal TDT written: the descriptors from the last tail to the new one
   * go to the transmit engine.
   */
  _doorbell(tail: number): void {
    const n = tail % this.ringSize;
    const queuedTail = (this.#tdh + this.#txQueue.length) % this.ringSize;
    let count = (n - queuedTail + this.ringSize) % this.ringSize;
    if (count > this.#txRing.length) {
      this.stats.badDoorbells++; // tail beyond filled descriptors: the NIC would send garbage; we send what exists
      count = this.#txRing.length;
    }
    this.#tdt = n;
    const idle = this.#txQueue.length === 0;
    for (const job of this.#txRing.splice(0, count)) this.#txQueue.push(job);
    if (idle && this.#txQueue.length > 0) {
      // An idle engine fetches the first descriptor before its first frame.
      this.network.sim.call(this.txDescriptorCost, () => this.#transmitHead());
    }
  }

  /**
   * Sends the oldest queued message. The NIC has one transmit engine, so its
   * messages leave one after another and together stay within
   * {@link Nic.maxWireRate}; the next descriptor is fetched while this one is
   * on the wire.
   */
  #transmitHead(): void {
    const job = this.#txQueue[0];
    const { msg } = job;
    const frames = frameCount(msg.bytes, this.framing);
    const bytes = wireBytes(msg.bytes, this.framing);
    this.stats.txMessages++;
    this.stats.txFrames += frames;
    this.stats.txWireBytes += bytes;
    const f = this.network.send({
      from: this.host,
      to: msg.to,
      port: msg.port,
      bytes,
      payload: new Wire(frames, msg.payload, msg.bytes),
      maxRate: this.maxWireRate,
      name: `${this.name}:tx`,
    });
    f.sent.then(() => {
      // Last byte out: the descriptor is written back (DD, SDM §5.6.5.4), TDH passes it, TXDW.
      this.#txQueue.shift();
      this.#tdh = (this.#tdh + 1) % this.ringSize;
      this._cause(NicIcr.TXDW);
      if (this.#txQueue.length > 0) this.#transmitHead();
    });
    f.then(() => job.done.succeed());
  }

  #arrive(p: Packet): void {
    const w = p.payload;
    if (!(w instanceof Wire)) {
      this.stats.rxUnframed++; // not a NIC's frames: nothing the receive path can take
      return;
    }
    const packet: Packet = { ...p, bytes: w.bytes, payload: w.data };
    this.network.sim.call(this.rxDescriptorCost, () => {
      if (this.#rdh === this.#rdt) {
        // Head == tail: the hardware owns no free descriptor. The 82575 would hold the
        // packet in its receive FIFO (RNBC) and drop it when that fills (MPC); the model
        // has no FIFO and drops it at once.
        this.stats.rxMissed++;
        this.#mpc++;
        return;
      }
      this.#rdh = (this.#rdh + 1) % this.ringSize;
      this.stats.rxMessages++;
      this.stats.rxFrames += w.frames;
      this.#rxRing.push(packet);
      this._cause(NicIcr.RXT0);
    });
  }
}

type ReadHandler = (nic: Nic) => number;
type WriteHandler = (nic: Nic, value: number) => void;

/** Register reads; unknown offsets read 0 (reserved, §8.1). */
const READS: Partial<Record<NicReg, ReadHandler>> = {
  [NicReg.CTRL]: (n) => n._regs().ctrl,
  [NicReg.STATUS]: () => NicStatus.FD | NicStatus.LU | NicStatus.SPEED_1000,
  [NicReg.ICR]: (n) => n._readIcr(),
  [NicReg.IMS]: (n) => n._regs().ims,
  [NicReg.RDH]: (n) => n._regs().rdh,
  [NicReg.RDT]: (n) => n._regs().rdt,
  [NicReg.TDH]: (n) => n._regs().tdh,
  [NicReg.TDT]: (n) => n._regs().tdt,
  [NicReg.MPC]: (n) => n._readMpc(),
};

/** Register writes; unknown offsets and read-only registers ignore writes. */
const WRITES: Partial<Record<NicReg, WriteHandler>> = {
  [NicReg.CTRL]: (n, v) => n._setCtrl(v),
  [NicReg.ICS]: (n, v) => n._cause(v),
  [NicReg.IMS]: (n, v) => n._setIms(v, true),
  [NicReg.IMC]: (n, v) => n._setIms(v, false),
  [NicReg.RDT]: (n, v) => n._setRdt(v),
  [NicReg.TDT]: (n, v) => n._doorbell(v),
};
