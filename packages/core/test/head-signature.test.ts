// A chain's key and token on their own: heads signed over the documented message, checked against the
// registered public key, and neither the private key nor the token shows in what a chain prints.
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { Chain } from '../src/chain/chain';
import { headMessage, headSignatureValid } from '../src/chain/head-signature';

test('a head is signed over "inferlog-chain-head-v1\\n<chain>\\n<seq>\\n<hash>" and verifies only for that head and key', () => {
  const chain = new Chain('record', 'svc', '1');
  const { public_key: key, token_hash } = chain.registration;
  expect(key).toMatch(/^[0-9a-f]{64}$/);
  const head = chain.signHead(7, 'ab'.repeat(32));
  expect(head).toMatchObject({ chain_id: chain.id, seq: 7, hash: 'ab'.repeat(32), signature: expect.stringMatching(/^[0-9a-f]{128}$/) });
  expect(createHash('sha256').update(head.token, 'utf8').digest('hex')).toBe(token_hash);
  expect(headMessage(chain.id, 7, 'ab'.repeat(32)).toString('utf8')).toBe(`inferlog-chain-head-v1\n${chain.id}\n7\n${'ab'.repeat(32)}`);
  expect(headSignatureValid(key, chain.id, 7, 'ab'.repeat(32), head.signature)).toBe(true);
  expect(headSignatureValid(key, chain.id, 8, 'ab'.repeat(32), head.signature)).toBe(false);
  expect(headSignatureValid(key, chain.id, 7, 'cd'.repeat(32), head.signature)).toBe(false);
  expect(headSignatureValid(new Chain('record', 'svc', '1').registration.public_key, chain.id, 7, 'ab'.repeat(32), head.signature)).toBe(
    false,
  );
  expect(headSignatureValid(key, chain.id, 7, 'ab'.repeat(32), null)).toBe(false);
  expect(headSignatureValid(key, chain.id, 7, 'ab'.repeat(32), 'zz')).toBe(false);
});

test('the token and the private key never show in a chain printed or serialised', () => {
  const chain = new Chain('event', null, null);
  const { token } = chain.signHead(1, 'ab'.repeat(32));
  for (const shown of [JSON.stringify(chain), inspect(chain, { depth: Number.POSITIVE_INFINITY, showHidden: true })]) {
    expect(shown).not.toContain(token);
    expect(shown).not.toMatch(/PRIVATE KEY|"d":/);
  }
});
