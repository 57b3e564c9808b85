import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

/** What the lock file says of the process that owns a store. */
export interface OwnerInfo {
  pid: number;
  host: string;
  /** The process's start time in clock ticks since boot (Linux), so a reused pid is not taken for the owner. */
  started: number | null;
  /** True once the owner serves the store on its socket. */
  ready: boolean;
}

export type OwnerState = { kind: 'none' } | { kind: 'alive'; owner: OwnerInfo } | { kind: 'dead'; owner: OwnerInfo | null };

/** The start time of a process from /proc (field 22 of its stat line), or null where there is no /proc. */
function processStarted(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return null;
  }
}

function isRunning(owner: OwnerInfo): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return owner.started === null || processStarted(owner.pid) === owner.started;
}

function thisProcess(ready: boolean): OwnerInfo {
  return { pid: process.pid, host: hostname(), started: processStarted(process.pid), ready };
}

function readOwner(lockFile: string): OwnerInfo | null | 'absent' {
  let text: string;
  try {
    text = readFileSync(lockFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  try {
    const owner = JSON.parse(text) as OwnerInfo;
    return Number.isInteger(owner.pid) ? owner : null;
  } catch {
    return null; // locks are linked into place whole: only a damaged disk leaves one unreadable
  }
}

/**
 * Who owns the store. A lock whose process is gone (killed, crashed) is dead; so is one written by
 * another host, which cannot be checked from here and is refused by `claim`'s caller with a message.
 */
export function ownerState(lockFile: string): OwnerState {
  const owner = readOwner(lockFile);
  if (owner === 'absent') return { kind: 'none' };
  if (owner === null) return { kind: 'dead', owner: null };
  if (owner.host !== hostname()) return { kind: 'alive', owner };
  return isRunning(owner) ? { kind: 'alive', owner } : { kind: 'dead', owner };
}

/**
 * Takes the lock when nobody holds it; false when another process holds it (or took it first). The
 * lock is written aside and hard-linked into place, which fails when the name exists, so no reader
 * ever sees a half-written lock.
 */
export function claim(lockFile: string): boolean {
  mkdirSync(dirname(lockFile), { recursive: true, mode: 0o700 });
  const aside = `${lockFile}.${process.pid}.tmp`;
  writeFileSync(aside, JSON.stringify(thisProcess(false)), { mode: 0o600 });
  try {
    linkSync(aside, lockFile);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Says in the lock that the owner now serves the store (written aside and renamed, so readers see it whole). */
export function markReady(lockFile: string): void {
  const aside = `${lockFile}.${process.pid}.tmp`;
  writeFileSync(aside, JSON.stringify(thisProcess(true)), { mode: 0o600 });
  renameSync(aside, lockFile);
}

/**
 * Removes a dead owner's lock. It is moved aside first and read there: if what was moved is a live
 * process's lock (another process cleared the dead one and claimed it meanwhile), it is put back.
 */
export function clearDead(lockFile: string): void {
  const aside = `${lockFile}.dead-${randomBytes(6).toString('hex')}`;
  try {
    renameSync(lockFile, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = readOwner(aside);
  if (moved !== 'absent' && moved !== null && isRunning(moved)) {
    try {
      linkSync(aside, lockFile);
    } catch {
      // a third process claimed the name meanwhile; it holds the store now
    }
  }
  rmSync(aside, { force: true });
}

/** Gives the lock up, if this process holds it. */
export function releaseLock(lockFile: string): void {
  const owner = readOwner(lockFile);
  if (owner !== 'absent' && owner !== null && owner.pid === process.pid && owner.host === hostname()) rmSync(lockFile, { force: true });
}
