#!/usr/bin/env node
// The `inferlog` command. A file of its own rather than dist/bin.js, so that package managers can link
// the command at install time in a checkout that has not been built yet.
try {
  require.resolve('../dist/bin.js');
} catch {
  process.stderr.write(
    'inferlog: the command is not built yet: run "pnpm build" (or "pnpm inferlog …", which builds it) in the inferlog repository\n',
  );
  process.exit(3);
}
require('../dist/bin.js');
