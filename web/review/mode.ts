/** What a review mode (classification, detection) gets from the page around it. */
export interface ModeContext {
  /** Sends an answer to the task shown, then claims the next one. */
  send(body: unknown): void;
  /** Tells the reviewer something (an aria-live region). */
  say(text: string): void;
}

/** A way of reviewing one kind of task: it draws itself and takes the keys it knows. */
export interface ReviewMode {
  /** Handles a key; false leaves it to the page (`u` unusable, `n` next task). */
  onKey(event: KeyboardEvent): boolean;
  /** Sends the answer as it stands (the send button). */
  submit(): void;
}

/** Creates an element with text set as text (never parsed as HTML) and attributes. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, text = '', attributes: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const made = document.createElement(tag);
  made.textContent = text;
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  return made;
}

/** Whether the key was typed into a text field (the page's shortcuts stay out of the way then). */
export function typing(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  return target?.tagName === 'INPUT' || target?.tagName === 'TEXTAREA';
}
