// The context a source or sink is built with, for tests of one component on its own.
import { pino } from 'pino';
import { type Clock, systemClock } from '../../src/component/clock.ts';
import type { ComponentContext } from '../../src/component/types.ts';
import { Metrics } from '../../src/observe/metrics.ts';

export function componentContext(baseDir: string, clock: Clock = systemClock): ComponentContext {
  return { flow: 'test', baseDir, logger: pino({ level: 'silent' }), delivery: 'at-least-once', metrics: new Metrics(), clock };
}
