// Checks of rendered Kubernetes manifests that neither the schema validators (kubernetes-models)
// nor TypeScript's types catch: each returns a list of problems, empty when the render is right,
// so manifests.test.ts can also prove every check fails on a broken copy.

import { parseAllDocuments } from 'yaml';

export type Doc = Record<string, any>;

/** Parses `kubectl kustomize` output as Kubernetes does (YAML 1.1: `0755`, `yes`). */
export function parseDocs(text: string): Doc[] {
  const docs: Doc[] = [];
  for (const d of parseAllDocuments(text, { version: '1.1' })) {
    if (d.errors.length > 0) throw new Error(`YAML error: ${d.errors[0]!.message}`);
    const value = d.toJS() as unknown;
    if (value !== null && value !== undefined) docs.push(value as Doc);
  }
  return docs;
}

export const clone = <T>(v: T): T => structuredClone(v);

/** Every (apiVersion, kind) the manifests may use. */
export const ALLOWED_KINDS: Record<string, readonly string[]> = {
  v1: ['ConfigMap', 'Secret', 'Service'],
  'apps/v1': ['Deployment', 'StatefulSet'],
  'batch/v1': ['Job'],
  'policy/v1': ['PodDisruptionBudget'],
  'monitoring.coreos.com/v1': ['ServiceMonitor'],
};

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Job'];

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export const find = (docs: Doc[], kind: string, name?: string): Doc[] =>
  docs.filter((d) => d.kind === kind && (name === undefined || d.metadata?.name === name));

export function one(docs: Doc[], kind: string, name?: string): Doc {
  const found = find(docs, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

/** The pod template of a workload. */
export const podSpec = (w: Doc): Doc => w.spec?.template?.spec ?? {};
export const podLabels = (w: Doc): Record<string, string> => w.spec?.template?.metadata?.labels ?? {};
export const allContainers = (w: Doc): Doc[] => [...(podSpec(w).initContainers ?? []), ...(podSpec(w).containers ?? [])];

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Names (a ConfigMap's generated name is found by its prefix before the hash suffix). */
export function checkApiVersions(docs: Doc[]): string[] {
  return docs
    .filter((d) => !(ALLOWED_KINDS[d.apiVersion] ?? []).includes(d.kind))
    .map((d) => `${d.apiVersion} ${d.kind} ${d.metadata?.name}: apiVersion/kind not in the allow-list`);
}

export function checkNames(docs: Doc[]): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const d of docs) {
    const name: unknown = d.metadata?.name;
    const id = `${d.kind} ${String(name)}`;
    if (typeof name !== 'string') {
      errors.push(`${d.kind}: no metadata.name`);
      continue;
    }
    if (seen.has(id)) errors.push(`${id}: defined twice`);
    seen.add(id);
    if (d.kind === 'Service') {
      if (!DNS1035_LABEL.test(name) || name.length > 63) errors.push(`${id}: not a DNS-1035 label (Service names)`);
    } else if (!DNS1123_SUBDOMAIN.test(name) || name.length > 253) errors.push(`${id}: not a DNS-1123 subdomain`);
    // A StatefulSet's pods get the label controller-revision-hash=NAME-HASH (63 chars at most).
    if (d.kind === 'StatefulSet' && name.length > 52) errors.push(`${id}: longer than 52 characters`);
    for (const [k, v] of Object.entries({ ...(d.metadata?.labels ?? {}), ...(d.spec?.template?.metadata?.labels ?? {}) })) {
      if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) errors.push(`${id}: label ${k}=${String(v)} is not a valid label value`);
    }
    if (WORKLOAD_KINDS.includes(d.kind)) {
      for (const c of allContainers(d)) {
        if (!DNS1123_LABEL.test(c.name)) errors.push(`${id}: container name ${c.name} is not a DNS-1123 label`);
        for (const p of c.ports ?? []) {
          if (p.name !== undefined && (!IANA_SVC_NAME.test(p.name) || p.name.length > 15)) errors.push(`${id}: port name ${p.name} is not an IANA service name (<= 15 chars)`);
        }
      }
      for (const v of podSpec(d).volumes ?? []) if (!DNS1123_LABEL.test(v.name)) errors.push(`${id}: volume name ${v.name} is not a DNS-1123 label`);
    }
  }
  return errors;
}

