/**
 * Hosts, switches and full-duplex links on top of the kernel's
 * {@link FlowNetwork}: each cable is two directed links, routes are shortest
 * paths that forward only through switches, and a switch's forwarding latency
 * is charged on its egress links (each traversal uses exactly one egress
 * link, so a route pays each switch once). Messages are flows of wire bytes
 * delivered to a listener on (host, port) after the last byte arrives.
 */
import { requireNumber } from "../_util/mod.ts";
import type { Bytes, SimTime } from "../_util/mod.ts";
import { type Flow, FlowNetwork, type Link, type Simulation } from "../sim/mod.ts";

/** What a node is: hosts end routes, switches forward. */
export type NodeKind = "host" | "switch";

/** A node of the topology. */
export interface NetNode {
  /** Unique node name (host or switch), used in routes and messages. */
  readonly name: string;
  /** Whether the node ends routes (host) or forwards (switch). */
  readonly kind: NodeKind;
  /** Forwarding latency added to every egress link (switches), ns. */
  readonly forwardingLatency: SimTime;
}

/** Options of {@link Network.connect}. */
export interface ConnectOptions {
  /** One end (node name). */
  a: string;
  /** Other end (node name). */
  b: string;
  /** Capacity of each direction, bytes/s (line rate, wire bytes). */
  bandwidth: number;
  /** Propagation delay of the cable, ns. @default 0 */
  latency?: SimTime;
}

/** A message as delivered to a listener. */
export interface Packet<T = unknown> {
  /** Sending host. */
  from: string;
  /** Receiving host. */
  to: string;
  /** Listener port at `to` it was delivered to. */
  port: string;
  /** Port at `from` that answers go to. */
  replyPort: string;
  /** Wire bytes the message occupied. */
  bytes: Bytes;
  /** What the sender attached, unchanged (undefined when none). */
  payload: T;
  /** When the sender started it. */
  sentAt: SimTime;
}

/**
 * A host that cannot be reached for a while (a crashed or rebooting server,
 * a pulled cable). A message to or from it that starts in [start, end) is
 * lost and sent again by its sender's transport after a retransmission
 * timeout that doubles after each try, up to `maxTimeout` (TCP's back-off,
 * RFC 6298 section 5.5), until a try falls at or after `end`. Messages
 * already on the wire when it starts still arrive.
 */
export interface OutageOptions {
  /** The host that is unreachable. */
  host: string;
  /** When it goes away, ns. */
  start: SimTime;
  /** When it is back, ns (after `start`). */
  end: SimTime;
  /** The sender's first retransmission timeout, ns (> 0). */
  initialTimeout: SimTime;
  /** Largest retransmission timeout, ns (at least `initialTimeout`). */
  maxTimeout: SimTime;
}

/** Options of {@link Network.send}. */
export interface SendOptions<T = unknown> {
  /** Sending host (node name). */
  from: string;
  /** Destination host (node name). */
  to: string;
  /** Listener port at `to`. @default "default" */
  port?: string;
  /** Port at `from` for answers. @default "default" */
  replyPort?: string;
  /** Wire bytes (use the Ethernet or protocol helpers to add framing). */
  bytes: Bytes;
  /** Handed to the listener unchanged; costs nothing beyond `bytes`. */
  payload?: T;
  /** Sender-side rate cap, bytes/s (NIC, window). @default Infinity */
  maxRate?: number;
  /** Label for traces. */
  name?: string;
}

/** Options of {@link Network.multicast}: {@link SendOptions} with a group of receivers. */
export interface MulticastOptions<T = unknown> extends Omit<SendOptions<T>, "to"> {
  /** Receiving hosts (at least one; the sender and repeats are not allowed). */
  to: readonly string[];
}

/** A listener for messages arriving at (host, port). */
export type PacketHandler = (packet: Packet) => void;

/**
 * A switched network.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { Network } from "./network.ts";
 * const sim = new Simulation();
 * const net = new Network(sim);
 * net.addSwitch({ name: "sw", latency: 1_000 });
 * net.addHost("a");
 * net.addHost("b");
 * net.connect({ a: "a", b: "sw", bandwidth: 125e6, latency: 50 });
 * net.connect({ a: "b", b: "sw", bandwidth: 125e6, latency: 50 });
 * let at = -1;
 * net.listen("b", "echo", () => (at = sim.now));
 * net.send({ from: "a", to: "b", port: "echo", bytes: 125 });
 * sim.run();
 * console.assert(net.route("a", "b").length === 2);
 * console.assert(at === 1_000 + 50 + 1_000 + 50); // 1 us at 125 MB/s, cables, one switch
 * ```
 */
