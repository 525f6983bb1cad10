/**
 * What the workloads share: the sector size, the integer schema, and the
 * parsing of their parameters reported in the house style.
 */
import { z } from "zod";

/** Bytes per sector: the unit of every LBA and count the guest's block drivers take. */
export const SECTOR = 512;

/** A zod integer, the base of the workloads' count, LBA and ns fields. */
export const int = (): z.ZodNumber => z.number().int();

export { parseParams } from "../_util/mod.ts";
