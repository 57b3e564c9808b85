/** The payload protocols inferlog knows. Routes of protocols without a mapper yet are stored as `raw`. */
export type ProtocolName =
  | 'oip-v2'
  | 'kserve-v1'
  | 'openai-chat'
  | 'openai-completion'
  | 'openai-embedding'
  | 'raw';

export const PROTOCOL_NAMES: readonly ProtocolName[] = [
  'oip-v2',
  'kserve-v1',
  'openai-chat',
  'openai-completion',
  'openai-embedding',
  'raw',
];
