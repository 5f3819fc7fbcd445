/** The variable that lets scrapes reach private addresses, read in one place. */
export const ALLOW_PRIVATE_VARIABLE = 'SCRAPE_ALLOW_PRIVATE';

/** Whether `env` sets `SCRAPE_ALLOW_PRIVATE=1`; any other value keeps the check on. */
export function allowPrivateAddresses(env: NodeJS.ProcessEnv): boolean {
  return env[ALLOW_PRIVATE_VARIABLE] === '1';
}
