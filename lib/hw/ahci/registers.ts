/**
 * AHCI register offsets, bit masks and in-memory structure layouts, spelled
 * as in the Serial ATA AHCI 1.3.1 specification (section numbers cited) and
 * ATA/ATAPI-8 ACS for command opcodes. Only offsets and masks live here.
 * @module
 */

/** Generic Host Control registers, offsets from ABAR (AHCI 1.3.1 §3.1). */
export const enum Ghc {
  /** Host Capabilities */
  CAP = 0x00,
  /** Global Host Control */
  GHC = 0x04,
  /** Interrupt Status (one bit per port) */
  IS = 0x08,
  /** Ports Implemented */
  PI = 0x0c,
  /** Version */
  VS = 0x10,
  /** Command Completion Coalescing Control */
  CCC_CTL = 0x14,
  /** Command Completion Coalescing Ports */
  CCC_PORTS = 0x18,
  /** Host Capabilities Extended */
  CAP2 = 0x24,
  /** BIOS/OS Handoff Control and Status */
  BOHC = 0x28,
}

/** Offset of port 0's registers; each port has PORT_STRIDE bytes (§3.3). */
export const PORT_BASE = 0x100;
/** Bytes per port register block. */
export const PORT_STRIDE = 0x80;
/** Size of the ABAR window for 32 ports. */
export const ABAR_SIZE = 0x1100;

/** Port registers, offsets within a port block (§3.3). */
export const enum Px {
  /** Port x Command List Base Address (1 KiB aligned) */
  CLB = 0x00,
  /** Port x Command List Base Address Upper 32 bits */
  CLBU = 0x04,
  /** Port x FIS Base Address (256-byte aligned) */
  FB = 0x08,
  /** Port x FIS Base Address Upper 32 bits */
  FBU = 0x0c,
  /** Port x Interrupt Status */
  IS = 0x10,
  /** Port x Interrupt Enable */
  IE = 0x14,
  /** Port x Command and Status */
  CMD = 0x18,
  /** Port x Task File Data */
  TFD = 0x20,
  /** Port x Signature */
  SIG = 0x24,
  /** Port x Serial ATA Status (SStatus) */
  SSTS = 0x28,
  /** Port x Serial ATA Control (SControl) */
  SCTL = 0x2c,
  /** Port x Serial ATA Error (SError) */
  SERR = 0x30,
  /** Port x Serial ATA Active (SActive): NCQ tags outstanding */
  SACT = 0x34,
  /** Port x Command Issue */
  CI = 0x38,
  /** Port x Serial ATA Notification */
  SNTF = 0x3c,
}

// GHC bits (§3.1.2).
/** GHC.HR, bit 0: HBA Reset (§3.1.2). */
export const GHC_HR = 1 << 0;
/** GHC.IE, bit 1: Interrupt Enable, the HBA may raise its interrupt (§3.1.2). */
export const GHC_IE = 1 << 1;
/** GHC.AE, bit 31: AHCI Enable, software talks AHCI rather than legacy IDE (§3.1.2). */
export const GHC_AE = 0x8000_0000;

// CAP fields (§3.1.1).
/** CAP.NP, bits 4:0: Number of Ports - 1 (§3.1.1). */
export const CAP_NP_MASK = 0x1f;
/** Shift of CAP.NCS, bits 12:8: Number of Command Slots - 1 (§3.1.1). */
export const CAP_NCS_SHIFT = 8;
/** Mask of CAP.NCS in place (bits 12:8) (§3.1.1). */
export const CAP_NCS_MASK = 0x1f << CAP_NCS_SHIFT;
/** CAP.SNCQ, bit 30: Supports Native Command Queuing (§3.1.1). */
export const CAP_SNCQ = 1 << 30;
/** CAP.S64A, bit 31: Supports 64-bit Addressing (§3.1.1). */
export const CAP_S64A = 0x8000_0000;

// PxCMD bits (§3.3.7).
/** PxCMD.ST, bit 0: Start, the HBA may process the command list (§3.3.7). */
export const PxCMD_ST = 1 << 0;
/** PxCMD.SUD, bit 1: Spin-Up Device (§3.3.7). */
export const PxCMD_SUD = 1 << 1;
/** PxCMD.POD, bit 2: Power On Device (§3.3.7). */
export const PxCMD_POD = 1 << 2;
/** PxCMD.FRE, bit 4: FIS Receive Enable, the HBA may post FISes to PxFB (§3.3.7). */
export const PxCMD_FRE = 1 << 4;
/** Shift of PxCMD.CCS, bits 12:8: Current Command Slot (§3.3.7). */
export const PxCMD_CCS_SHIFT = 8;
/** PxCMD.FR, bit 14: FIS Receive Running, read-only status of the FIS receive engine (§3.3.7). */
export const PxCMD_FR = 1 << 14;
/** PxCMD.CR, bit 15: Command List Running, read-only status of the command list engine (§3.3.7). */
export const PxCMD_CR = 1 << 15;

