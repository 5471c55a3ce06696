// Replaces codemirror-json-schema's utils/markdown.js in the bundle: the same renderMarkdown, by
// markdown-it alone. The original also loads the shiki highlighter (≈ 800 KB) to colour code
// blocks, which the policy schema's descriptions do not have. markdown-it escapes raw HTML.
import md from 'markdown-it';

const renderer = md({ linkify: false, typographer: true });

export function renderMarkdown(markdown, inline = true) {
  return inline ? renderer.renderInline(markdown) : renderer.render(markdown);
}
