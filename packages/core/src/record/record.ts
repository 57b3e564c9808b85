import type { Chained } from '../chain/chain';
import { columnNames, RECORD_TABLE, sqlType, type ChainColumn, type Written } from '../columns';

/** One row of the inference log, as the sink writes it (see the record table in DESIGN.md). The chain fields are set right before the first write. */
export interface InferenceRecord extends Chained, Written<Omit<typeof RECORD_TABLE, ChainColumn>> {}

export type RecordColumn = keyof typeof RECORD_TABLE;

/** The log table's columns, in table order (the order of COPY and of the export). */
export const RECORD_COLUMNS: readonly RecordColumn[] = columnNames(RECORD_TABLE);

export const JSONB_COLUMNS: ReadonlySet<string> = new Set(RECORD_COLUMNS.filter((column) => sqlType(RECORD_TABLE[column]) === 'jsonb'));
