/**
 * The payload protocols inferlog maps. `auto` tells them apart by the payloads' shape; `openai` tells
 * chat, completions and embeddings apart the same way; `raw` keeps both bodies as they are.
 */
export type ProtocolName = 'auto' | 'oip-v2' | 'kserve-v1' | 'openai' | 'openai-chat' | 'openai-completion' | 'openai-embedding' | 'raw';

export const PROTOCOL_NAMES: readonly ProtocolName[] = [
  'auto',
  'oip-v2',
  'kserve-v1',
  'openai',
  'openai-chat',
  'openai-completion',
  'openai-embedding',
  'raw',
];