export class Network {
  /** The kernel flow network carrying the messages (possibly shared with other traffic). */
  readonly flows: FlowNetwork;
  /** Messages that reached a port nobody listens on. */
  dropped = 0;
  /** Messages delivered to a listener. */
  delivered = 0;
  /** Messages {@link Network.sendRetrying} held back because an end was unreachable. */
  heldBack = 0;
  /** Tries of those messages that were lost in an outage (each one timeout). */
  lostTries = 0;
  /**
   * Datagrams lost in an outage: {@link Network.sendDatagram} messages and
   * multicast copies (one per receiver) that started while an end was unreachable.
   */
  lostDatagrams = 0;
  #outages = new Map<string, OutageOptions[]>();
  /** Per sender>receiver connection: when its held-back messages leave. */
  #stalledUntil = new Map<string, SimTime>();
  #nodes = new Map<string, NetNode>();
  #adj = new Map<string, Map<string, Link>>();
  #routes = new Map<string, readonly Link[]>();
  #listeners = new Map<string, PacketHandler>();

  /**
   * An empty network on `sim`; its links go into `options.flows` when given
   * (so several networks share one bandwidth model), else into a new one.
   */
  constructor(readonly sim: Simulation, options: { flows?: FlowNetwork } = {}) {
    this.flows = options.flows ?? new FlowNetwork(sim);
  }

  /** Adds an end host. */
  addHost(name: string): NetNode {
    return this.#add({ name, kind: "host", forwardingLatency: 0 });
  }

  /** Adds a switch with a forwarding latency in ns (cut-through or store-and-forward of one frame). */
  addSwitch(options: { name: string; latency: SimTime }): NetNode {
    requireNumber(`add switch '${options.name}'`, "latency", options.latency, {
      integer: true,
      min: 0,
    });
    return this.#add({ name: options.name, kind: "switch", forwardingLatency: options.latency });
  }

  /** The node called `name`. @throws RangeError when unknown. */
  node(name: string): NetNode {
    const n = this.#nodes.get(name);
    if (n === undefined) {
      throw new RangeError(
        `Cannot find node: 'name' must be a node of this network: current value is ${name}`,
      );
    }
    return n;
  }

