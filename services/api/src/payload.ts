// Payloads of API requests: `data` (raw JSON over HTTP, any bytes over gRPC) or its base64 twin
// `b64data`, and the per-namespace `publication_data_format` check (PROTOCOL.md §4.7, §9).
import { Errors, RotorError } from '@rotor/core';
import type { NamespaceOptions } from '@rotor/core';
import { isJson } from '@rotor/proto';

const EMPTY = new Uint8Array(0);
// Go's base64.StdEncoding: the standard alphabet with mandatory padding.
const STD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes standard, padded base64 strictly (Node's decoder silently skips invalid characters,
 * Go's rejects them; a typo in b64data must not publish garbage). Throws 107 on invalid input.
 */
export function decodeBase64(value: string): Uint8Array {
  if (value.length % 4 !== 0 || !STD_BASE64.test(value)) throw new RotorError(Errors.badRequest, 'bad request: invalid base64');
  const buf = Buffer.from(value, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** The payload of a request: `b64data` when set (decoded), else `data`, else empty. */
export function payloadOf(data: Uint8Array | undefined, b64: string | undefined): Uint8Array {
  if (b64 !== undefined && b64 !== '') return decodeBase64(b64);
  return data ?? EMPTY;
}

/**
 * Whether `data` satisfies a namespace's publication_data_format:
 * '' → non-empty; 'json' → one valid JSON value; 'json_object' → a JSON object; 'binary' → any.
 */
export function dataFitsFormat(data: Uint8Array, format: NamespaceOptions['publicationDataFormat']): boolean {
  switch (format) {
    case 'binary':
      return true;
    case 'json':
      return isJson(data);
    case 'json_object':
      return firstNonSpace(data) === 0x7b /* { */ && isJson(data);
    default:
      return data.length > 0;
  }
}

function firstNonSpace(data: Uint8Array): number {
  for (const b of data) if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b;
  return -1;
}
