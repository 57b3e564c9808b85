import { hidePassword } from '../src/database';
import { fit, terminalSafe } from '../src/output';

test('terminalSafe shows controls, C1 and bidi overrides as escapes and keeps newlines and tabs', () => {
  expect(terminalSafe('a\u001b[2Jb\tc\nd\re\u009bf\u202eg\u2066h')).toBe('a\\u001b[2Jb\tc\nd\\u000de\\u009bf\\u202eg\\u2066h');
  expect(terminalSafe('plain ünïcode ✓ 😀')).toBe('plain ünïcode ✓ 😀');
  expect(fit('a\u001bb\u202ec\nd', 10)).toBe('a b c d');
});

test('hidePassword hides a password in the user part, in a query parameter and as a keyword', () => {
  expect(hidePassword('postgres://app:s3cret@db:5432/log')).toBe('postgres://app:***@db:5432/log');
  expect(hidePassword('postgres://app@db/log?password=s3cret&sslmode=require')).toBe('postgres://app@db/log?password=***&sslmode=require');
  expect(hidePassword('postgres://app@db/log?sslpassword=k3y')).toBe('postgres://app@db/log?sslpassword=***');
  expect(hidePassword("host=db user=app password='s3 cret' dbname=log")).toBe('host=db user=app password=*** dbname=log');
  expect(hidePassword('host=db password=s3cret')).toBe('host=db password=***');
  expect(hidePassword('postgres://app@db/log')).toBe('postgres://app@db/log');
});
