/** Number formats and facts about the run that every part of the report uses. */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { repoRoot } from './targets/child.js';

/** A load process above this share of one core may be what limits the cell, not the server. */
export const loadSaturated = 90;

export const fixed = (value: number | undefined, digits = 1): string =>
  value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
export const int = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? '–' : Math.round(value).toLocaleString('en-US');
export const mb = (bytes: number | undefined): string =>
  bytes === undefined ? '–' : fixed(bytes / 2 ** 20, 0);
/** Load CPU %, marked ⚠ where the load process may have been the limit. */
export const loadCpu = (percent: number | undefined): string =>
  `${fixed(percent, 0)}${(percent ?? 0) >= loadSaturated ? ' ⚠' : ''}`;
export const oneLine = (text: string): string =>
  text.split('\n')[0]!.replace(/\|/g, '/').slice(0, 160);

export function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

/** The commit the run measured, and whether the router's code differed from it. */
export function codeVersion(): string {
  const routerStatus = git(['status', '--porcelain', '--', 'router/src']);
  return `commit \`${git(['rev-parse', '--short', 'HEAD'])}\`${routerStatus ? ', with uncommitted changes in router/src' : ''}`;
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${fixed(totalmem() / 2 ** 30, 0)} GiB RAM, Node ${process.version}, ${process.platform} ${process.arch}`;
}
