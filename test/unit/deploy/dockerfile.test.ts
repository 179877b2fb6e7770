import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validate, ValidationSeverity } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';

// The Dockerfile, offline: dockerfile-utils' validator (the one VS Code's Docker extension uses:
// syntax, arguments, flags, protocols; hadolint is not available here) with every optional
// check turned to an error, then what the image must keep that no linter knows about.

const TEXT = readFileSync(fileURLToPath(new URL('../../../Dockerfile', import.meta.url)), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions with their continuation lines joined, comments and blank lines left out. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: Instruction | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === null && (line === '' || line.startsWith('#'))) return;
    if (pending !== null && line.startsWith('#')) return; // a comment inside a continuation
    const body = line.endsWith('\\') ? line.slice(0, -1) : line;
    if (pending === null) {
      const [keyword, ...rest] = body.split(/\s+/);
      pending = { keyword: keyword.toUpperCase(), args: rest.join(' '), line: i + 1 };
    } else {
      pending.args += ' ' + body;
    }
    if (!line.endsWith('\\')) {
      pending.args = pending.args.replace(/\s+/g, ' ').trim();
      out.push(pending);
      pending = null;
    }
  });
  return out;
}

/** The instructions of each build stage, keyed by stage name (or index), in order. */
function stages(all: Instruction[]): Array<{ name: string; from: string; body: Instruction[] }> {
  const result: Array<{ name: string; from: string; body: Instruction[] }> = [];
  for (const ins of all) {
    if (ins.keyword === 'FROM') {
      const [from, as, name] = ins.args.split(' ');
      result.push({ name: as?.toUpperCase() === 'AS' ? name : String(result.length), from, body: [] });
    } else if (result.length > 0) {
      result[result.length - 1].body.push(ins);
    }
  }
  return result;
}

const ALL = instructions(TEXT);
const STAGES = stages(ALL);
const FINAL = STAGES[STAGES.length - 1];
const final = (keyword: string): Instruction[] => FINAL.body.filter((i) => i.keyword === keyword);

describe('Dockerfile', () => {
  it('passes dockerfile-utils validation with every check as an error', () => {
    const E = ValidationSeverity.ERROR;
    const diagnostics = validate(TEXT, {
      deprecatedMaintainer: E,
      directiveCasing: E,
      emptyContinuationLine: E,
      instructionCasing: E,
      instructionCmdMultiple: E,
      instructionEntrypointMultiple: E,
      instructionHealthcheckMultiple: E,
      instructionJSONInSingleQuotes: E,
      instructionWorkdirRelative: E,
    });
    expect(diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('the validator does catch mistakes (it is not silently passing everything)', () => {
    const bad = 'FROM node:20-bookworm-slim AS\nFOO bar\nEXPOSE 7777/xyz\nCOPY --frm=build a b\nUSER\nWORKDIR app\n';
    const messages = validate(bad, { instructionWorkdirRelative: ValidationSeverity.ERROR }).map((d) => d.message);
    expect(messages).toEqual([
      'FROM requires either one or three arguments',
      'Unknown instruction: FOO',
      'Invalid proto: xyz',
      'Unknown flag: frm',
      'Instruction has no arguments',
      'WORKDIR paths should be absolute',
    ]);
  });

  it('builds on a Debian bookworm-slim Node 20 base (the offline substitute matches it)', () => {
    const baseArg = ALL.find((i) => i.keyword === 'ARG' && i.args.startsWith('BASE_IMAGE='));
    expect(baseArg?.args).toBe('BASE_IMAGE=node:20-bookworm-slim');
    for (const stage of STAGES) expect(['${BASE_IMAGE}', 'deps']).toContain(stage.from);
    expect(FINAL.from).toBe('${BASE_IMAGE}');
  });

  it('runs `node`, never npm, as a numeric non-root user, with both ports and SIGTERM', () => {
    expect(final('ENTRYPOINT').map((i) => JSON.parse(i.args))).toEqual([['node', '/app/dist/src/main.js']]);
    const cmd = final('CMD').map((i) => JSON.parse(i.args) as string[]);
    expect(cmd).toEqual([['--config', '/etc/slotgate/slotgate.yaml']]);
    expect(TEXT).not.toMatch(/^(ENTRYPOINT|CMD)\b.*\bnpm\b/im);
    const users = final('USER').map((i) => i.args);
    expect(users).toEqual(['10001:10001']);
    expect(final('EXPOSE').flatMap((i) => i.args.split(' ')).sort()).toEqual(['7777', '9121']);
    expect(final('STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
  });

  it('keeps the build out of the runtime stage: no RUN there, no build-time CA, production node_modules from npm ci --omit=dev', () => {
    // Any RUN in the final stage would leave the build's mount points (the CA file) in a layer.
    expect(final('RUN')).toEqual([]);
    expect(final('ARG').some((i) => i.args.startsWith('NODE_EXTRA_CA_CERTS'))).toBe(false);
    expect(final('ENV').some((i) => i.args.includes('NODE_EXTRA_CA_CERTS'))).toBe(false);
    for (const stage of STAGES.slice(0, -1)) {
      if (stage.body.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args))) {
        expect(stage.body.some((i) => i.keyword === 'ARG' && i.args === 'NODE_EXTRA_CA_CERTS'), stage.name).toBe(true);
      }
    }
    const deps = STAGES.find((s) => s.name === 'deps');
    expect(deps?.body.some((i) => i.keyword === 'RUN' && /\bnpm ci --omit=dev\b/.test(i.args))).toBe(true);
    const copies = final('COPY').map((i) => i.args);
    expect(copies).toContain('--from=deps /src/node_modules ./node_modules');
    expect(copies).toContain('--from=build /src/dist/src ./dist/src');
    expect(copies).toContain('config ./config');
  });

  it('carries the OCI labels', () => {
    const labels = final('LABEL').map((i) => i.args).join(' ');
    for (const key of ['title', 'description', 'licenses', 'version', 'revision', 'source']) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
    expect(labels).toContain('org.opencontainers.image.licenses="MIT"');
  });
});
