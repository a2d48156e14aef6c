// The container image definition, checked without a Docker engine: base image, pinned tool
// versions against the lockfiles, entry point, ports, user, build context, and the read-only
// root file system assumption (no runtime module writes to disk).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { defaultConfig } from '../../packages/core/src/index.ts';
import { ROTOR_NODE_FLAGS } from '../../services/rotor/src/node-flags.ts';
import { asRecord, readJson, readText, readYaml, repoPath, repoRoot } from './repo.ts';

const dockerfile = readText('deploy/Dockerfile');
/** Instructions with continuations joined and comments dropped. */
const instructions = dockerfile
  .split('\n')
  .filter((line) => !line.trimStart().startsWith('#'))
  .join('\n')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '');

function instruction(keyword: string): string[] {
  return instructions.filter((l) => l.toUpperCase().startsWith(`${keyword} `)).map((l) => l.slice(keyword.length + 1).trim());
}

test('Dockerfile: Node 20 on Debian bookworm (glibc for uWebSockets.js), never alpine', () => {
  const arg = instruction('ARG').find((a) => a.startsWith('NODE_IMAGE='));
  assert.equal(arg, 'NODE_IMAGE=node:20-bookworm-slim');
  for (const from of instruction('FROM')) {
    assert.doesNotMatch(from, /alpine|musl/i);
    assert.match(from, /^(\$\{NODE_IMAGE\}|base) AS \w+$/, `FROM ${from}: every stage starts from the one Node image`);
  }
});

test('Dockerfile: pnpm version equals package.json packageManager', () => {
  const pkg = asRecord(readJson('package.json'), 'package.json');
  const want = String(pkg['packageManager']).split('@')[1];
  assert.ok(instruction('ARG').includes(`PNPM_VERSION=${want}`), `ARG PNPM_VERSION=${want}`);
  assert.ok(instruction('RUN').some((r) => r.includes('npm install -g "pnpm@${PNPM_VERSION}"')));
});

test('Dockerfile: frozen, production-only install; entry point, command, ports, user', () => {
  const runs = instruction('RUN').join('\n');
  assert.match(runs, /pnpm fetch --prod/);
  assert.match(runs, /pnpm install --offline --frozen-lockfile --prod/);
  assert.deepEqual(JSON.parse(instruction('ENTRYPOINT')[0] ?? 'null'), ['node', ...ROTOR_NODE_FLAGS, '--import', 'tsx', 'services/rotor/src/main.ts']);
  assert.deepEqual(JSON.parse(instruction('CMD')[0] ?? 'null'), ['start', '--dev']);
  assert.ok(instruction('ENV').includes('ROTOR_HTTP_SERVER_ADDRESS=0.0.0.0'), 'containers listen on all interfaces');
  const defaults = defaultConfig('test');
  const ports = [defaults.httpServer.port, defaults.rotor.history.httpPort, defaults.rotor.apiPort, defaults.grpcApi.port];
  assert.deepEqual(instruction('EXPOSE'), [ports.join(' ')], 'the default ports of the roles');
  assert.deepEqual(instruction('HEALTHCHECK'), [], 'probes belong to Kubernetes, not the image');
  const user = instruction('USER');
  assert.equal(user.length, 1);
  assert.match(user[0] ?? '', /^[1-9]\d*:[1-9]\d*$/, 'a numeric non-root user (runAsNonRoot can verify it)');
  assert.equal(user[0], '10001:10001');
});

test('Dockerfile: the start-up check of the native uWebSockets.js binary uses a real module and export', () => {
  const check = instruction('RUN').find((r) => r.includes('loadUws'));
  assert.ok(check !== undefined);
  const module = /import\('\.\/([^']+)'\)/.exec(check)?.[1];
  assert.equal(module, 'services/gateway/src/uws.ts');
  assert.match(readText(module), /export function loadUws\(/);
});

test('deploy/runtime pins the same tsx and esbuild as the workspace lockfile', () => {
  const root = asRecord(readJson('package.json'), 'package.json');
  const rootTsx = asRecord(root['devDependencies'], 'devDependencies')['tsx'];
  const runtime = asRecord(readJson('deploy/runtime/package.json'), 'runtime');
  const deps = asRecord(runtime['dependencies'], 'dependencies');
  assert.equal(deps['tsx'], rootTsx);

  const lock = asRecord(readYaml('pnpm-lock.yaml'), 'pnpm-lock');
  const snapshots = asRecord(lock['snapshots'], 'snapshots');
  const tsxSnap = asRecord(snapshots[`tsx@${String(rootTsx)}`], 'tsx snapshot');
  assert.equal(deps['esbuild'], asRecord(tsxSnap['dependencies'], 'tsx deps')['esbuild']);

  const npmLock = asRecord(readJson('deploy/runtime/package-lock.json'), 'package-lock');
  const packages = asRecord(npmLock['packages'], 'packages');
  const pnpmPackages = asRecord(lock['packages'], 'packages');
  for (const name of ['tsx', 'esbuild']) {
    const npmEntry = asRecord(packages[`node_modules/${name}`], `npm ${name}`);
    const pnpmEntry = asRecord(pnpmPackages[`${name}@${String(npmEntry['version'])}`], `pnpm ${name}`);
    assert.equal(npmEntry['version'], deps[name]);
    assert.equal(npmEntry['integrity'], asRecord(pnpmEntry['resolution'], 'resolution')['integrity'], `${name}: same tarball`);
  }
});

