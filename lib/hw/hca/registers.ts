/**
 * The HCA's User Access Region (UAR) page as the mlx4 driver uses it on
 * Mellanox ConnectX: a 4 KiB doorbell page per process, write-only
 * (Linux include/linux/mlx4/doorbell.h: MLX4_SEND_DOORBELL 0x14,
 * MLX4_CQ_DOORBELL 0x20).
 * Only offsets live here.
 * @module
 */

/** Doorbell offsets within a UAR page. */
export const enum UarReg {
  /** Send doorbell: QP number written after a WQE is posted */
  SEND_DOORBELL = 0x14,
  /** CQ doorbell: arm a completion queue for an event */
  CQ_DOORBELL = 0x20,
}

/** Size of a UAR page. */
export const UAR_SIZE = 0x1000;