/** Workload selectors match their own pods' labels, and no other workload's pods. */
export function checkWorkloadSelectors(docs: Doc[]): string[] {
  const errors: string[] = [];
  const workloads = docs.filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet');
  const allPods = docs.filter((d) => WORKLOAD_KINDS.includes(d.kind));
  for (const w of workloads) {
    const sel = w.spec?.selector?.matchLabels as Record<string, string> | undefined;
    if (!matches(sel, podLabels(w))) errors.push(`${w.kind} ${w.metadata.name}: selector ${JSON.stringify(sel)} does not match its template labels`);
    for (const other of allPods) {
      if (other !== w && matches(sel, podLabels(other))) errors.push(`${w.kind} ${w.metadata.name}: selector also matches the pods of ${other.kind} ${other.metadata.name}`);
    }
  }
  return errors;
}

/** A Service or PDB selects the pods of exactly one workload, and that workload's pods only. */
function selectedWorkloads(docs: Doc[], selector: Record<string, string> | undefined): Doc[] {
  return docs.filter((d) => WORKLOAD_KINDS.includes(d.kind) && matches(selector, podLabels(d)));
}

export function containerPort(w: Doc, port: number | string): Doc | undefined {
  for (const c of podSpec(w).containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === port || p.containerPort === port) return p;
  }
  return undefined;
}

export function checkServices(docs: Doc[]): string[] {
  const errors: string[] = [];
  const nodePorts = new Map<number, string>();
  const validPort = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
  for (const s of find(docs, 'Service')) {
    const id = `Service ${s.metadata.name}`;
    const targets = selectedWorkloads(docs, s.spec?.selector);
    if (targets.length !== 1) errors.push(`${id}: selector ${JSON.stringify(s.spec?.selector)} selects ${targets.length} workloads (want 1)`);
    const ports: Doc[] = s.spec?.ports ?? [];
    if (ports.length === 0) errors.push(`${id}: no ports`);
    for (const p of ports) {
      if (!validPort(p.port)) errors.push(`${id}: port ${p.port} out of 1-65535`);
      if (ports.length > 1 && !p.name) errors.push(`${id}: ports need names when there are several`);
      const target = p.targetPort ?? p.port;
      if (typeof target === 'number' && !validPort(target)) errors.push(`${id}: targetPort ${target} out of 1-65535`);
      for (const w of targets) {
        if (!containerPort(w, target)) errors.push(`${id}: targetPort ${target} is no container port of ${w.kind} ${w.metadata.name}`);
      }
      if (p.nodePort !== undefined) {
        if (s.spec?.type !== 'NodePort' && s.spec?.type !== 'LoadBalancer') errors.push(`${id}: nodePort on a ${s.spec?.type ?? 'ClusterIP'} Service`);
        if (!Number.isInteger(p.nodePort) || p.nodePort < 30000 || p.nodePort > 32767) errors.push(`${id}: nodePort ${p.nodePort} outside 30000-32767`);
        const other = nodePorts.get(p.nodePort);
        if (other) errors.push(`${id}: nodePort ${p.nodePort} also used by ${other}`);
        nodePorts.set(p.nodePort, id);
      }
    }
  }
  for (const pdb of find(docs, 'PodDisruptionBudget')) {
    const n = selectedWorkloads(docs, pdb.spec?.selector?.matchLabels).length;
    if (n !== 1) errors.push(`PodDisruptionBudget ${pdb.metadata.name}: selects ${n} workloads (want 1)`);
  }
  return errors;
}

