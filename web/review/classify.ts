/**
 * Classification mode: the image and the model's candidates with their scores, best first. A
 * number key or the arrows choose one and Enter sends it; `l` opens a field for a label the model
 * did not offer. Each candidate is also a button, for a touch screen.
 */
import { element, typing, type ModeContext, type ReviewMode } from './mode.js';

export interface LabelScore {
  label: string;
  score: number;
}

export interface ClassifyElements {
  section: HTMLElement;
  candidates: HTMLOListElement;
  form: HTMLFormElement;
  input: HTMLInputElement;
  known: HTMLDataListElement;
}

export function classificationMode(ui: ClassifyElements, labels: LabelScore[], context: ModeContext): ReviewMode {
  let chosen = 0;
  const top = labels[0]?.label;
  const buttons = labels.map((candidate, index) => {
    const button = element('button', '', { type: 'button', 'aria-pressed': 'false' });
    button.append(element('kbd', String(index + 1)), element('span', candidate.label, { class: 'label' }), element('span', candidate.score.toFixed(3), { class: 'score' }));
    button.addEventListener('click', () => {
      choose(index);
      send(candidate.label);
    });
    const item = element('li');
    item.append(button);
    return { item, button };
  });
  ui.candidates.replaceChildren(...buttons.map(({ item }) => item));
  ui.known.replaceChildren(...labels.map((candidate) => element('option', '', { value: candidate.label })));
  ui.input.value = '';
  ui.section.hidden = false;

  function choose(index: number): void {
    if (buttons.length === 0) return;
    chosen = Math.min(buttons.length - 1, Math.max(0, index));
    buttons.forEach(({ button }, i) => {
      button.setAttribute('aria-pressed', String(i === chosen));
      button.classList.toggle('current', i === chosen);
    });
    context.say(`Label ${chosen + 1}: ${labels[chosen].label}. Enter sends it.`);
  }

  function send(label: string): void {
    context.send(label === top ? { verdict: 'confirm' } : { label });
  }

  ui.form.onsubmit = (event) => {
    event.preventDefault();
    const label = ui.input.value.trim();
    if (label === '') return;
    ui.input.blur();
    send(label);
  };

  choose(0);
  if (labels.length === 0) context.say('The model gave no label: press l and type the right one.');
  return {
    submit: () => labels.length > 0 && send(labels[chosen].label),
    onKey(event) {
      if (typing(event)) {
        if (event.key === 'Escape') ui.input.blur();
        return true;
      }
      const number = Number(event.key);
      if (Number.isInteger(number) && number >= 1 && number <= buttons.length) choose(number - 1);
      else if (event.key === 'ArrowDown' || event.key === 'j') choose(chosen + 1);
      else if (event.key === 'ArrowUp' || event.key === 'k') choose(chosen - 1);
      else if (event.key === 'Enter' && labels.length > 0) send(labels[chosen].label);
      else if (event.key === 'l') {
        ui.input.focus();
        ui.input.select();
      } else return false;
      event.preventDefault();
      return true;
    },
  };
}
