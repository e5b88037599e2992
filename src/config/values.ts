// Value types shared by config schemas.
import { z } from 'zod';

/**
 * An integer key that may be set from the environment (`port = ${?PORT}`): HOCON substitutes
 * environment variables as strings, so a string of digits is read as the number it spells.
 */
export const integerFromEnv = (schema: z.ZodNumber) => z.preprocess((v) => (typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v), schema);
