// The fields of the console's forms (filters, monitoring, verify, export), made one way: a label around
// the input, the value as given, and under it what is wrong with it (announced, and the input marked
// invalid), else a hint.
import { escapeMarkup, Html, html } from '@inferlog/core/audit';

/** One text field. */
export interface TextField {
  name: string;
  label: string;
  /** The value as given; every character kept (shown as an escape, `\u202e` would be sent back as those six characters). */
  value: string | undefined;
  placeholder: string;
  /** What is wrong with the value; shown under the field. */
  problem?: string;
  /** Shown under the field when nothing is wrong. */
  hint?: string;
  required?: boolean;
}

/** The attributes that tie a field to what is said under it: invalid when there is a problem, described by it or by the hint. */
export function describedBy(name: string, problem: string | undefined, hint?: string): Html {
  const by = problem ? `problem-${name}` : hint ? `hint-${name}` : '';
  return html`${problem ? html` aria-invalid="true"` : ''}${by ? html` aria-describedby="${by}"` : ''}`;
}

/** What is said under a field: its problem (announced), else its hint. */
export function underField(name: string, problem: string | undefined, hint?: string): Html {
  if (problem) return html`<span class="hint problem" id="problem-${name}" role="alert">${problem}</span>`;
  return hint ? html`<span class="hint" id="hint-${name}">${hint}</span>` : html``;
}

/** A labelled text input with its value, placeholder and what is said under it. */
export function textField(f: TextField): Html {
  return html`<label>${f.label}<input name="${f.name}" value="${new Html(escapeMarkup(f.value ?? ''))}" placeholder="${f.placeholder}"${
    f.required ? html` required` : ''
  }${describedBy(f.name, f.problem, f.hint)}>${underField(f.name, f.problem, f.hint)}</label>`;
}
