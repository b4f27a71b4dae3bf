import type { AuditLog, ChainHead, ChainedEntry } from './audit-log.js';
import { auditEntryHash, GENESIS_HASH } from './audit-hash.js';

// Walks one audit chain in seq order and names the first entry that breaks it. Each kind is what
// a writer with database access leaves behind when it does not also recompute every later hash:
// - changed:   the entry's fields no longer hash to its stored hash (an UPDATE of a field);
// - removed:   a seq is missing (a DELETE), or the head records more entries than there are
//              (the tail cut off);
// - reordered: the entry's prev_hash is not the hash of the entry before it (seqs swapped, or an
//              entry moved or renumbered into another place);
// - inserted:  an entry with no seq, a second entry with the same seq, or entries past the head;
// - head_mismatch: the last entry is not what the head recorded.
// A writer who rewrites the whole tail and the head passes: only a head hash kept elsewhere
// (`gatehouse audit head`) shows that.

export type ChainProblemKind = 'changed' | 'removed' | 'reordered' | 'inserted' | 'head_mismatch';

export interface ChainProblem {
  kind: ChainProblemKind;
  /** The seq where the chain first breaks. */
  seq: number | null;
  /** The row at fault, when there is one. */
  id: number | null;
  message: string;
}

export interface ChainReport {
  /** The chain's environment; null for the project-wide entries (e.g. project.create). */
  environment: string | null;
  ok: boolean;
  /** Entries checked before the walk stopped (all of them when ok). */
  entries: number;
  head: ChainHead | null;
  problem: ChainProblem | null;
}

const PAGE = 500;

export async function verifyAuditChain(log: AuditLog, projectId: string, environment: string | null): Promise<ChainReport> {
  // The head is read before the walk, and the walk checks the chain up to it; entries a server
  // appends meanwhile are walked too, and only called inserted if the head, read again, does not
  // cover them either.
  const head = await log.head(projectId, environment);
  const report = (entries: number, problem: ChainProblem | null, latest = head): ChainReport => ({ environment, ok: problem === null, entries, head: latest, problem });

  const stray = await log.unchained(projectId, environment, 1);
  if (stray.length > 0) {
    return report(0, { kind: 'inserted', seq: null, id: stray[0]!.id, message: `entry id ${stray[0]!.id} has no seq: it was not written by Gatehouse` });
  }

  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let last: ChainedEntry | null = null;
  let atHead: ChainedEntry | null = null;
  for (;;) {
    const rows = await log.page(projectId, environment, last ? { seq: last.seq!, id: last.id } : null, PAGE);
    for (const row of rows) {
      const problem = await checkEntry(log, row, expectedSeq, prevHash);
      if (problem) return report(expectedSeq - 1, problem);
      if (row.seq === head?.seq) atHead = row;
      expectedSeq += 1;
      prevHash = row.hash!;
      last = row;
    }
    if (rows.length < PAGE) break;
  }

  const lastSeq = expectedSeq - 1;
  const headSeq = head?.seq ?? 0;
  if (headSeq > lastSeq) {
    return report(lastSeq, { kind: 'removed', seq: lastSeq + 1, id: null, message: `entries seq ${lastSeq + 1} to ${headSeq} are missing: the head records seq ${headSeq}, the chain ends at ${lastSeq}` });
  }
  if (head && atHead!.hash !== head.hash) {
    return report(lastSeq, { kind: 'head_mismatch', seq: head.seq, id: atHead!.id, message: `entry seq ${head.seq} (id ${atHead!.id}) is not the entry the head recorded: the chain up to it was rewritten` });
  }
  if (lastSeq > headSeq) {
    const latest = await log.head(projectId, environment);
    if (!latest) {
      return report(lastSeq, { kind: 'head_mismatch', seq: lastSeq, id: last!.id, message: `the chain has ${lastSeq} entries but no head: the head row was deleted` }, latest);
    }
    if (latest.seq < lastSeq) {
      const from = latest.seq + 1;
      return report(lastSeq, { kind: 'inserted', seq: from, id: null, message: `entries from seq ${from} on were not written by Gatehouse: the head records seq ${latest.seq}, the chain goes on to ${lastSeq}` }, latest);
    }
    return report(lastSeq, null, latest);
  }
  return report(lastSeq, null);
}

async function checkEntry(log: AuditLog, row: ChainedEntry, seq: number, prevHash: string): Promise<ChainProblem | null> {
  const at = { seq, id: row.id };
  if (row.seq! < seq) return { kind: 'inserted', ...at, seq: row.seq, message: `entry id ${row.id} repeats seq ${row.seq}` };
  if (row.seq! > seq) {
    const span = row.seq! - 1 === seq ? `entry seq ${seq} is` : `entries seq ${seq} to ${row.seq! - 1} are`;
    return { kind: 'removed', seq, id: null, message: `${span} missing` };
  }
  if (row.prev_hash !== prevHash) {
    const linked = row.prev_hash ? await log.seqOfHash(row.project_id, row.environment, row.prev_hash) : null;
    const after = linked === null ? 'no entry of this chain' : `entry seq ${linked}`;
    return { kind: 'reordered', ...at, message: `entry seq ${seq} (id ${row.id}) does not follow entry seq ${seq - 1}: it was written after ${after}` };
  }
  if (rehash(row) !== row.hash) return { kind: 'changed', ...at, message: `entry seq ${seq} (id ${row.id}) was changed: its fields do not match its hash` };
  return null;
}

/** The hash the row's fields give now; null when they cannot be hashed at all (details not JSON). */
function rehash(row: ChainedEntry): string | null {
  try {
    return auditEntryHash({ ...row, seq: row.seq!, prev_hash: row.prev_hash! });
  } catch {
    return null;
  }
}