  /** All nodes. */
  get nodes(): readonly NetNode[] {
    return [...this.#nodes.values()];
  }

  /** Cables `a` and `b` with one link per direction; returns [a->b, b->a]. */
  connect(options: ConnectOptions): [Link, Link] {
    const { a, b, bandwidth, latency = 0 } = options;
    const what = `connect '${a}' and '${b}'`;
    const na = this.node(a), nb = this.node(b);
    if (a === b) {
      throw new RangeError(`Cannot ${what}: 'b' must differ from 'a': current value is ${b}`);
    }
    if (this.#adj.get(a)!.has(b)) {
      throw new RangeError(`Cannot ${what}: they are already connected`);
    }
    requireNumber(what, "bandwidth", bandwidth, { min: 0, strict: true });
    requireNumber(what, "latency", latency, { integer: true, min: 0 });
    const ab = this.flows.link({
      name: `${a}->${b}`,
      bandwidth,
      latency: latency + na.forwardingLatency,
    });
    const ba = this.flows.link({
      name: `${b}->${a}`,
      bandwidth,
      latency: latency + nb.forwardingLatency,
    });
    this.#adj.get(a)!.set(b, ab);
    this.#adj.get(b)!.set(a, ba);
    this.#routes.clear();
    return [ab, ba];
  }

  /** The directed link from `a` to its neighbour `b`. */
  link(a: string, b: string): Link {
    const l = this.#adj.get(a)?.get(b);
    if (l === undefined) {
      throw new RangeError(
        `Cannot find link: 'b' must be a neighbour of '${a}': current value is ${b}`,
      );
    }
    return l;
  }

  /**
   * Links from `a` to `b`, fewest hops first, forwarding only through
   * switches. Cached until the topology changes.
   * @throws RangeError when there is no path or a == b.
   */
  route(a: string, b: string): readonly Link[] {
    const key = `${a}\u0000${b}`;
    const hit = this.#routes.get(key);
    if (hit !== undefined) return hit;
    this.node(a);
    this.node(b);
    if (a === b) {
      throw new RangeError(`Cannot route: 'to' must differ from 'from': current value is ${b}`);
    }
    const prev = new Map<string, string>([[a, a]]);
    const queue = [a];
    for (let i = 0; i < queue.length && !prev.has(b); i++) {
      const u = queue[i];
      if (u !== a && this.#nodes.get(u)!.kind !== "switch") continue; // hosts do not forward
      for (const v of this.#adj.get(u)!.keys()) {
        if (!prev.has(v)) {
          prev.set(v, u);
          queue.push(v);
        }
      }
    }
    if (!prev.has(b)) throw new RangeError(`Cannot route: no path from '${a}' to '${b}'`);
    const links: Link[] = [];
    for (let v = b; v !== a; v = prev.get(v)!) links.push(this.#adj.get(prev.get(v)!)!.get(v)!);
    links.reverse();
    this.#routes.set(key, links);
    return links;
  }

  /** One-way latency of the route from `a` to `b` (cables plus switches), ns. */
  pathLatency(a: string, b: string): SimTime {
    let t = 0;
    for (const l of this.route(a, b)) t += l.latency;
    return t;
  }

  /** Bottleneck bandwidth of the route from `a` to `b`, bytes/s. */
  pathBandwidth(a: string, b: string): number {
    let bw = Infinity;
    for (const l of this.route(a, b)) bw = Math.min(bw, l.bandwidth);
    return bw;
  }

  /** True when something listens on (`host`, `port`). */
  isListening(host: string, port: string): boolean {
    return this.#listeners.has(`${host}:${port}`);
  }

  /**
   * Registers the handler for messages to (`host`, `port`); returns a
   * function that removes it.
   * @throws RangeError when the port is taken.
   */
  listen(host: string, port: string, handler: PacketHandler): () => void {
    this.node(host);
    const key = `${host}:${port}`;
    if (this.#listeners.has(key)) {
      throw new RangeError(
        `Cannot listen: 'port' must be free on '${host}': current value is ${port}`,
      );
    }
    this.#listeners.set(key, handler);
    return () => {
      if (this.#listeners.get(key) === handler) this.#listeners.delete(key);
    };
  }

  /** Starts moving a message; the flow completes when its last byte arrived and it was handed to the listener. */
  send<T>(options: SendOptions<T>): Flow {
    const { from, to, port = "default", replyPort = "default", bytes, payload, maxRate, name } =
      options;
    const route = this.route(from, to);
    const sentAt = this.sim.now;
    const f = this.flows.flow({ route, bytes, maxRate, name: name ?? `${from}->${to}:${port}` });
    f.then(() => this.#hand({ from, to, port, replyPort, bytes, payload, sentAt }));
    return f;
  }

  /**
   * Makes `host` unreachable from `start` to `end` (see {@link OutageOptions}).
   * @throws RangeError naming the field for a bad window or timeout.
   */
  addOutage(options: OutageOptions): void {
    const { host, start, end, initialTimeout, maxTimeout } = options;
    const what = `add an outage of '${host}'`;
    this.node(host);
    requireNumber(what, "start", start, { integer: true, min: 0 });
    requireNumber(what, "end", end, { integer: true, min: start + 1 });
    requireNumber(what, "initialTimeout", initialTimeout, { integer: true, min: 1 });
    requireNumber(what, "maxTimeout", maxTimeout, { integer: true, min: initialTimeout });
    const list = this.#outages.get(host) ?? [];
    list.push({ ...options });
    this.#outages.set(host, list);
  }

  /**
   * How long a message from `from` to `to` that starts now waits for the
   * first try that gets through: 0 when both ends are reachable, else the sum
   * of the retransmission timeouts of the tries lost in an outage.
   */
  outageDelay(from: string, to: string): SimTime {
    return this.#retries(from, to).delay;
  }

  /** The wait of {@link Network.outageDelay} and the tries lost in it. */
  #retries(from: string, to: string): { delay: SimTime; tries: number } {
    let t = this.sim.now;
    let rto = 0, limit = 0, tries = 0;
    for (;;) {
      const o = this.#outageOn(from, to, t);
      if (o === undefined) break;
      if (tries === 0) [rto, limit] = [o.initialTimeout, o.maxTimeout];
      t += rto;
      rto = Math.min(rto * 2, limit);
      tries++;
    }
    return { delay: t - this.sim.now, tries };
  }

  /**
   * Sends like {@link Network.send}, but as a transport that retransmits: a
   * message that starts while an end is unreachable leaves with the first try
   * that gets through ({@link Network.outageDelay}). The sender's messages to
   * one host share one connection (one TCP stream): while an earlier message
   * waits for its retransmission, a later one queues behind it and leaves with
   * it, even when the path is already back (the sender only learns that when
   * its retransmission timer fires, RFC 6298 §5).
   */
  sendRetrying<T>(options: SendOptions<T>): void {
    const key = `${options.from}>${options.to}`;
    const now = this.sim.now;
    let leave = this.#stalledUntil.get(key) ?? now;
    if (leave <= now) {
      // The connection is not waiting for a retransmission: this message's own tries.
      const { delay, tries } = this.#retries(options.from, options.to);
      if (delay === 0) {
        this.send(options);
        return;
      }
      this.lostTries += tries;
      leave = now + delay;
      this.#stalledUntil.set(key, leave);
    }
    this.heldBack++;
    this.sim.call(leave - now, () => void this.send(options));
  }

  /**
   * Sends like {@link Network.send}, as a datagram (UDP): a message that
   * starts while an end is unreachable is lost (counted in
   * {@link Network.lostDatagrams}), not sent again; its sender's own timers
   * must notice. Returns the flow, or undefined when it was lost.
   */
  sendDatagram<T>(options: SendOptions<T>): Flow | undefined {
    if (this.#outageOn(options.from, options.to, this.sim.now) !== undefined) {
      this.lostDatagrams++;
      return undefined;
    }
    return this.send(options);
  }

  /** The outage that makes `from` or `to` unreachable at `t`, if any. */
  #outageOn(from: string, to: string, t: SimTime): OutageOptions | undefined {
    if (this.#outages.size === 0) return undefined;
    return this.#outageAt(from, t) ?? this.#outageAt(to, t);
  }

  #outageAt(host: string, t: SimTime): OutageOptions | undefined {
    return this.#outages.get(host)?.find((o) => t >= o.start && t < o.end);
  }

  /** Hands an arrived message to the listener on (to, port), or counts it dropped. */
  #hand(packet: Packet): void {
    const h = this.#listeners.get(`${packet.to}:${packet.port}`);
    if (h === undefined) {
      this.dropped++;
      return;
    }
    this.delivered++;
    h(packet);
  }

  /**
   * Starts moving one message to a group of hosts, as IP multicast does: the
   * switches copy it, so it crosses each link of the distribution tree (the
   * union of the routes) once, at the rate of the tree's most loaded link,
   * and completes when the last byte reached the farthest receiver. Each
   * receiver's listener gets it then (a receiver without one drops it). Like
   * a datagram, it does not reach a receiver when it started while that
   * receiver or the sender was unreachable (an outage; counted in
   * {@link Network.lostDatagrams}).
   * @throws RangeError for an empty group, a repeated receiver or the sender in the group.
   */
  multicast<T>(options: MulticastOptions<T>): Flow {
    const { from, to, port = "default", replyPort = "default", bytes, payload, maxRate, name } =
      options;
    if (!Array.isArray(to) || to.length === 0) {
      throw new RangeError("Cannot multicast: 'to' must name at least one host");
    }
    if (new Set(to).size !== to.length || to.includes(from)) {
      throw new RangeError(
        `Cannot multicast: 'to' must name distinct hosts other than '${from}': current value is ${
          to.join(", ")
        }`,
      );
    }
    const tree = new Set<Link>();
    let latency = 0;
    for (const host of to) {
      for (const l of this.route(from, host)) tree.add(l);
      latency = Math.max(latency, this.pathLatency(from, host));
    }
    const sentAt = this.sim.now;
    const f = this.flows.flow({
      route: [...tree],
      bytes,
      maxRate,
      latency,
      name: name ?? `${from}->[${to.length}]:${port}`,
    });
    f.then(() => {
      for (const host of to) {
        if (this.#outageOn(from, host, sentAt) !== undefined) this.lostDatagrams++;
        else this.#hand({ from, to: host, port, replyPort, bytes, payload, sentAt });
      }
    });
    return f;
  }

  #add(n: NetNode): NetNode {
    if (typeof n.name !== "string" || n.name === "") {
      throw new TypeError(
        `Cannot add ${n.kind}: 'name' must be a non-empty string: current value is ${
          String(n.name)
        }`,
      );
    }
    if (this.#nodes.has(n.name)) {
      throw new RangeError(
        `Cannot add ${n.kind}: 'name' must be unique: current value is ${n.name}`,
      );
    }
    this.#nodes.set(n.name, n);
    this.#adj.set(n.name, new Map());
    return n;
  }
}

/** Options of {@link starNetwork}. */
export interface StarOptions {
  /** Name of the central switch. @default "switch" */
  switchName?: string;
  /** Switch forwarding latency, ns. */
  switchLatency: SimTime;
  /** Host names. */
  hosts: readonly string[];
  /** Per-direction line rate of each host cable, bytes/s. */
  bandwidth: number;
  /** Cable propagation delay, ns. @default 0 */
  latency?: SimTime;
  /** Per-host bandwidth overrides (e.g. a 10 GbE uplink for the image server). */
  hostBandwidth?: Record<string, number>;
}

/**
 * A single switch with every host cabled to it.
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { starNetwork } from "./network.ts";
 * const net = starNetwork(new Simulation(), { switchLatency: 500, hosts: ["srv", "n0"], bandwidth: 125e6 });
 * console.assert(net.pathLatency("srv", "n0") === 500);
 * ```
 */
export function starNetwork(sim: Simulation, options: StarOptions): Network {
  const net = new Network(sim);
  const sw = options.switchName ?? "switch";
  net.addSwitch({ name: sw, latency: options.switchLatency });
  for (const h of options.hosts) {
    net.addHost(h);
    net.connect({
      a: h,
      b: sw,
      bandwidth: options.hostBandwidth?.[h] ?? options.bandwidth,
      latency: options.latency,
    });
  }
  return net;
}

/** Options of {@link rackNetwork}. */
export interface RackOptions {
  /** Forwarding latency of every switch (core and top-of-rack), ns. */
  switchLatency: SimTime;
  /** Hosts cabled to the core switch (e.g. the image servers). */
  coreHosts: readonly string[];
  /** Each rack's hosts, cabled to the rack's own switch (`rack0`, `rack1`, ...). */
  racks: readonly (readonly string[])[];
  /** Per-direction line rate of each host cable, bytes/s. */
  bandwidth: number;
  /** Per-direction line rate of each rack switch's uplink to the core switch, bytes/s. */
  uplink: number;
  /** Per-direction line rate of each core host's cable, bytes/s. @default bandwidth */
  coreBandwidth?: number;
  /** Cable propagation delay, ns. @default 0 */
  latency?: SimTime;
}

/**
 * Two tiers: a core switch (`core`) with `coreHosts` and one uplink to each
 * rack's top-of-rack switch, whose hosts are cabled to it. A rack's hosts
 * reach each other through their own switch; everything else crosses the
 * rack's uplink (a multicast once per uplink, however many of the rack's
 * hosts receive it).
 * @example
 * ```ts
 * import { Simulation } from "../sim/mod.ts";
 * import { rackNetwork } from "./network.ts";
 * const net = rackNetwork(new Simulation(), {
 *   switchLatency: 500, coreHosts: ["srv"], racks: [["n0", "n1"], ["n2"]], bandwidth: 125e6, uplink: 1.25e9,
 * });
 * console.assert(net.route("srv", "n2").length === 3 && net.route("n0", "n1").length === 2);
 * console.assert(net.link("rack1", "core").bandwidth === 1.25e9);
 * ```
 */
export function rackNetwork(sim: Simulation, options: RackOptions): Network {
  const { switchLatency, coreHosts, racks, bandwidth, uplink, latency } = options;
  const net = new Network(sim);
  net.addSwitch({ name: "core", latency: switchLatency });
  for (const h of coreHosts) {
    net.addHost(h);
    net.connect({ a: h, b: "core", bandwidth: options.coreBandwidth ?? bandwidth, latency });
  }
  racks.forEach((hosts, r) => {
    const tor = `rack${r}`;
    net.addSwitch({ name: tor, latency: switchLatency });
    net.connect({ a: tor, b: "core", bandwidth: uplink, latency });
    for (const h of hosts) {
      net.addHost(h);
      net.connect({ a: h, b: tor, bandwidth, latency });
    }
  });
  return net;
}
