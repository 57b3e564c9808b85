import type { CommandModule } from '../context';
import { consoleCommand } from './console';
import { exportCommand } from './export';
import { hold } from './hold';
import { migrate } from './migrate';
import { monitor } from './monitor';
import { query } from './query';
import { report } from './report';
import { retention } from './retention';
import { show } from './show';
import { stats } from './stats';
import { tail } from './tail';
import { verify } from './verify';

/** Every command, in the order `inferlog --help` lists them. A new command is one file here and one entry. */
export const COMMANDS: readonly CommandModule[] = [
  migrate,
  tail,
  show,
  query,
  stats,
  monitor,
  exportCommand,
  verify,
  report,
  consoleCommand,
  retention,
  hold,
];
