// The Kubernetes manifests (k8s/), verified offline: `kubectl kustomize` renders the base, every
// overlay and every component; each document passes kubernetes-models' schema validation and
// TypeScript's excess-property check (unknown fields), and the checks of manifest-checks.ts;
// slotgate's ConfigMap passes `slotgate --check-config`, with the pod's own env and mounts.
// Every check is also run on a broken copy, to show it can fail.

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  checkApiVersions,
  checkNames,
  checkRedis,
  checkReferences,
  checkRestricted,
  checkServices,
  checkSlotgate,
  checkWorkloadSelectors,
  clone,
  find,
  one,
  parseDocs,
  podSpec,
  type Doc,
} from './manifest-checks.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
const KUBECTL = process.env.KUBECTL ?? 'kubectl';

/** The renders checked: name -> kustomization folder inside the copy of k8s/. */
const RENDERS = {
  base: 'base',
  dev: 'overlays/dev',
  production: 'overlays/production',
  'all-components': 'overlays/test-all-components',
} as const;
type RenderName = keyof typeof RENDERS;

let work: string; // a copy of k8s/ (production secrets and the test overlay are added there)
const rendered = {} as Record<RenderName, Doc[]>;
const resolvedConfig = {} as Record<RenderName, Doc>;

function requireTools(): void {
  try {
    const out = execFileSync(KUBECTL, ['version', '--client'], { encoding: 'utf8', timeout: 20_000 });
    const m = /Kustomize Version: v(\d+)/.exec(out);
    if (!m || Number(m[1]) < 5) throw new Error(`${KUBECTL} has kustomize ${m?.[1] ?? '(none)'}; the manifests need kustomize v5 (kubectl >= 1.27)`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `kubectl not found (looked for "${KUBECTL}" on PATH): these tests render k8s/ with \`kubectl kustomize\` ` +
          '(kustomize v5, offline). It comes with this machine image at /usr/bin/kubectl; install kubectl >= 1.27 ' +
          'or set KUBECTL=/path/to/kubectl.',
      );
    }
    throw err;
  }
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} missing: run \`npm run build\` first (npm test does)`);
  for (const script of ['start.sh', 'create-cluster.sh']) {
    const file = path.join(ROOT, 'k8s/base/redis/scripts', script);
    if (!fs.existsSync(file)) {
      throw new Error(`${file} is missing: the Redis pod scripts come from the pod-churn work (branch churn); the scripts ConfigMap is generated from them`);
    }
  }
}

async function kustomize(dir: string): Promise<string> {
  const { stdout } = await run(KUBECTL, ['kustomize', dir], { timeout: 30_000, maxBuffer: 32 * 1024 * 1024 });
  return stdout;
}

// ---------------------------------------------------------------------------------------------
// Schema validation (kubernetes-models' ajv validators)

const MODEL_MODULES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