/** Docker's .dockerignore matching (Go filepath.Match plus `**`), last matching rule wins. */
function dockerIgnored(rules: string[], path: string): boolean {
  let ignored = false;
  for (const rule of rules) {
    const negate = rule.startsWith('!');
    const pattern = (negate ? rule.slice(1) : rule).replace(/^\/+|\/+$/g, '');
    const source = pattern
      .split('/')
      .map((seg) => (seg === '**' ? '.*' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
      .join('/')
      .replace(/\.\*\//g, '(?:.*/)?');
    // A rule matching a directory excludes everything below it.
    if (new RegExp(`^${source}(?:/.*)?$`).test(path)) ignored = !negate;
  }
  return ignored;
}

const ignoreRules = readText('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

test('.dockerignore matcher self-check', () => {
  assert.equal(dockerIgnored(['**/node_modules'], 'services/api/node_modules/x'), true);
  assert.equal(dockerIgnored(['deploy', '!deploy/config'], 'deploy/config/rotor.json'), false);
  assert.equal(dockerIgnored(['deploy', '!deploy/config'], 'deploy/compose.yaml'), true);
  assert.equal(dockerIgnored(['**/*.test.ts'], 'packages/core/src/a.test.ts'), true);
  assert.equal(dockerIgnored(['**/*.test.ts'], 'packages/core/src/a.ts'), false);
});

test('.dockerignore keeps out what the image must not carry and keeps what it needs', () => {
  for (const path of ['node_modules/x', 'services/gateway/node_modules/x', '.git/HEAD', 'loadtest/results/a.json', 'tests/e2e/package.json', 'helm/rotor/Chart.yaml']) {
    assert.equal(dockerIgnored(ignoreRules, path), true, `${path} must be ignored`);
  }
  const needed = [
    'package.json',
    'pnpm-lock.yaml',
    'pnpm-workspace.yaml',
    '.npmrc',
    'tsconfig.json',
    'tsconfig.base.json',
    'deploy/runtime/package.json',
    'deploy/runtime/package-lock.json',
    'deploy/config/embedded.yaml',
    'deploy/config/rotor.json',
  ];
  // Every non-test source file of the packages the CLI runs.
  for (const dir of ['proto', 'packages/core', 'packages/nats', 'services/gateway', 'services/api', 'services/history', 'services/rotor']) {
    needed.push(`${dir}/package.json`);
    for (const file of walk(repoPath(`${dir}/src`))) {
      if (!/\.(test|bench)\.ts$/.test(file)) needed.push(relative(repoRoot, file));
    }
  }
  for (const path of needed) assert.equal(dockerIgnored(ignoreRules, path), false, `${path} is needed in the image`);
});

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out;
}

test('no runtime module writes to the file system (the pods run with a read-only root)', () => {
  // Test files, benches and test helpers may write; so may the `genconfig` command, which an
  // operator runs by hand and is not a server role.
  // Nor may `rotor cluster` (JetStream store and logs under .rotor/), a local development
  // supervisor that no image runs.
  const allowed = new Set(['services/rotor/src/commands/genconfig.ts', 'services/rotor/src/cluster/supervisor.ts', 'services/rotor/src/cluster/log-sink.ts']);
  const writers = /\b(writeFileSync|writeFile|appendFileSync|appendFile|mkdirSync|mkdir|createWriteStream|mkdtempSync|mkdtemp|rmSync|renameSync)\s*\(/;
  const offenders: string[] = [];
  for (const dir of ['proto/src', 'packages/core/src', 'packages/nats/src', 'services/gateway/src', 'services/api/src', 'services/history/src', 'services/rotor/src']) {
    for (const file of walk(repoPath(dir))) {
      const rel = relative(repoRoot, file);
      if (!rel.endsWith('.ts') || /\.(test|bench)\.ts$/.test(rel) || /\/testing\//.test(rel) || allowed.has(rel)) continue;
      if (writers.test(readFileSync(file, 'utf8'))) offenders.push(rel);
    }
  }
  assert.deepEqual(offenders, [], 'writes to disk break readOnlyRootFilesystem in helm/rotor and read_only in compose');
});
