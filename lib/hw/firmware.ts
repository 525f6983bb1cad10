/**
 * Platform firmware (BIOS) as far as deployment sees it: power-on self test,
 * PXE network boot (Intel PXE 2.1: DHCP DISCOVER/OFFER/REQUEST/ACK, then
 * TFTP of the network bootstrap program), and local-disk boot that hands
 * control to a bootloader. TFTP (RFC 1350) is lock-step: the server sends
 * block k only after the ACK of block k-1, so the transfer takes one round
 * trip per block and grows with both the payload and the round-trip time;
 * the block size may be negotiated (RFC 2348 blksize option). Messages are
 * flows over the network, so many machines booting at once share the
 * server's link. Option ROM code, the int 13h disk service and ARP are not
 * modelled.
 */
import { requireNumber } from "../_util/mod.ts";
import type { Bytes, SimTime } from "../_util/mod.ts";
import { type Framing, framing, type Network, wireBytes } from "../net/mod.ts";
import type { ProcessGenerator, Recorder, Simulation } from "../sim/mod.ts";

/**
 * Firmware states; {@link Firmware.transition} allows only the edges below.
 * Power goes off only between boots (idle, handed-off): a boot in progress
 * (post, pxe, local-boot) must finish first.
 */
export type FirmwareState = "off" | "post" | "idle" | "pxe" | "local-boot" | "handed-off";

const EDGES: Record<FirmwareState, readonly FirmwareState[]> = {
  off: ["post"],
  post: ["idle"],
  idle: ["pxe", "local-boot", "off"],
  pxe: ["idle"], // the loaded program may call back into firmware (BMcast's VMM boots the OS)
  "local-boot": ["handed-off"],
  "handed-off": ["off"],
};

/**
 * What to do instead of an illegal edge, by the state it left from: a boot
 * asked of firmware that is off most likely forgot the power-on.
 */
const HINTS: Partial<Record<FirmwareState, string>> = {
  off: "power the node on first: yield* node.firmware.powerOn()",
};

/** States in which a boot is in progress (a process is timing it). */
const BOOTING: readonly FirmwareState[] = ["post", "pxe", "local-boot"];

/** Phases reported to callbacks and the recorder. */
export type FirmwarePhase = "post" | "dhcp" | "tftp" | "local-boot";

/** PXE options. */
export interface PxeOptions {
  /** Network that carries the DHCP and TFTP messages as flows. */
  network: Network;
  /** This machine's network host. */
  host: string;
  /** Host running the DHCP and TFTP servers. */
  server: string;
  /** Receive-side handling of each DHCP message (stack + PXE ROM), ns. @default 0 */
  dhcpMessageLatency?: SimTime;
  /** Server think time before OFFER and before ACK, ns. @default 0 */
  dhcpServerDelay?: SimTime;
  /** DHCP message size (UDP payload), an integer >= 300 (RFC 1542 §2.1: at least 300 bytes). @default 300 */
  dhcpMessageBytes?: Bytes;
  /** TFTP block size: 512 (RFC 1350) unless a blksize is negotiated (RFC 2348: 8..65464). @default 512 */
  tftpBlockSize?: Bytes;
  /** Handling of one TFTP packet at its receiver (client or server), ns. @default 0 */
  tftpPacketLatency?: SimTime;
  /** Framing below UDP. @default { mtu: 1500 } */
  mtu?: number;
}

type ResolvedPxe = Required<Omit<PxeOptions, "mtu">> & { framing: Framing };

/** Options of {@link Firmware}. */
export interface FirmwareOptions {
  /** Simulation that times the boot phases. */
  sim: Simulation;
  /** Name in spans. */
  name: string;
  /** Duration of the power-on self test (memory test, option ROMs), ns. */
  postDuration: SimTime;
  /** Network boot settings; required for {@link Firmware.pxeBoot}. */
  pxe?: PxeOptions;
  /** Boot device selection and MBR load before the bootloader runs, ns. @default 0 */
  localBootDelay?: SimTime;
  /** Code that runs after local boot hands over control. */
  bootloader?: (fw: Firmware) => ProcessGenerator<void>;
  /** Called at the start and end of each phase. */
  onPhase?: (phase: FirmwarePhase, edge: "begin" | "end", time: SimTime) => void;
  /** Receives phase spans. */
  recorder?: Recorder;
}

/** Outcome of a PXE boot. */
export interface PxeResult {
  /** DHCP exchange duration, ns. */
  dhcp: SimTime;
  /** TFTP transfer duration (request to last ACK), ns. */
  tftp: SimTime;
  /** TFTP data blocks received. */
  blocks: number;
}

