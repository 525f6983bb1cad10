/**
 * Register offsets and bits of the Intel 82575EB GbE controller that the
 * model implements, spelled as in the 82575EB datasheet (section 8,
 * "Programming Interface"; queue 0 aliases at the legacy 8254x offsets).
 * Only offsets and masks live here.
 * @module
 */

/** Register offsets within BAR0 (82575EB datasheet §8.1, table 8-2). */
export const enum NicReg {
  /** Device Control */
  CTRL = 0x0000,
  /** Device Status */
  STATUS = 0x0008,
  /** Interrupt Cause Read (read clears) */
  ICR = 0x00c0,
  /** Interrupt Cause Set */
  ICS = 0x00c8,
  /** Interrupt Mask Set/Read */
  IMS = 0x00d0,
  /** Interrupt Mask Clear */
  IMC = 0x00d8,
  /** Receive Descriptor Head (queue 0) */
  RDH = 0x2810,
  /** Receive Descriptor Tail (queue 0) */
  RDT = 0x2818,
  /** Transmit Descriptor Head (queue 0) */
  TDH = 0x3810,
  /** Transmit Descriptor Tail (queue 0): the transmit doorbell */
  TDT = 0x3818,
  /** Missed Packets Count (statistics, read clears) */
  MPC = 0x4010,
}

/** Size of the register window the model decodes (the real BAR0 is 128 KiB). */
export const NIC_WINDOW = 0x20000;

/** Interrupt cause bits, ICR/ICS/IMS/IMC (§8.8.1). */
export const enum NicIcr {
  /** Transmit Descriptor Written Back */
  TXDW = 1 << 0,
  /** Link Status Change */
  LSC = 1 << 2,
  /** Receiver Timer Interrupt (a packet was received) */
  RXT0 = 1 << 7,
}

/** STATUS bits (§8.2.2). */
export const enum NicStatus {
  /** Full Duplex */
  FD = 1 << 0,
  /** Link Up */
  LU = 1 << 1,
  /** Speed bits 7:6 = 10b: 1000 Mb/s */
  SPEED_1000 = 2 << 6,
}
