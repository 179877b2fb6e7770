/**
 * Parses a benchmark's command line: `--kebab-name NUMBER` for each number in `defaults` (by its
 * camelCase key: `--max-rss-mb` sets `maxRssMb`), `--name VALUE` for each string and `--name`
 * alone for each boolean. Unknown flags and values that are not numbers throw, naming the flag.
 */
export function parseFlags<T extends Record<string, number | boolean | string>>(argv: string[], defaults: T): T {
  const options: Record<string, number | boolean | string> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const key = flag.startsWith('--') ? flag.slice(2).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()) : '';
    if (!(key in defaults)) throw new Error(`unknown option ${flag}`);
    if (typeof defaults[key] === 'boolean') {
      options[key] = true;
      continue;
    }
    const raw = argv[++i];
    if (raw === undefined) throw new Error(`${flag} needs a value`);
    if (typeof defaults[key] === 'string') {
      options[key] = raw;
      continue;
    }
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`${flag} needs a number`);
    options[key] = value;
  }
  return options as T;
}