/**
 * The firmware of one machine.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { starNetwork } from "../net/mod.ts";
 * import { Firmware } from "./firmware.ts";
 * const sim = new Simulation();
 * const network = starNetwork(sim, { switchLatency: 0, hosts: ["srv", "n0"], bandwidth: 125e6, latency: 25_000 });
 * const fw = new Firmware({ sim, name: "n0", postDuration: 30e9, pxe: { network, host: "n0", server: "srv" } });
 * const p = sim.process(function* () {
 *   yield* fw.powerOn();
 *   return yield* fw.pxeBoot({ payloadBytes: 1024 });
 * });
 * sim.run();
 * // 1024 bytes = two full blocks and an empty last one; each block costs about one 100 us RTT.
 * console.assert(p.value.blocks === 3 && p.value.tftp > 3 * 100_000);
 * ```
 */
export class Firmware {
  /** Simulation that times the boot phases. */
  readonly sim: Simulation;
  /** Machine name, used in spans and error messages. */
  readonly name: string;
  /** Duration of the power-on self test, ns. */
  readonly postDuration: SimTime;
  /** Boot device selection and MBR load before the bootloader runs, ns. */
  readonly localBootDelay: SimTime;
  /** Current firmware state; changed only through {@link Firmware.transition}. */
  state: FirmwareState = "off";
  #pxe: ResolvedPxe | undefined;
  #opts: FirmwareOptions;

  /**
   * Creates powered-off firmware.
   * @param options Machine name, POST and boot delays, PXE settings (validated).
   */
  constructor(options: FirmwareOptions) {
    const what = `create firmware '${options.name}'`;
    requireNumber(what, "postDuration", options.postDuration, { integer: true, min: 0 });
    const localBootDelay = options.localBootDelay ?? 0;
    requireNumber(what, "localBootDelay", localBootDelay, { integer: true, min: 0 });
    this.sim = options.sim;
    this.name = options.name;
    this.postDuration = options.postDuration;
    this.localBootDelay = localBootDelay;
    this.#opts = options;
    if (options.pxe !== undefined) this.#pxe = checkPxe(what, options.pxe);
  }

  /**
   * Changes state.
   * @throws Error on an edge the firmware cannot take, with a hint where one
   *   helps (a boot asked while off: power on first)
   */
  transition(to: FirmwareState): void {
    if (!EDGES[this.state].includes(to)) {
      const hint = HINTS[this.state];
      throw new Error(
        `firmware '${this.name}': illegal transition ${this.state} -> ${to}` +
          (hint === undefined ? "" : `: ${hint}`),
      );
    }
    this.state = to;
  }

  /** Power-on self test; leaves the firmware idle, ready to boot. */
  *powerOn(): ProcessGenerator<void> {
    this.transition("post");
    yield* this.#phase("post", () => this.#wait(this.postDuration));
    this.transition("idle");
  }

  /**
   * Cuts power when no boot is in progress (from idle or handed-off; nothing
   * to do when off). Cutting a boot short is not modelled: the process timing
   * it would go on into states the machine has left.
   * @throws Error while POST, a PXE boot or a local boot is in progress.
   */
  powerOff(): void {
    if (BOOTING.includes(this.state)) {
      throw new Error(
        `Cannot power off firmware '${this.name}': a boot is in progress (state '${this.state}'); power off once it has finished`,
      );
    }
    if (this.state !== "off") this.transition("off");
  }

  /** DHCP, then TFTP of a `payloadBytes` network bootstrap program. */
  *pxeBoot(options: { payloadBytes: Bytes }): ProcessGenerator<PxeResult> {
    const pxe = this.#pxe;
    if (pxe === undefined) {
      throw new TypeError(`Cannot PXE boot '${this.name}': 'pxe' options were not given`);
    }
    requireNumber(`PXE boot '${this.name}'`, "payloadBytes", options.payloadBytes, {
      integer: true,
      min: 0,
    });
    this.transition("pxe");
    const t0 = this.sim.now;
    yield* this.#phase("dhcp", () => this.#dhcp(pxe));
    const t1 = this.sim.now;
    const blocks = yield* this.#phase("tftp", () => this.#tftp(pxe, options.payloadBytes));
    this.transition("idle");
    return { dhcp: t1 - t0, tftp: this.sim.now - t1, blocks };
  }

