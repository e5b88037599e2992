// A failed message as its dead letter: the original key, value, headers and timestamp, plus
// headers saying why it failed, where (flow, stage; of a validation failure its path, byte, keyword
// location and the failed branches of an anyOf/oneOf) and
// where it came from (its source coordinates).
import type { Headers, InputMessage, Origin, OutboundMessage } from '../component/types.ts';
import type { Verdict } from '../core/validator.ts';

/** Where a validation failure is: its JSON path and byte offset in the message, the failed keyword's place in the schema, the branches of a failed anyOf/oneOf. */
export type FailurePlace = Pick<Verdict, 'path' | 'offset' | 'keywordLocation' | 'branches'>;

/** Headers a dead letter carries: why it failed, where, and where it came from; the original ones kept. */
export function deadLetterHeaders(flow: string, stage: string, message: InputMessage, code: string, text: string, place?: FailurePlace): Headers {
  const headers: Record<string, string | Uint8Array> = {
    ...message.headers,
    'sluice.flow': flow,
    'sluice.stage': stage,
    'sluice.reason': code,
    'sluice.message': text,
    'sluice.time': new Date().toISOString(),
  };
  const origin = message.origin;
  if (origin.kind === 'file') {
    headers['sluice.source.file'] = origin.file;
    headers['sluice.source.line'] = String(origin.line);
  } else {
    headers['sluice.source.topic'] = origin.topic;
    headers['sluice.source.partition'] = String(origin.partition);
    headers['sluice.source.offset'] = origin.offset.toString();
  }
  if (place?.path !== undefined) headers['sluice.path'] = place.path;
  if (place?.offset !== undefined) headers['sluice.offset'] = String(place.offset);
  if (place?.keywordLocation !== undefined) headers['sluice.keyword-location'] = place.keywordLocation;
  if (place?.branches !== undefined) {
    headers['sluice.branches'] = JSON.stringify(place.branches.map(({ branch, ok, code, path, keywordLocation }) => (ok ? { branch, ok } : { branch, code, path, keywordLocation })));
  }
  return headers;
}

/** The dead letter of a message that failed at `stage` with `code`. */
export function deadLetter(flow: string, stage: string, message: InputMessage, code: string, text: string, place?: FailurePlace): OutboundMessage {
  return { key: message.key, value: message.value, headers: deadLetterHeaders(flow, stage, message, code, text, place), timestamp: message.timestamp };
}

/** An origin for a log line (JSON has no bigint). */
export function loggable(origin: Origin): Record<string, string | number> {
  return origin.kind === 'file' ? { file: origin.file, line: origin.line } : { topic: origin.topic, partition: origin.partition, offset: origin.offset.toString() };
}
