// The simulator's JSON editor, bundled by scripts/build-editor.mjs into one ES module
// (target/vendor/codemirror/editor.js, served at /vendor/codemirror/editor.js): CodeMirror 6 with
// the JSON language and codemirror-json-schema (completion, hover docs and inline errors from the
// policy's JSON Schema, schema/policy.json).
export { EditorView, basicSetup } from 'codemirror';
export { EditorState, Compartment } from '@codemirror/state';
export { keymap } from '@codemirror/view';
export { json, jsonParseLinter, jsonLanguage } from '@codemirror/lang-json';
export { linter, lintGutter, setDiagnostics, forEachDiagnostic } from '@codemirror/lint';
export { autocompletion, startCompletion, completionStatus, currentCompletions } from '@codemirror/autocomplete';
export { hoverTooltip } from '@codemirror/view';
export { jsonSchemaLinter, jsonSchemaHover, jsonCompletion, stateExtensions, handleRefresh, updateSchema } from 'codemirror-json-schema';

// codemirror-json-schema reads the text being typed with best-effort-json-parser, which reports
// every incomplete document (the normal state while typing) on console.error.
import { disableErrorLogging } from 'best-effort-json-parser';
disableErrorLogging();
