// Where a value sits in JSON text: `locate(text, 'tiers.levels[2].threshold')` → { start, end,
// line, column } of that value (or of the closest ancestor present), so an engine error's `path`
// can be pointed at in a plain textarea. Null when the text is not valid JSON.

/** 'policy.tiers.levels[2].threshold' → ['tiers', 'levels', 2, 'threshold'] (without `prefix`). */
export function splitPath(path, prefix = '') {
  let p = path;
  if (prefix && (p === prefix || p.startsWith(`${prefix}.`) || p.startsWith(`${prefix}[`))) p = p.slice(prefix.length);
  const parts = [];
  for (const m of p.matchAll(/\.?([^.[\]]+)|\[(\d+)\]/g)) parts.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return parts;
}

/** Every value's [start, end) offset by path key ("" = the root; "tiers.levels[2]"…). */
function scan(text) {
  const spans = new Map();
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = () => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = (key) => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') i++;
      else {
        for (;;) {
          ws();
          const k = string();
          ws();
          i++; // :
          value(key === '' ? k : `${key}.${k}`);
          ws();
          if (text[i++] === '}') break;
        }
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') i++;
      else {
        for (let n = 0; ; n++) {
          value(`${key}[${n}]`);
          ws();
          if (text[i++] === ']') break;
        }
      }
    } else if (c === '"') string();
    else while (i < text.length && !',}] \t\n\r'.includes(text[i])) i++;
    spans.set(key, [start, i]);
  };
  value('');
  return spans;
}

export function locate(text, path, prefix = 'policy') {
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  const spans = scan(text);
  const parts = splitPath(path, prefix);
  for (let n = parts.length; n >= 0; n--) {
    const key = parts
      .slice(0, n)
      .reduce((k, part) => (typeof part === 'number' ? `${k}[${part}]` : k === '' ? part : `${k}.${part}`), '');
    const span = spans.get(key);
    if (span) {
      const before = text.slice(0, span[0]);
      const line = before.split('\n').length;
      return { start: span[0], end: span[1], line, column: span[0] - before.lastIndexOf('\n'), exact: n === parts.length };
    }
  }
  return null;
}
