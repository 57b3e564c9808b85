/**
 * A tiny deterministic "language model" for the OpenAI-compatible example: a word-bigram chain over a
 * short text, walked with choices derived from the prompt. The same prompt always gives the same
 * tokens, so tests can compare what was served with what was logged.
 */
const CORPUS = `logs of high risk ai systems are kept for at least six months . the provider keeps the logs
that the system generates automatically . the deployer monitors the operation of the system on the basis
of the instructions for use . the logs record the period of each use , the reference database against
which input data has been checked , the input data for which the search has led to a match , and the
identification of the natural persons involved in the verification of the results . an authority may
request the logs . human oversight measures allow the persons to whom oversight is assigned to understand
the capacities and limitations of the system and to monitor its operation .`;

const WORDS = CORPUS.split(/\s+/).filter(Boolean);
const NEXT = new Map<string, string[]>();
WORDS.forEach((word, i) => {
  const next = WORDS[(i + 1) % WORDS.length]!;
  NEXT.set(word, [...(NEXT.get(word) ?? []), next]);
});

export const TINY_MODEL = 'tiny-llm-1';

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

export interface Generation {
  /** The tokens in order; joined they are the completion's text. */
  tokens: string[];
  finishReason: 'stop' | 'length';
}

/** Generates up to `maxTokens` tokens for the prompt; stops after a full stop once it has said something. */
export function generate(prompt: string, maxTokens: number): Generation {
  let state = fnv1a(prompt);
  let word = WORDS[state % WORDS.length]!;
  const tokens: string[] = [];
  while (tokens.length < maxTokens) {
    const choices = NEXT.get(word)!;
    state = Math.imul(state ^ tokens.length, 0x01000193) >>> 0;
    word = choices[state % choices.length]!;
    tokens.push(tokens.length === 0 ? word[0]!.toUpperCase() + word.slice(1) : word === '.' || word === ',' ? word : ` ${word}`);
    if (word === '.' && tokens.length >= 8) return { tokens, finishReason: 'stop' };
  }
  return { tokens, finishReason: 'length' };
}

/** Tokens of a text as this model counts them (words and punctuation). */
export function countTokens(text: string): number {
  return text.split(/\s+|(?=[.,])/).filter(Boolean).length;
}