// PxIS / PxIE bits (§3.3.5, §3.3.6); the same bit enables the cause in PxIE.
/** PxIS.DHRS, bit 0: Device to Host Register FIS Interrupt (§3.3.5). */
export const PxIS_DHRS = 1 << 0;
/** PxIS.PSS, bit 1: PIO Setup FIS Interrupt (§3.3.5). */
export const PxIS_PSS = 1 << 1;
/** PxIS.DSS, bit 2: DMA Setup FIS Interrupt (§3.3.5). */
export const PxIS_DSS = 1 << 2;
/** PxIS.SDBS, bit 3: Set Device Bits Interrupt (§3.3.5). */
export const PxIS_SDBS = 1 << 3;
/** PxIS.DPS, bit 5: Descriptor Processed, a PRD with I set was transferred (§3.3.5). */
export const PxIS_DPS = 1 << 5;
/** PxIS.IFS, bit 27: Interface Fatal Error Status (§3.3.5). */
export const PxIS_IFS = 1 << 27;
/** PxIS.HBFS, bit 29: Host Bus Fatal Error Status (§3.3.5). */
export const PxIS_HBFS = 1 << 29;
/** PxIS.TFES, bit 30: Task File Error Status, the device reported STS.ERR (§3.3.5). */
export const PxIS_TFES = 1 << 30;
/**
 * PxIS bits after which the HBA stops processing the command list until
 * software clears PxCMD.ST: TFES, HBFS, IFS (ERR:FatalTaskfile, ERR:Fatal,
 * ERR:WaitForClear, §5.3.16; recovery §6.2.2).
 */
export const PxIS_FATAL = (PxIS_TFES | PxIS_HBFS | PxIS_IFS) >>> 0;

// PxTFD.STS bits (ATA Status register, ACS-3).
/** ATA Status bit 0, ERR: the command failed; the Error register says why. */
export const ATA_STS_ERR = 1 << 0;
/** ATA Status bit 3, DRQ: the device is ready to transfer data. */
export const ATA_STS_DRQ = 1 << 3;
/** ATA Status bit 6, DRDY: the device is ready to accept commands. */
export const ATA_STS_DRDY = 1 << 6;
/** ATA Status bit 7, BSY: the device is busy with a command. */
export const ATA_STS_BSY = 1 << 7;
/** ATA error register: ABRT (command aborted). */
export const ATA_ERR_ABRT = 1 << 2;
/** ATA error register: IDNF (address not found: LBA out of range). */
export const ATA_ERR_IDNF = 1 << 4;
/** ATA error register: UNC (uncorrectable data: a media error). */
export const ATA_ERR_UNC = 1 << 6;

/** PxSSTS: DET=3 (device present, Phy communication), SPD=3 (Gen3), IPM=1 (active) (§3.3.10). */
export const PxSSTS_ACTIVE = 0x133;
/** PxSIG for an ATA (SATA disk) device (§3.3.9). */
export const SIG_ATA = 0x0000_0101;

/** Command list: 32 headers of 32 bytes (§4.2.2). */
export const CMD_HEADER_BYTES = 32;
/** Command slots per port. */
export const SLOTS = 32;
// Command header DW0 fields (§4.2.2).
/** Command header DW0 CFL, bits 4:0: Command FIS Length in DWORDs (2..16). */
export const CH_CFL_MASK = 0x1f;
/** Command header DW0 A, bit 5: ATAPI (the table carries an ATAPI command). */
export const CH_A = 1 << 5;
/** Command header DW0 W, bit 6: Write, data flows host to device. */
export const CH_W = 1 << 6;
/** Command header DW0 P, bit 7: Prefetchable (the HBA may prefetch PRDs). */
export const CH_P = 1 << 7;
/** Command header DW0 C, bit 10: Clear Busy upon R_OK. */
export const CH_C = 1 << 10;
/** Shift of command header DW0 PRDTL, bits 31:16: PRDT Length in entries. */
export const CH_PRDTL_SHIFT = 16;
// Byte offsets within a command header (§4.2.2).
/** Command header offset of DW0 (CFL, A, W, P, C, PRDTL). */
export const CH_DW0 = 0x00;
/** Command header offset of PRDBC: PRD Byte Count transferred, written by the HBA. */
export const CH_PRDBC = 0x04;
/** Command header offset of CTBA: Command Table Base Address (128-byte aligned). */
export const CH_CTBA = 0x08;
/** Command header offset of CTBAU: Command Table Base Address Upper 32 bits. */
export const CH_CTBAU = 0x0c;

// Command table layout (§4.2.3).
/** Command table offset of CFIS: the Command FIS, up to 64 bytes. */
export const CT_CFIS = 0x00;
/** Command table offset of ACMD: the ATAPI command, 16 bytes. */
export const CT_ACMD = 0x40;
/** Command table offset of the first PRDT entry. */
export const CT_PRDT = 0x80;
/** Bytes per PRDT entry (four DWORDs) (§4.2.3.3). */
export const PRDT_ENTRY_BYTES = 16;
// PRDT entry fields (§4.2.3.3).
/** PRDT entry offset of DBA: Data Base Address (word aligned). */
export const PRD_DBA = 0x00;
/** PRDT entry offset of DBAU: Data Base Address Upper 32 bits. */
export const PRD_DBAU = 0x04;
/** PRDT entry offset of DW3, which holds DBC and I. */
export const PRD_DW3 = 0x0c;
/** PRDT DW3 DBC, bits 21:0: Data Byte Count - 1 (max 4 MiB per entry). */
export const PRD_DBC_MASK = 0x3f_ffff;
/** PRDT DW3 I, bit 31: Interrupt on Completion (sets PxIS.DPS). */
export const PRD_I = 0x8000_0000;