/** Every ConfigMap and Secret a pod uses exists in the render (generated names included). */
export function checkReferences(docs: Doc[]): string[] {
  const errors: string[] = [];
  const has = (kind: string, name: string): boolean => find(docs, kind, name).length === 1;
  for (const w of docs.filter((d) => WORKLOAD_KINDS.includes(d.kind))) {
    const id = `${w.kind} ${w.metadata.name}`;
    const volumes: Doc[] = podSpec(w).volumes ?? [];
    for (const v of volumes) {
      if (v.configMap && !has('ConfigMap', v.configMap.name)) errors.push(`${id}: volume ${v.name}: no ConfigMap ${v.configMap.name}`);
      if (v.secret && !has('Secret', v.secret.secretName)) errors.push(`${id}: volume ${v.name}: no Secret ${v.secret.secretName}`);
    }
    const claimNames = (w.spec?.volumeClaimTemplates ?? []).map((t: Doc) => t.metadata?.name);
    for (const c of allContainers(w)) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
          const secret = find(docs, 'Secret', ref.name)[0];
          if (!secret) errors.push(`${id}: env ${e.name}: no Secret ${ref.name}`);
          else if (!(ref.key in { ...(secret.data ?? {}), ...(secret.stringData ?? {}) })) errors.push(`${id}: env ${e.name}: Secret ${ref.name} has no key ${ref.key}`);
        }
      }
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.some((v) => v.name === m.name) && !claimNames.includes(m.name)) errors.push(`${id}: container ${c.name} mounts unknown volume ${m.name}`);
      }
    }
  }
  return errors;
}

