// Turns the simulator's (and the admin draft policy's) JSON <textarea>s into CodeMirror 6 editors that know the policy's JSON
// Schema (the engine's, generated from its Rust types: pkg/schema/policy.json, also served by
// `loyalty serve` at /v1/schemas/policy.json): completion of field names and enum values
// (Ctrl+Space, or as you type), hover docs from the schema's descriptions, inline errors (JSON
// syntax with its line, and schema faults) marked in the text and the gutter.
//
// The textarea stays the page's model: its `value` is the editor's text (assigning it replaces it), `focus()`
// and `setSelectionRange()` move the editor's cursor, an edit fires `input` on it, and its
// `aria-invalid` is mirrored onto the editor. Should the bundle (/vendor/codemirror/editor.js)
// not load, the plain textarea keeps working.

const BUNDLE = '../vendor/codemirror/editor.js';

/** Loads the editor bundle and the schema once; resolves to null when either is missing. */
let loading = null;
function load(schemaUrl) {
  loading ??= Promise.all([
    import(BUNDLE),
    fetch(schemaUrl).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${schemaUrl}: HTTP ${r.status}`)))),
  ]).catch((e) => {
    console.warn(`JSON editor unavailable, plain text fields kept: ${e.message}`);
    return null;
  });
  return loading;
}

/**
 * Upgrades `textarea` in place. `label` names the editor for screen readers.
 * Resolves to the EditorView, or null when the plain textarea is kept.
 */
export async function upgrade(textarea, { schemaUrl = '../pkg/schema/policy.json', label } = {}) {
  const loaded = await load(schemaUrl);
  if (!loaded) return null;
  const [cm, schema] = loaded;
  let quiet = false;
  const native = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value');
  const holder = document.createElement('div');
  holder.className = 'json-editor';
  holder.id = `${textarea.id}-editor`;
  const rows = Number(textarea.getAttribute('rows') || 14);
  holder.style.setProperty('--rows', String(rows));
  const view = new cm.EditorView({
    doc: textarea.value,
    parent: holder,
    extensions: [
      cm.basicSetup,
      cm.json(),
      cm.linter(cm.jsonParseLinter(), { delay: 300 }),
      cm.linter(cm.jsonSchemaLinter(), { needsRefresh: cm.handleRefresh, delay: 300 }),
      cm.lintGutter(),
      cm.jsonLanguage.data.of({ autocomplete: cm.jsonCompletion() }),
      cm.hoverTooltip(cm.jsonSchemaHover()),
      cm.stateExtensions(schema),
      cm.EditorView.lineWrapping,
      cm.EditorView.contentAttributes.of({
        'aria-label': label ?? textarea.getAttribute('aria-label') ?? textarea.id,
        ...(textarea.getAttribute('aria-describedby') ? { 'aria-describedby': textarea.getAttribute('aria-describedby') } : {}),
        'aria-multiline': 'true',
      }),
      cm.EditorView.updateListener.of((u) => {
        if (!u.docChanged) return;
        native.set.call(textarea, u.state.doc.toString());
        if (!quiet) textarea.dispatchEvent(new Event('input', { bubbles: true }));
      }),
    ],
  });
  textarea.after(holder);
  textarea.hidden = true;
  // A <label for> of the textarea now names and focuses the editor.
  for (const l of textarea.labels ?? []) {
    l.addEventListener('click', (e) => {
      e.preventDefault();
      view.focus();
    });
  }
  textarea.dataset.editor = 'codemirror';

  // The textarea's own value is kept equal to the editor's text (what forms, tests and assistive
  // tools read); assigning it from the page's script replaces the editor's text.
  Object.defineProperty(textarea, 'value', {
    configurable: true,
    get: () => native.get.call(textarea),
    set: (text) => {
      native.set.call(textarea, text);
      const now = view.state.doc.toString();
      if (String(text) === now) return;
      quiet = true;
      try {
        view.dispatch({ changes: { from: 0, to: now.length, insert: String(text) } });
      } finally {
        quiet = false;
      }
    },
  });
  textarea.focus = () => view.focus();
  textarea.setSelectionRange = (start, end) => {
    const len = view.state.doc.length;
    view.dispatch({ selection: { anchor: Math.min(start, len), head: Math.min(end, len) }, scrollIntoView: true });
  };
  const mirror = () => {
    const v = textarea.getAttribute('aria-invalid');
    if (v === null) view.contentDOM.removeAttribute('aria-invalid');
    else view.contentDOM.setAttribute('aria-invalid', v);
    // The textarea's label follows the page's language (www/shared/i18n.js sets it); so does the editor's.
    const name = textarea.getAttribute('aria-label');
    if (name !== null && !label) view.contentDOM.setAttribute('aria-label', name);
  };
  new MutationObserver(mirror).observe(textarea, { attributes: true, attributeFilter: ['aria-invalid', 'aria-label'] });
  mirror();
  return view;
}