/** The schema errors of each document (empty when valid). */
async function schemaErrors(docs: Doc[]): Promise<string[]> {
  const errors: string[] = [];
  for (const d of docs) {
    const id = `${d.apiVersion} ${d.kind} ${d.metadata?.name}`;
    const mod = MODEL_MODULES[d.apiVersion];
    const Model = mod ? ((await import(mod)) as Record<string, new (data: unknown) => { validate(): void }>)[d.kind] : undefined;
    if (!Model) {
      errors.push(`${id}: no model for this apiVersion/kind`);
      continue;
    }
    try {
      new Model(clone(d)).validate();
    } catch (err) {
      errors.push(`${id}: ${(err as Error).message}`);
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Unknown fields: each document as a typed const, through `tsc --noEmit`

const TYPE_IMPORTS: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

function typedModule(docs: Doc[]): string {
  const lines: string[] = [];
  docs.forEach((d, i) => {
    const mod = TYPE_IMPORTS[d.apiVersion];
    if (!mod) throw new Error(`no types for ${d.apiVersion}`);
    lines.push(`import type { I${d.kind} as T${i} } from '${mod}/${d.kind}';`);
  });
  docs.forEach((d, i) => lines.push(`// ${d.kind} ${d.metadata?.name}`, `export const doc${i}: T${i} = ${JSON.stringify(d, null, 2)};`));
  return lines.join('\n') + '\n';
}

/** Runs tsc over one .mts per render; returns the error lines by file name. */
async function typecheck(files: Record<string, Doc[]>): Promise<Map<string, string[]>> {
  // Inside the repository, so that node_modules resolves; .slotgate/ is git-ignored.
  await fsp.mkdir(path.join(ROOT, '.slotgate'), { recursive: true });
  const dir = await fsp.mkdtemp(path.join(ROOT, '.slotgate', 'k8s-typecheck-'));
  try {
    for (const [name, docs] of Object.entries(files)) await fsp.writeFile(path.join(dir, `${name}.mts`), typedModule(docs));
    const tsconfig = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        skipLibCheck: true,
        types: [],
        lib: ['ES2022'],
      },
      files: Object.keys(files).map((n) => `${n}.mts`),
    };
    await fsp.writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    let out = '';
    try {
      await run(process.execPath, [tsc, '-p', dir], { cwd: dir, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stdout?: string; killed?: boolean };
      if (e.killed) throw new Error('tsc took longer than 120 s');
      out = e.stdout ?? String(err);
    }
    const byFile = new Map<string, string[]>();
    for (const line of out.split('\n')) {
      const m = /([\w.-]+)\.mts\(\d+,\d+\): error/.exec(line);
      if (m) byFile.set(m[1]!, [...(byFile.get(m[1]!) ?? []), line]);
      else if (line.trim() !== '' && !line.startsWith(' ')) byFile.set('(other)', [...(byFile.get('(other)') ?? []), line]);
    }
    return byFile;
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// slotgate --check-config, the way the pod runs it

/** Lays out the slotgate container's mounts in a temp folder and runs its args with --check-config. */
async function checkConfigAsPod(docs: Doc[], extraArgs: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const d = one(docs, 'Deployment', 'slotgate');
  const c = podSpec(d).containers.find((x: Doc) => x.name === 'slotgate');
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'slotgate-k8s-pod-'));
  try {
    const mounts: Doc[] = [...(c.volumeMounts ?? [])].sort((a, b) => b.mountPath.length - a.mountPath.length);
    const decode = (s: Doc, key: string): string =>
      s.stringData?.[key] ?? Buffer.from(String(s.data?.[key] ?? ''), 'base64').toString('utf8');
    for (const m of mounts) {
      const dir = path.join(root, m.mountPath);
      await fsp.mkdir(dir, { recursive: true });
      const v = podSpec(d).volumes.find((x: Doc) => x.name === m.name);
      if (v?.configMap) {
        const cm = one(docs, 'ConfigMap', v.configMap.name);
        for (const [k, val] of Object.entries(cm.data ?? {})) await fsp.writeFile(path.join(dir, k), String(val));
      } else if (v?.secret) {
        const s = one(docs, 'Secret', v.secret.secretName);
        for (const k of Object.keys({ ...(s.data ?? {}), ...(s.stringData ?? {}) })) await fsp.writeFile(path.join(dir, k), decode(s, k));
      }
    }
    const remap = (p: string): string => (mounts.some((m) => p === m.mountPath || p.startsWith(m.mountPath + '/')) ? path.join(root, p) : p);
    const fields: Record<string, string> = {
      'status.hostIP': '192.0.2.10',
      'status.podIP': '10.244.0.10',
      'metadata.name': 'slotgate-0',
      'metadata.namespace': 'default',
    };
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = remap(String(e.value));
      else if (e.valueFrom?.fieldRef) env[e.name] = fields[e.valueFrom.fieldRef.fieldPath] ?? 'x';
      else if (e.valueFrom?.secretKeyRef) env[e.name] = decode(one(docs, 'Secret', e.valueFrom.secretKeyRef.name), e.valueFrom.secretKeyRef.key);
      else if (e.valueFrom?.configMapKeyRef) env[e.name] = String(one(docs, 'ConfigMap', e.valueFrom.configMapKeyRef.name).data?.[e.valueFrom.configMapKeyRef.key]);
    }
    // The image's ENTRYPOINT is `node /app/dist/src/main.js`; the container gives only args.
    if (c.command) throw new Error('the slotgate container overrides the image ENTRYPOINT; update checkConfigAsPod');
    const args = [...(c.args ?? []).map((a: string) => remap(a)), ...extraArgs, '--check-config'];
    try {
      const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], { env, cwd: root, timeout: 30_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
    }
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  requireTools();
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'slotgate-k8s-'));
  await fsp.cp(path.join(ROOT, 'k8s'), work, { recursive: true });
  // Never a developer's real production secrets: the copy gets test ones.
  const secrets = path.join(work, 'overlays/production/secrets');
  for (const f of await fsp.readdir(secrets)) if (f !== 'README.md' && f !== '.gitignore') await fsp.rm(path.join(secrets, f));
  await fsp.mkdir(path.join(work, RENDERS['all-components']), { recursive: true });
  await fsp.writeFile(
    path.join(work, RENDERS['all-components'], 'kustomization.yaml'),
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../base]\n' +
      'components: [../../components/redis-sysctl, ../../components/servicemonitor, ../../components/announce-node-ip]\n',
  );
}, 60_000);

