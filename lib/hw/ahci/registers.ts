/**
 * AHCI register offsets, bit masks and in-memory structure layouts, spelled
 * as in the Serial ATA AHCI 1.3.1 specification (section numbers cited) and
 * ATA/ATAPI-8 ACS for command opcodes. Only offsets and masks live here.
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

/** GHC bits (§3.1.2). */
export const GHC_HR = 1 << 0; // HBA Reset
export const GHC_IE = 1 << 1; // Interrupt Enable
export const GHC_AE = 0x8000_0000; // AHCI Enable

/** CAP fields (§3.1.1). */
export const CAP_NP_MASK = 0x1f; // Number of Ports - 1
export const CAP_NCS_SHIFT = 8; // Number of Command Slots - 1, bits 12:8
export const CAP_NCS_MASK = 0x1f << CAP_NCS_SHIFT;
export const CAP_SNCQ = 1 << 30; // Supports Native Command Queuing
export const CAP_S64A = 0x8000_0000; // Supports 64-bit Addressing

/** PxCMD bits (§3.3.7). */
export const PxCMD_ST = 1 << 0; // Start: HBA may process the command list
export const PxCMD_SUD = 1 << 1; // Spin-Up Device
export const PxCMD_POD = 1 << 2; // Power On Device
export const PxCMD_FRE = 1 << 4; // FIS Receive Enable
export const PxCMD_CCS_SHIFT = 8; // Current Command Slot, bits 12:8
export const PxCMD_FR = 1 << 14; // FIS Receive Running
export const PxCMD_CR = 1 << 15; // Command List Running

/** PxIS / PxIE bits (§3.3.5, §3.3.6). */
export const PxIS_DHRS = 1 << 0; // Device to Host Register FIS Interrupt
export const PxIS_PSS = 1 << 1; // PIO Setup FIS Interrupt
export const PxIS_DSS = 1 << 2; // DMA Setup FIS Interrupt
export const PxIS_SDBS = 1 << 3; // Set Device Bits Interrupt
export const PxIS_DPS = 1 << 5; // Descriptor Processed
export const PxIS_IFS = 1 << 27; // Interface Fatal Error
export const PxIS_HBFS = 1 << 29; // Host Bus Fatal Error
export const PxIS_TFES = 1 << 30; // Task File Error Status

/** PxTFD.STS bits (ATA status register). */
export const ATA_STS_ERR = 1 << 0;
export const ATA_STS_DRQ = 1 << 3;
export const ATA_STS_DRDY = 1 << 6;
export const ATA_STS_BSY = 1 << 7;
/** ATA error register: ABRT (command aborted). */
export const ATA_ERR_ABRT = 1 << 2;
/** ATA error register: IDNF (address not found: LBA out of range). */
export const ATA_ERR_IDNF = 1 << 4;

/** PxSSTS: DET=3 (device present, Phy communication), SPD=3 (Gen3), IPM=1 (active) (§3.3.10). */
export const PxSSTS_ACTIVE = 0x133;
/** PxSIG for an ATA (SATA disk) device (§3.3.9). */
export const SIG_ATA = 0x0000_0101;

/** Command list: 32 headers of 32 bytes (§4.2.2). */
export const CMD_HEADER_BYTES = 32;
/** Command slots per port. */
export const SLOTS = 32;
/** Command header DW0 fields. */
export const CH_CFL_MASK = 0x1f; // Command FIS Length in DWORDs (2..16)
export const CH_A = 1 << 5; // ATAPI
export const CH_W = 1 << 6; // Write (H2D data)
export const CH_P = 1 << 7; // Prefetchable
export const CH_C = 1 << 10; // Clear Busy upon R_OK
export const CH_PRDTL_SHIFT = 16; // PRDT Length (entries), bits 31:16
/** Byte offsets within a command header. */
export const CH_DW0 = 0x00;
export const CH_PRDBC = 0x04; // PRD Byte Count transferred
export const CH_CTBA = 0x08; // Command Table Base Address (128-byte aligned)
export const CH_CTBAU = 0x0c;

/** Command table layout (§4.2.3). */
export const CT_CFIS = 0x00; // Command FIS, up to 64 bytes
export const CT_ACMD = 0x40; // ATAPI command, 16 bytes
export const CT_PRDT = 0x80; // first PRDT entry
export const PRDT_ENTRY_BYTES = 16;
/** PRDT entry fields (§4.2.3.3). */
export const PRD_DBA = 0x00; // Data Base Address (word aligned)
export const PRD_DBAU = 0x04;
export const PRD_DW3 = 0x0c;
export const PRD_DBC_MASK = 0x3f_ffff; // Data Byte Count - 1 (22 bits, max 4 MiB)
export const PRD_I = 0x8000_0000; // Interrupt on Completion

/** Received FIS area layout, 256 bytes (§4.2.1). */
export const RFIS_BYTES = 256;
export const RFIS_DSFIS = 0x00; // DMA Setup FIS
export const RFIS_PSFIS = 0x20; // PIO Setup FIS
export const RFIS_RFIS = 0x40; // D2H Register FIS
export const RFIS_SDBFIS = 0x58; // Set Device Bits FIS
export const RFIS_UFIS = 0x60; // Unknown FIS

/** FIS types (SATA 3.x §10.3). */
export const FIS_TYPE_REG_H2D = 0x27;
export const FIS_TYPE_REG_D2H = 0x34;
export const FIS_TYPE_DMA_SETUP = 0x41;
export const FIS_TYPE_SET_DEVICE_BITS = 0xa1;
/** H2D FIS byte 1 bit 7: C (the FIS carries a command). */
export const FIS_H2D_C = 0x80;
/** D2H / SDB FIS byte 1 bit 6: I (raise an interrupt). */
export const FIS_I = 0x40;
/** H2D register FIS byte offsets. */
export const H2D_COMMAND = 2;
export const H2D_FEATURES = 3;
export const H2D_LBA0 = 4;
export const H2D_LBA1 = 5;
export const H2D_LBA2 = 6;
export const H2D_DEVICE = 7;
export const H2D_LBA3 = 8;
export const H2D_LBA4 = 9;
export const H2D_LBA5 = 10;
export const H2D_FEATURES_EXP = 11;
export const H2D_COUNT = 12;
export const H2D_COUNT_EXP = 13;
/** Device register bit 6: LBA addressing. */
export const DEVICE_LBA = 0x40;

/** ATA command opcodes (ACS-3 §7). */
export const enum AtaCmd {
  READ_DMA = 0xc8,
  WRITE_DMA = 0xca,
  READ_DMA_EXT = 0x25,
  WRITE_DMA_EXT = 0x35,
  READ_FPDMA_QUEUED = 0x60,
  WRITE_FPDMA_QUEUED = 0x61,
  IDENTIFY_DEVICE = 0xec,
  FLUSH_CACHE = 0xe7,
  FLUSH_CACHE_EXT = 0xea,
}

/** Byte offset of port `p`'s register `reg` from ABAR. */
export function portReg(p: number, reg: Px): number {
  return PORT_BASE + p * PORT_STRIDE + reg;
}
