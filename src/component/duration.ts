// Durations in configuration: a number of ms, or a number with ms, s, m, h or d ("10s", "1m").
import { z } from 'zod';

const UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration of zero or more ms, as ms. */
export const duration = z.union([
  z.number().int().min(0),
  z
    .string()
    .regex(/^[0-9]+ ?(ms|s|m|h|d)$/, 'a duration: a number with ms, s, m, h or d (e.g. 10s)')
    .transform((text) => Number(/^[0-9]+/.exec(text)![0]) * UNITS_MS[/(ms|s|m|h|d)$/.exec(text)![0] as keyof typeof UNITS_MS]),
]);

/** A duration of at least 1 ms. */
export const positiveDuration = duration.refine((ms) => ms > 0, 'a duration above 0');