  /** Boots from the local disk and runs the bootloader callback. */
  *localBoot(): ProcessGenerator<void> {
    this.transition("local-boot");
    yield* this.#phase("local-boot", () => this.#wait(this.localBootDelay));
    this.transition("handed-off");
    if (this.#opts.bootloader !== undefined) yield* this.#opts.bootloader(this);
  }

  *#phase<T>(phase: FirmwarePhase, body: () => ProcessGenerator<T>): ProcessGenerator<T> {
    const { onPhase, recorder } = this.#opts;
    onPhase?.(phase, "begin", this.sim.now);
    recorder?.begin(this.name, phase);
    const r = yield* body();
    recorder?.end(this.name, phase);
    onPhase?.(phase, "end", this.sim.now);
    return r;
  }

  *#wait(t: SimTime): ProcessGenerator<void> {
    if (t > 0) yield this.sim.timeout(t);
  }

  /** One UDP datagram of `bytes` from `from` to `to`, then `handling` at the receiver. */
  *#datagram(
    pxe: ResolvedPxe,
    from: string,
    to: string,
    bytes: Bytes,
    handling: SimTime,
  ): ProcessGenerator<void> {
    const net = pxe.network;
    yield net.flows.flow({
      route: net.route(from, to),
      bytes: wireBytes(bytes, pxe.framing),
      name: `${this.name}:pxe`,
    });
    yield* this.#wait(handling);
  }

  *#dhcp(pxe: ResolvedPxe): ProcessGenerator<void> {
    const { host, server, dhcpMessageBytes: n, dhcpMessageLatency: l, dhcpServerDelay } = pxe;
    yield* this.#datagram(pxe, host, server, n, l); // DISCOVER (broadcast; the server is one hop away)
    yield* this.#wait(dhcpServerDelay);
    yield* this.#datagram(pxe, server, host, n, l); // OFFER
    yield* this.#datagram(pxe, host, server, n, l); // REQUEST
    yield* this.#wait(dhcpServerDelay);
    yield* this.#datagram(pxe, server, host, n, l); // ACK
  }

  *#tftp(pxe: ResolvedPxe, payload: Bytes): ProcessGenerator<number> {
    const { host, server, tftpBlockSize: blk, tftpPacketLatency: l } = pxe;
    const negotiated = blk !== 512;
    // RRQ: opcode 2 + "filename\0octet\0" (+ "blksize\0N\0"), about 32 bytes.
    yield* this.#datagram(pxe, host, server, negotiated ? 48 : 32, l);
    if (negotiated) {
      yield* this.#datagram(pxe, server, host, 20, l); // OACK (RFC 2347)
      yield* this.#datagram(pxe, host, server, 4, l); // ACK of block 0
    }
    // The last block is short; a payload that is a multiple of the block size ends with an empty block.
    const blocks = Math.floor(payload / blk) + 1;
    for (let k = 0; k < blocks; k++) {
      const data = k < blocks - 1 ? blk : payload - (blocks - 1) * blk;
      yield* this.#datagram(pxe, server, host, 4 + data, l); // DATA: opcode, block number, data
      yield* this.#datagram(pxe, host, server, 4, l); // ACK
    }
    return blocks;
  }
}

function checkPxe(
  what: string,
  p: PxeOptions,
): ResolvedPxe {
  p.network.route(p.host, p.server);
  const {
    dhcpMessageLatency = 0,
    dhcpServerDelay = 0,
    dhcpMessageBytes = 300,
    tftpBlockSize = 512,
    tftpPacketLatency = 0,
  } = p;
  requireNumber(what, "pxe.dhcpMessageLatency", dhcpMessageLatency, { integer: true, min: 0 });
  requireNumber(what, "pxe.dhcpServerDelay", dhcpServerDelay, { integer: true, min: 0 });
  requireNumber(what, "pxe.dhcpMessageBytes", dhcpMessageBytes, { integer: true, min: 300 });
  requireNumber(what, "pxe.tftpPacketLatency", tftpPacketLatency, { integer: true, min: 0 });
  if (!(Number.isInteger(tftpBlockSize) && tftpBlockSize >= 8 && tftpBlockSize <= 65464)) {
    throw new RangeError(
      `Cannot ${what}: 'pxe.tftpBlockSize' must be an integer in [8, 65464] (RFC 2348): current value is ${tftpBlockSize}`,
    );
  }
  return {
    network: p.network,
    host: p.host,
    server: p.server,
    dhcpMessageLatency,
    dhcpServerDelay,
    dhcpMessageBytes,
    tftpBlockSize,
    tftpPacketLatency,
    framing: framing({ mtu: p.mtu, transport: "udp" }),
  };
}