afterAll(async () => {
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

describe('k8s manifests', () => {
  it('production refuses to render without its secret files, naming them', async () => {
    const err = await kustomize(path.join(work, RENDERS.production)).then(
      () => undefined,
      (e: { stderr?: string }) => e.stderr ?? String(e),
    );
    expect(err, 'production rendered with no secrets/ files: the dev-default passwords would ship').toBeDefined();
    expect(err).toMatch(/secrets\/redis-password/);
    // And git never takes them (when this is a git checkout).
    if (fs.existsSync(path.join(ROOT, '.git'))) {
      for (const f of ['redis-password', 'slotgate-requirepass']) {
        const { stdout } = await run('git', ['-C', ROOT, 'check-ignore', '-v', `k8s/overlays/production/secrets/${f}`]).catch(() => ({ stdout: '' }));
        expect(stdout, `k8s/overlays/production/secrets/${f} is not git-ignored`).toMatch(/secrets\/\.gitignore/);
      }
    }
  });

  it('kubectl kustomize renders the base, every overlay and every component', async () => {
    const secrets = path.join(work, 'overlays/production/secrets');
    await fsp.writeFile(path.join(secrets, 'redis-password'), 'test-redis-password\n');
    await fsp.writeFile(path.join(secrets, 'slotgate-requirepass'), 'test-slotgate-password');
    for (const [name, dir] of Object.entries(RENDERS) as [RenderName, string][]) {
      rendered[name] = parseDocs(await kustomize(path.join(work, dir)));
      expect(rendered[name].length, name).toBeGreaterThan(5);
    }
    // Every overlay under k8s/overlays is one of the renders checked here.
    const overlays = (await fsp.readdir(path.join(ROOT, 'k8s/overlays'))).map((o) => `overlays/${o}`);
    expect(overlays.filter((o) => !Object.values(RENDERS).includes(o as never))).toEqual([]);
    const components = await fsp.readdir(path.join(ROOT, 'k8s/components'));
    const used = await fsp.readFile(path.join(work, RENDERS['all-components'], 'kustomization.yaml'), 'utf8');
    expect(components.filter((c) => !used.includes(`components/${c}`))).toEqual([]);
    // The production overlay's own secrets replaced the dev defaults.
    const secret = one(rendered.production, 'Secret', find(rendered.production, 'Secret').find((s) => s.metadata.name.startsWith('redis-auth'))!.metadata.name);
    expect(Buffer.from(secret.data.password, 'base64').toString()).toBe('test-redis-password\n');
  });

  describe.each(Object.keys(RENDERS) as RenderName[])('%s', (name) => {
    const docs = (): Doc[] => {
      if (!rendered[name]) throw new Error('not rendered (see the rendering test)');
      return rendered[name];
    };

    it('every document passes the schema validation (kubernetes-models)', async () => {
      expect(await schemaErrors(docs())).toEqual([]);
    });

    it('kinds, names, selectors, Service ports, references', () => {
      expect(checkApiVersions(docs())).toEqual([]);
      expect(checkNames(docs())).toEqual([]);
      expect(checkWorkloadSelectors(docs())).toEqual([]);
      expect(checkServices(docs())).toEqual([]);
      expect(checkReferences(docs())).toEqual([]);
      const nodePort = one(docs(), 'Service', 'slotgate-nodeport');
      expect(nodePort.spec.type).toBe('NodePort');
      expect(nodePort.spec.ports.map((p: Doc) => p.nodePort)).toEqual([30079]);
      expect(one(docs(), 'Service', 'slotgate').spec.type ?? 'ClusterIP').toBe('ClusterIP');
      expect(find(docs(), 'PodDisruptionBudget').map((p) => p.metadata.name).sort()).toEqual(['redis-cluster', 'slotgate']);
    });

    it('restricted securityContext everywhere (but the opt-in sysctl init container)', () => {
      const isSysctl = (w: Doc, c: Doc): boolean => w.kind === 'StatefulSet' && c.name === 'sysctl';
      expect(checkRestricted(docs(), isSysctl)).toEqual([]);
      const sysctl = find(docs(), 'StatefulSet').flatMap((w) => podSpec(w).initContainers ?? []);
      if (name === 'all-components') expect(sysctl.map((c: Doc) => [c.name, c.securityContext?.privileged])).toEqual([['sysctl', true]]);
      else expect(sysctl, 'the privileged init container is off by default').toEqual([]);
    });

    it('Redis Cluster: 6 pods, headless Service = serviceName, the scripts env contract, redis.conf', () => {
      expect(checkRedis(docs())).toEqual([]);
      const sts = one(docs(), 'StatefulSet', 'redis-cluster');
      expect(sts.spec.replicas).toBe(6);
      expect(sts.spec.podManagementPolicy).toBe('Parallel');
      expect(sts.spec.template.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm?.topologyKey).toBe('kubernetes.io/hostname');
      expect(sts.spec.volumeClaimTemplates.map((t: Doc) => t.metadata.name)).toEqual(['data']);
    });

    it("slotgate.yaml passes slotgate --check-config, alone and with the pod's env and mounts", async () => {
      const cm = find(docs(), 'ConfigMap').find((c) => c.metadata.name.startsWith('slotgate-config-'));
      expect(cm?.data?.['slotgate.yaml'], 'ConfigMap slotgate-config with slotgate.yaml').toBeTypeOf('string');
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'slotgate-k8s-conf-'));
      try {
        const file = path.join(dir, 'slotgate.yaml');
        await fsp.writeFile(file, cm!.data['slotgate.yaml']);
        const alone = await run(process.execPath, [MAIN, '--config', file, '--check-config'], { timeout: 30_000 });
        expect(alone.stdout).toMatch(/^seeds:/m);
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
      }
      const pod = await checkConfigAsPod(docs());
      expect(pod.code, pod.stderr).toBe(0);
      resolvedConfig[name] = parseYaml(pod.stdout) as Doc;
      // The secrets reached slotgate (redacted in the output).
      expect(pod.stdout).toMatch(/^backend-password: .*redacted/m);
      expect(pod.stdout).toMatch(/^requirepass: .*redacted/m);
    });

    it('slotgate: probes on the admin port, drain within the grace period, seeds, announce port', () => {
      if (!resolvedConfig[name]) throw new Error('no resolved configuration (see the --check-config test)');
      expect(checkSlotgate(docs(), resolvedConfig[name])).toEqual([]);
      const announce = name === 'dev' || name === 'all-components';
      expect(resolvedConfig[name]['announce-port'], 'announce-node-ip component').toBe(announce ? 30079 : undefined);
    });
  });

  it('production is larger than dev', () => {
    const replicas = (n: RenderName): number => one(rendered[n], 'Deployment', 'slotgate').spec.replicas;
    expect(replicas('production')).toBeGreaterThan(replicas('dev'));
    const storage = (n: RenderName): Doc => one(rendered[n], 'StatefulSet', 'redis-cluster').spec.volumeClaimTemplates[0].spec;
    expect(storage('production').storageClassName).toBeTypeOf('string');
    expect(storage('dev').storageClassName).toBeUndefined();
  });

  it('no unknown field in any document (TypeScript excess-property check), and a typo is caught', async () => {
    const broken = clone(one(rendered.dev, 'Deployment', 'slotgate'));
    broken.spec.replica = broken.spec.replicas; // the typo the schema validators let through
    delete broken.spec.replicas;
    expect(await schemaErrors([broken]), 'kubernetes-models alone misses it (why tsc is here)').toEqual([]);
    const files: Record<string, Doc[]> = { control: [broken] };
    for (const n of Object.keys(RENDERS) as RenderName[]) files[n] = rendered[n];
    const errors = await typecheck(files);
    expect(errors.get('control')?.join('\n') ?? '(no error)').toMatch(/replica/);
    errors.delete('control');
    expect(Object.fromEntries(errors)).toEqual({});
  }, 150_000);

  it('matches the Dockerfile, when there is one (user, entrypoint)', async () => {
    const file = path.join(ROOT, 'Dockerfile');
    if (!fs.existsSync(file)) return; // the image is built on another branch
    const text = await fsp.readFile(file, 'utf8');
    const d = one(rendered.base, 'Deployment', 'slotgate');
    expect(text).toMatch(new RegExp(`^USER ${podSpec(d).securityContext.runAsUser}(:\\d+)?\\s*$`, 'm'));
    const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(text);
    expect(entry, 'the Deployment gives only args: the image needs an ENTRYPOINT').not.toBeNull();
    expect((JSON.parse(entry![1]!) as string[]).join(' ')).toMatch(/main\.js$/);
  });

  describe('the checks catch broken manifests', () => {
    const dev = (): Doc[] => clone(rendered.dev);
    const mutate = (f: (docs: Doc[]) => void): Doc[] => {
      const docs = dev();
      f(docs);
      return docs;
    };
    const deployment = (docs: Doc[]): Doc => one(docs, 'Deployment', 'slotgate');
    const sts = (docs: Doc[]): Doc => one(docs, 'StatefulSet', 'redis-cluster');

    it('schema: a wrong type', async () => {
      const docs = mutate((d) => (deployment(d).spec.replicas = 'two'));
      expect((await schemaErrors(docs)).join('\n')).toMatch(/replicas must be integer/);
    });

    it('apiVersion, names, selectors, ports, references', () => {
      expect(checkApiVersions(mutate((d) => (deployment(d).apiVersion = 'extensions/v1beta1')))).toHaveLength(1);
      expect(checkNames(mutate((d) => (one(d, 'Service', 'slotgate').metadata.name = 'Slotgate_svc')))).not.toEqual([]);
      expect(checkWorkloadSelectors(mutate((d) => (deployment(d).spec.selector.matchLabels['app.kubernetes.io/name'] = 'slotgat')))).not.toEqual([]);
      expect(checkServices(mutate((d) => (one(d, 'Service', 'slotgate-nodeport').spec.ports[0].nodePort = 40079))).join()).toMatch(/outside 30000-32767/);
      expect(checkServices(mutate((d) => (one(d, 'Service', 'slotgate').spec.ports[0].targetPort = 'rsp'))).join()).toMatch(/no container port/);
      expect(checkServices(mutate((d) => (one(d, 'Service', 'slotgate').spec.selector = { 'app.kubernetes.io/name': 'slotgat' }))).join()).toMatch(/selects 0 workloads/);
      // The Job's pods labelled like the Redis pods: the headless Service and the PDB would count them.
      const jobLikeRedis = mutate((d) => (one(d, 'Job').spec.template.metadata.labels = { ...sts(d).spec.template.metadata.labels }));
      expect(checkServices(jobLikeRedis).join()).toMatch(/redis-cluster-headless: selector .* selects 2 workloads/);
      expect(checkWorkloadSelectors(jobLikeRedis).join()).toMatch(/also matches the pods of Job/);
      expect(checkReferences(mutate((d) => (podSpec(deployment(d)).volumes[0].configMap.name = 'slotgate-config')))).not.toEqual([]);
    });

    it('securityContext', () => {
      expect(checkRestricted(mutate((d) => delete podSpec(deployment(d)).containers[0].securityContext.readOnlyRootFilesystem))).toHaveLength(1);
      expect(checkRestricted(mutate((d) => (podSpec(sts(d)).securityContext.runAsUser = 0)))).toEqual([]); // the container's 999 wins
      const root = mutate((d) => {
        podSpec(sts(d)).securityContext.runAsUser = 0;
        delete podSpec(sts(d)).containers[0].securityContext.runAsUser;
      });
      expect(checkRestricted(root).join()).toMatch(/container redis: runAsUser 0/);
      expect(checkRestricted(mutate((d) => (podSpec(deployment(d)).containers[0].securityContext.capabilities.drop = ['NET_RAW'])))).toHaveLength(1);
    });

    it('Redis: headless Service, env contract, scripts mode, redis.conf', () => {
      const headless = (d: Doc[]): Doc => one(d, 'Service', 'redis-cluster-headless');
      expect(checkRedis(mutate((d) => (sts(d).spec.serviceName = 'redis-headless')))).not.toEqual([]);
      expect(checkRedis(mutate((d) => delete headless(d).spec.publishNotReadyAddresses)).join()).toMatch(/publishNotReadyAddresses/);
      expect(checkRedis(mutate((d) => (sts(d).spec.replicas = 8))).join()).toMatch(/REDIS_CLUSTER_SIZE/);
      expect(checkRedis(mutate((d) => (podSpec(sts(d)).volumes.find((v: Doc) => v.name === 'scripts').configMap.defaultMode = 0o644))).join()).toMatch(/defaultMode 644/);
      const conf = (d: Doc[]): Doc => find(d, 'ConfigMap').find((c) => c.metadata.name.startsWith('redis-cluster-config'))!;
      expect(checkRedis(mutate((d) => (conf(d).data['memory.conf'] = 'maxmemory 1gb\nmaxmemory-policy noeviction\n'))).join()).toMatch(/maxmemory 1gb above/);
      expect(checkRedis(mutate((d) => (conf(d).data['redis.conf'] = conf(d).data['redis.conf'].replace('appendonly yes', 'appendonly no')))).join()).toMatch(/appendonly/);
    });

    it('slotgate: probe port and path, grace period, seeds', () => {
      const ok = resolvedConfig.dev;
      if (!ok) throw new Error('no resolved configuration (see the --check-config test)');
      const c = (d: Doc[]): Doc => podSpec(deployment(d)).containers[0];
      expect(checkSlotgate(mutate((d) => (c(d).readinessProbe.httpGet.port = 'resp')), ok).join()).toMatch(/readinessProbe port/);
      expect(checkSlotgate(mutate((d) => (c(d).livenessProbe.httpGet.path = '/healthz')), ok).join()).toMatch(/livenessProbe path/);
      expect(checkSlotgate(mutate((d) => (podSpec(deployment(d)).terminationGracePeriodSeconds = 20)), ok).join()).toMatch(/terminationGracePeriodSeconds/);
      expect(checkSlotgate(dev(), { ...ok, 'drain-delay': '1s' }).join()).toMatch(/drain-delay/);
      expect(checkSlotgate(dev(), { ...ok, seeds: ['redis-0:6379'] }).join()).toMatch(/headless Service/);
      expect(checkSlotgate(dev(), { ...ok, 'admin-port': 9122 }).join()).toMatch(/admin-port/);
    });

    it('--check-config: an unknown key in slotgate.yaml fails', async () => {
      const docs = mutate((d) => {
        const cm = find(d, 'ConfigMap').find((x) => x.metadata.name.startsWith('slotgate-config-'))!;
        cm.data['slotgate.yaml'] += '\ndrain-timout: 20s\n';
      });
      const res = await checkConfigAsPod(docs);
      expect(res.code).not.toBe(0);
      expect(res.stderr + res.stdout).toMatch(/unknown option "drain-timout"/);
    });
  });
});