/** Received FIS area layout, 256 bytes (§4.2.1). */
export const RFIS_BYTES = 256;
/** Received FIS area offset of DSFIS: DMA Setup FIS (§4.2.1). */
export const RFIS_DSFIS = 0x00;
/** Received FIS area offset of PSFIS: PIO Setup FIS (§4.2.1). */
export const RFIS_PSFIS = 0x20;
/** Received FIS area offset of RFIS: D2H Register FIS (§4.2.1). */
export const RFIS_RFIS = 0x40;
/** Received FIS area offset of SDBFIS: Set Device Bits FIS (§4.2.1). */
export const RFIS_SDBFIS = 0x58;
/** Received FIS area offset of UFIS: Unknown FIS, up to 64 bytes (§4.2.1). */
export const RFIS_UFIS = 0x60;

// FIS types (SATA 3.x §10.3).
/** FIS type of a Register FIS, host to device (SATA 3.x §10.3). */
export const FIS_TYPE_REG_H2D = 0x27;
/** FIS type of a Register FIS, device to host (SATA 3.x §10.3). */
export const FIS_TYPE_REG_D2H = 0x34;
/** FIS type of a DMA Setup FIS, either direction (SATA 3.x §10.3). */
export const FIS_TYPE_DMA_SETUP = 0x41;
/** FIS type of a Set Device Bits FIS, device to host (SATA 3.x §10.3). */
export const FIS_TYPE_SET_DEVICE_BITS = 0xa1;
/** H2D FIS byte 1 bit 7: C (the FIS carries a command). */
export const FIS_H2D_C = 0x80;
/** D2H / SDB FIS byte 1 bit 6: I (raise an interrupt). */
export const FIS_I = 0x40;
// H2D register FIS byte offsets (SATA 3.x §10.3.4).
/** H2D FIS byte 2: Command (the ATA opcode). */
export const H2D_COMMAND = 2;
/** H2D FIS byte 3: Features 7:0 (sector count 7:0 for FPDMA commands). */
export const H2D_FEATURES = 3;
/** H2D FIS byte 4: LBA 7:0. */
export const H2D_LBA0 = 4;
/** H2D FIS byte 5: LBA 15:8. */
export const H2D_LBA1 = 5;
/** H2D FIS byte 6: LBA 23:16. */
export const H2D_LBA2 = 6;
/** H2D FIS byte 7: Device (bit 6 LBA; FUA in bit 7 for FPDMA writes). */
export const H2D_DEVICE = 7;
/** H2D FIS byte 8: LBA 31:24. */
export const H2D_LBA3 = 8;
/** H2D FIS byte 9: LBA 39:32. */
export const H2D_LBA4 = 9;
/** H2D FIS byte 10: LBA 47:40. */
export const H2D_LBA5 = 10;
/** H2D FIS byte 11: Features 15:8 (sector count 15:8 for FPDMA commands). */
export const H2D_FEATURES_EXP = 11;
/** H2D FIS byte 12: Count 7:0 (for FPDMA commands, the NCQ tag in bits 7:3). */
export const H2D_COUNT = 12;
/** H2D FIS byte 13: Count 15:8. */
export const H2D_COUNT_EXP = 13;
/** Device register bit 6: LBA addressing. */
export const DEVICE_LBA = 0x40;

/** ATA command opcodes (ACS-3 §7). */
export const enum AtaCmd {
  READ_DMA = 0xc8,
  WRITE_DMA = 0xca,
  READ_DMA_EXT = 0x25,
  WRITE_DMA_EXT = 0x35,
  WRITE_DMA_FUA_EXT = 0x3d,
  READ_FPDMA_QUEUED = 0x60,
  WRITE_FPDMA_QUEUED = 0x61,
  IDENTIFY_DEVICE = 0xec,
  FLUSH_CACHE = 0xe7,
  FLUSH_CACHE_EXT = 0xea,
  READ_LOG_EXT = 0x2f,
}

/** Log address of the NCQ Command Error log a device keeps after a queued command fails (SATA 2.6 §13.5.4.1). */
export const LOG_NCQ_COMMAND_ERROR = 0x10;
/** NCQ Command Error log byte 0 bit 7, NQ: the last error was not of a queued command (or none). */
export const NCQ_LOG_NQ = 0x80;

/** Byte offset of port `p`'s register `reg` from ABAR. */
export function portReg(p: number, reg: Px): number {
  return PORT_BASE + p * PORT_STRIDE + reg;
}
