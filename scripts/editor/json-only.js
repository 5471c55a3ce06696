// Replaces codemirror-json-schema's YAML and JSON5 document parsers in the bundle: the policy
// editor is JSON only, and those parsers pull in the `yaml` and `json5` packages (≈ 230 KB).
function jsonOnly() {
  throw new Error('the bundled editor reads JSON only');
}
export const parseYAMLDocumentState = jsonOnly;
export const parseJSON5DocumentState = jsonOnly;
export const parseJSON5Document = jsonOnly;