/** The restricted Pod Security profile, container by container (pod-level settings count). */
export function checkRestricted(docs: Doc[], exempt: (w: Doc, c: Doc) => boolean = () => false): string[] {
  const errors: string[] = [];
  for (const w of docs.filter((d) => WORKLOAD_KINDS.includes(d.kind))) {
    const pod = podSpec(w).securityContext ?? {};
    for (const c of allContainers(w)) {
      if (exempt(w, c)) continue;
      const id = `${w.kind} ${w.metadata.name} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) errors.push(`${id}: runAsNonRoot is not true`);
      const uid = sc.runAsUser ?? pod.runAsUser;
      if (!Number.isInteger(uid) || uid === 0) errors.push(`${id}: runAsUser ${uid} is not a numeric non-root uid`);
      if (sc.allowPrivilegeEscalation !== false) errors.push(`${id}: allowPrivilegeEscalation is not false`);
      if (sc.privileged === true) errors.push(`${id}: privileged`);
      if (sc.readOnlyRootFilesystem !== true) errors.push(`${id}: readOnlyRootFilesystem is not true`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) errors.push(`${id}: capabilities do not drop ALL`);
      if ((sc.capabilities?.add ?? []).length > 0) errors.push(`${id}: capabilities added`);
      if ((sc.seccompProfile?.type ?? pod.seccompProfile?.type) !== 'RuntimeDefault') errors.push(`${id}: seccompProfile is not RuntimeDefault`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory) errors.push(`${id}: no cpu/memory requests and memory limit`);
    }
    if (podSpec(w).hostNetwork || podSpec(w).hostPID || podSpec(w).hostIPC) errors.push(`${w.kind} ${w.metadata.name}: host namespaces`);
  }
  return errors;
}

const envOf = (c: Doc): Map<string, string | undefined> => new Map((c.env ?? []).map((e: Doc) => [e.name, e.value]));

/** Bytes of a Kubernetes memory quantity (Mi, Gi, M, G...). */
export function quantityBytes(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q));
  if (!m) throw new Error(`cannot read quantity ${q}`);
  const mult: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? mult[m[2]]! : 1);
}

/** Bytes of a Redis memory value (redis.conf: 100mb, 1gb, 5gb, 1024). */
export function redisBytes(v: string): number {
  const m = /^(\d+)(k|kb|m|mb|g|gb)?$/i.exec(v);
  if (!m) throw new Error(`cannot read Redis memory value ${v}`);
  const unit = (m[2] ?? '').toLowerCase();
  const mult: Record<string, number> = { '': 1, k: 1e3, kb: 1024, m: 1e6, mb: 2 ** 20, g: 1e9, gb: 2 ** 30 };
  return Number(m[1]) * mult[unit]!;
}

/** redis.conf directives (last one wins, as in Redis), with `include`d files of the same ConfigMap. */
export function redisDirectives(cm: Doc, file: string, mountPath: string): Map<string, string> {
  const out = new Map<string, string>();
  const text: string | undefined = cm.data?.[file];
  if (text === undefined) throw new Error(`ConfigMap ${cm.metadata.name} has no ${file}`);
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [key, ...rest] = line.split(/\s+/);
    const value = rest.join(' ');
    if (key!.toLowerCase() === 'include') {
      if (!value.startsWith(mountPath + '/')) throw new Error(`include ${value}: not in the ConfigMap mounted at ${mountPath}`);
      for (const [k, v] of redisDirectives(cm, value.slice(mountPath.length + 1), mountPath)) out.set(k, v);
    } else out.set(key!.toLowerCase(), value);
  }
  return out;
}

/** The Redis StatefulSet, its headless Service, its env contract with the scripts, and the Job. */
export function checkRedis(docs: Doc[]): string[] {
  const errors: string[] = [];
  const sts = one(docs, 'StatefulSet', 'redis-cluster');
  const replicas: number = sts.spec.replicas;
  const svc = find(docs, 'Service', sts.spec.serviceName)[0];
  if (!svc) return [`StatefulSet ${sts.metadata.name}: serviceName ${sts.spec.serviceName} is no Service`];
  if (svc.spec.clusterIP !== 'None') errors.push(`Service ${svc.metadata.name}: not headless (clusterIP None)`);
  if (svc.spec.publishNotReadyAddresses !== true) errors.push(`Service ${svc.metadata.name}: publishNotReadyAddresses is not true (the cluster cannot be created before pods are ready)`);
  if (!matches(svc.spec.selector, podLabels(sts))) errors.push(`Service ${svc.metadata.name}: does not select the StatefulSet's pods`);
  const redis = (podSpec(sts).containers ?? []).find((c: Doc) => c.name === 'redis');
  if (!redis) return [...errors, 'StatefulSet redis-cluster: no container redis'];
  const env = envOf(redis);
  const redisPort = containerPort(sts, 'redis')?.containerPort;
  if (containerPort(sts, 'cluster-bus')?.containerPort !== redisPort + 10000) errors.push('StatefulSet redis-cluster: cluster-bus port is not the Redis port + 10000');
  const want: Record<string, string> = {
    REDIS_HEADLESS_SERVICE: sts.spec.serviceName,
    REDIS_STATEFULSET: sts.metadata.name,
    REDIS_CLUSTER_SIZE: String(replicas),
    REDIS_PORT: String(redisPort),
  };
  const jobs = find(docs, 'Job');
  if (jobs.length !== 1) errors.push(`expected one cluster-create Job, found ${jobs.length}`);
  for (const [who, e] of [['StatefulSet', env], ...jobs.map((j) => [`Job ${j.metadata.name}`, envOf(podSpec(j).containers[0])] as const)] as const) {
    for (const [k, v] of Object.entries(want)) if (e.get(k) !== v) errors.push(`${who}: env ${k}=${e.get(k)}, want ${v}`);
    const rep = Number(e.get('REDIS_REPLICAS'));
    if (!(rep >= 1) || replicas % (rep + 1) !== 0 || replicas / (rep + 1) < 3) errors.push(`${who}: ${replicas} pods cannot be >= 3 masters with ${e.get('REDIS_REPLICAS')} replicas each`);
  }
  for (const w of [sts, ...jobs]) {
    const id = `${w.kind} ${w.metadata.name}`;
    const c = podSpec(w).containers[0];
    const env = envOf(c);
    for (const k of ['REDIS_PASSWORD', 'REDISCLI_AUTH']) {
      if (!(c.env ?? []).some((e: Doc) => e.name === k && e.valueFrom?.secretKeyRef)) errors.push(`${id}: env ${k} is not from a Secret`);
    }
    // The command is a script of the scripts ConfigMap, mounted executable.
    const cmd: string = c.command?.[0] ?? '';
    const mount = (c.volumeMounts ?? []).find((m: Doc) => cmd.startsWith(m.mountPath + '/'));
    const vol = mount && (podSpec(w).volumes ?? []).find((v: Doc) => v.name === mount.name);
    const cm = vol?.configMap && find(docs, 'ConfigMap', vol.configMap.name)[0];
    if (!cm) errors.push(`${id}: command ${cmd} is not in a mounted ConfigMap`);
    else {
      if (!(cmd.slice(mount.mountPath.length + 1) in (cm.data ?? {}))) errors.push(`${id}: ConfigMap ${cm.metadata.name} has no ${cmd.slice(mount.mountPath.length + 1)}`);
      if (vol.configMap.defaultMode !== 0o755) errors.push(`${id}: scripts volume defaultMode ${vol.configMap.defaultMode?.toString(8)}, want 755`);
      if (!/^redis-cluster-scripts(-[a-z0-9]+)?$/.test(cm.metadata.name)) errors.push(`${id}: command from ConfigMap ${cm.metadata.name}, want redis-cluster-scripts`);
    }
    if (w === sts) {
      const confPath = env.get('REDIS_CONF') ?? '/etc/redis/redis.conf';
      const confMount = (c.volumeMounts ?? []).find((m: Doc) => confPath.startsWith(m.mountPath + '/'));
      const confVol = confMount && (podSpec(w).volumes ?? []).find((v: Doc) => v.name === confMount.name);
      const confCm = confVol?.configMap && find(docs, 'ConfigMap', confVol.configMap.name)[0];
      if (!confCm) {
        errors.push(`${id}: REDIS_CONF ${confPath} is not in a mounted ConfigMap`);
        continue;
      }
      let conf: Map<string, string>;
      try {
        conf = redisDirectives(confCm, confPath.slice(confMount.mountPath.length + 1), confMount.mountPath);
      } catch (err) {
        errors.push(`${id}: ${(err as Error).message}`);
        continue;
      }
      const dataDir = env.get('REDIS_DATA_DIR') ?? '/data';
      const wantConf: Record<string, string> = {
        port: String(redisPort),
        'cluster-enabled': 'yes',
        'cluster-config-file': `${dataDir}/nodes.conf`,
        appendonly: 'yes',
        dir: dataDir,
        'protected-mode': 'no',
      };
      for (const [k, v] of Object.entries(wantConf)) if (conf.get(k) !== v) errors.push(`redis.conf: ${k} ${conf.get(k)}, want ${v}`);
      if (!(Number(conf.get('cluster-node-timeout')) >= 1000)) errors.push(`redis.conf: cluster-node-timeout ${conf.get('cluster-node-timeout')}`);
      if ((c.volumeMounts ?? []).every((m: Doc) => m.mountPath !== dataDir)) errors.push(`${id}: nothing mounted at ${dataDir}`);
      const policies = ['noeviction', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl'];
      if (!policies.includes(conf.get('maxmemory-policy') ?? '')) errors.push(`redis.conf: maxmemory-policy ${conf.get('maxmemory-policy')}`);
      const maxmemory = conf.get('maxmemory');
      const limit = c.resources?.limits?.memory;
      if (!maxmemory || !limit) errors.push('redis.conf: maxmemory and a memory limit are both needed');
      else if (redisBytes(maxmemory) * 1.5 > quantityBytes(limit)) errors.push(`redis.conf: maxmemory ${maxmemory} above 2/3 of the memory limit ${limit} (buffers and fork copy-on-write need the rest)`);
    }
  }
  return errors;
}

/** Milliseconds of a slotgate duration as --check-config prints it (500ms, 5s, 1m, 1h). */
export function durationMs(v: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(v));
  if (!m) throw new Error(`cannot read duration ${v}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms']!;
}

/**
 * slotgate's Deployment against its resolved configuration (the output of --check-config with the
 * pod's own file, env and mounts): probes on the admin port, the Services' target port, the
 * drain timing against the grace period, seeds on the headless Service.
 */
export function checkSlotgate(docs: Doc[], resolved: Doc): string[] {
  const errors: string[] = [];
  const d = one(docs, 'Deployment', 'slotgate');
  const c = (podSpec(d).containers ?? []).find((x: Doc) => x.name === 'slotgate');
  if (!c) return ['Deployment slotgate: no container slotgate'];
  if (!(d.spec.replicas >= 2)) errors.push(`Deployment slotgate: ${d.spec.replicas} replicas, want 2 or more`);
  const uid = c.securityContext?.runAsUser ?? podSpec(d).securityContext?.runAsUser;
  if (uid !== 10001) errors.push(`Deployment slotgate: runAsUser ${uid}, want 10001 (the image's user)`);
  if (resolved['admin-enabled'] !== true) errors.push('slotgate config: admin-enabled is not true (the probes need it)');
  const adminPort = resolved['admin-port'];
  const probes: [string, string[]][] = [
    ['livenessProbe', ['/livez']],
    ['readinessProbe', ['/readyz']],
    ['startupProbe', ['/livez', '/readyz']],
  ];
  for (const [probe, paths] of probes) {
    const get = c[probe]?.httpGet;
    if (!get) {
      errors.push(`slotgate: no ${probe} httpGet`);
      continue;
    }
    if (!paths.includes(get.path)) errors.push(`slotgate: ${probe} path ${get.path}, want ${paths.join(' or ')}`);
    const port = containerPort(d, get.port)?.containerPort;
    if (port !== adminPort) errors.push(`slotgate: ${probe} port ${get.port} (${port}) is not admin-port ${adminPort}`);
  }
  for (const s of find(docs, 'Service').filter((s) => selectedWorkloads(docs, s.spec?.selector).includes(d))) {
    for (const p of s.spec.ports ?? []) {
      const target = containerPort(d, p.targetPort ?? p.port)?.containerPort;
      if (p.name === 'redis') {
        if (target !== resolved.port) errors.push(`Service ${s.metadata.name}: port ${p.name} goes to ${target}, slotgate listens on ${resolved.port}`);
        if (p.port !== 6379) errors.push(`Service ${s.metadata.name}: port ${p.port}, want 6379`);
      } else if (target !== adminPort) errors.push(`Service ${s.metadata.name}: port ${p.name} goes to ${target}, neither port nor admin-port`);
    }
  }
  const grace = (podSpec(d).terminationGracePeriodSeconds ?? 30) * 1000;
  const drainTimeout = durationMs(resolved['drain-timeout']);
  const drainDelay = durationMs(resolved['drain-delay']);
  // slotgate exits by drain-timeout, plus at most 2 s should closing hang (README, "Shutdown").
  if (!(grace > drainTimeout + 2000)) errors.push(`slotgate: terminationGracePeriodSeconds ${grace / 1000} is not above drain-timeout ${drainTimeout / 1000}s + 2 s`);
  const rp = c.readinessProbe ?? {};
  const unreadyAfter = (rp.periodSeconds ?? 10) * (rp.failureThreshold ?? 3) * 1000;
  if (!(drainDelay >= 3000 && drainDelay >= unreadyAfter)) errors.push(`slotgate: drain-delay ${drainDelay / 1000}s does not cover endpoint propagation (>= 3 s and >= the readiness probe's ${unreadyAfter / 1000} s)`);
  const sts = one(docs, 'StatefulSet', 'redis-cluster');
  const redisPort = String(containerPort(sts, 'redis')?.containerPort);
  const seeds: string[] = resolved.seeds ?? [];
  if (seeds.length === 0) errors.push('slotgate config: no seeds');
  for (const seed of seeds) {
    const i = seed.lastIndexOf(':');
    const host = seed.slice(0, i);
    if (host !== sts.spec.serviceName && !host.startsWith(`${sts.spec.serviceName}.`)) errors.push(`slotgate config: seed ${seed} is not the headless Service ${sts.spec.serviceName}`);
    if (seed.slice(i + 1) !== redisPort) errors.push(`slotgate config: seed ${seed} is not on the Redis port ${redisPort}`);
  }
  if (resolved['announce-port'] !== undefined) {
    const nodePorts = find(docs, 'Service').flatMap((s) => (s.spec.ports ?? []).map((p: Doc) => p.nodePort)).filter((n) => n !== undefined);
    if (!nodePorts.includes(resolved['announce-port'])) errors.push(`slotgate config: announce-port ${resolved['announce-port']} is no NodePort (${nodePorts.join(', ')})`);
  }
  return errors;
}
