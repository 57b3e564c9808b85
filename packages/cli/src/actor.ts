import { hostname, userInfo } from 'node:os';

/** Who runs a command, for the audit table: `--actor`, else the operating system's user at this host. */
export function actorOf(given: string | undefined): string {
  if (given !== undefined) return given;
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container): keep 'unknown'
  }
  return `${user}@${hostname()}`;
}
