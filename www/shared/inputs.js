// Native date and file inputs in the page's language. Chromium draws `<input type=date>`,
// `datetime-local` and `file` in its own UI language, whatever the page's: a Vietnamese page on an
// English browser would show `mm/dd/yyyy` and "Choose File · No file chosen". So, for the inputs
// that ask for it:
// - `<input type=date|datetime-local data-date-hint>` gets a hint below it in the page's language:
//   until a value is chosen, that none is and how the page writes dates (`dd/mm/yyyy`,
//   `ngày/tháng/năm`), then the value as the page writes it (`07/03/2026 09:30`) — what was picked,
//   unambiguously, whatever order the browser's picker shows;
// - `<input type=file data-file-button>` is visually hidden (still in the tab order, Enter or Space
//   opens the chooser, its label names it) and shown as a `<label for>` button in the page's
//   language with the chosen file names next to it.
// Both follow the language switch (www/shared/i18n.js).
import { addStrings, onLang, t } from './i18n.js';

addStrings({
  'No date chosen (shown as dd/mm/yyyy)': 'Chưa chọn ngày (hiển thị dạng ngày/tháng/năm)',
  'No date chosen (shown as dd/mm/yyyy hh:mm)': 'Chưa chọn ngày giờ (hiển thị dạng ngày/tháng/năm giờ:phút)',
  'Chosen:': 'Đã chọn:', 'Choose a file…': 'Chọn tệp…', 'Choose files…': 'Chọn các tệp…', 'No file chosen': 'Chưa chọn tệp',
  '{n} files': '{n} tệp',
});

/** `2026-03-07` → `07/03/2026`; `2026-03-07T09:30` → `07/03/2026 09:30` (the value as typed, no zone). */
export function localDate(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(value ?? '');
  if (!m) return '';
  return `${m[3]}/${m[2]}/${m[1]}${m[4] ? ` ${m[4]}:${m[5]}` : ''}`;
}

function dateHint(input) {
  let hint = document.getElementById(`${input.id}-hint`);
  if (!hint) {
    hint = Object.assign(document.createElement('small'), { id: `${input.id}-hint`, className: 'date-hint' });
    input.after(hint);
    input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), hint.id].filter(Boolean).join(' '));
    input.addEventListener('input', () => dateHint(input));
    input.addEventListener('change', () => dateHint(input));
  }
  const shown = localDate(input.value);
  hint.textContent = shown
    ? `${t('Chosen:')} ${shown}`
    : t(input.type === 'datetime-local' ? 'No date chosen (shown as dd/mm/yyyy hh:mm)' : 'No date chosen (shown as dd/mm/yyyy)');
  hint.dataset.value = shown;
}

function fileButton(input) {
  let button = document.querySelector(`label.file-button[for="${CSS.escape(input.id)}"]`);
  if (!button) {
    const pick = Object.assign(document.createElement('span'), { className: 'file-pick' });
    input.before(pick);
    button = Object.assign(document.createElement('label'), { className: 'file-button', htmlFor: input.id });
    // The input keeps its accessible name (its own label); the button is what the eye sees.
    button.setAttribute('aria-hidden', 'true');
    const name = Object.assign(document.createElement('span'), { id: `${input.id}-chosen`, className: 'muted file-name' });
    input.classList.add('visually-hidden');
    pick.append(input, button, name);
    input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), name.id].filter(Boolean).join(' '));
    input.addEventListener('change', () => fileButton(input));
  }
  button.textContent = t(input.multiple ? 'Choose files…' : 'Choose a file…');
  const files = [...(input.files ?? [])];
  const name = document.getElementById(`${input.id}-chosen`);
  name.textContent = files.length === 0 ? t('No file chosen') : files.length === 1 ? files[0].name : `${t('{n} files').replace('{n}', files.length)}: ${files.map((f) => f.name).join(', ')}`;
}

/** Wires the marked date and file inputs under `root` (again on every language switch). */
export function wireInputs(root = document) {
  const all = () => {
    for (const el of root.querySelectorAll('input[data-date-hint]')) dateHint(el);
    for (const el of root.querySelectorAll('input[type="file"][data-file-button]')) fileButton(el);
  };
  all();
  onLang(all);
  return all;
}
