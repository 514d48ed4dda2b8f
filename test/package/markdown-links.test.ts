// The README link check of `npm run check:package` (scripts/markdown-links.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { headingAnchors, markdownLinks } from '../../scripts/markdown-links.js';
import { PACKAGE_ROOT } from '../support/child-process.js';

test('links and images are found with their line; code spans and fenced blocks are not links', () => {
  const markdown = [
    'See [the docs](docs/a.md) and ![logo](img/logo.png "Logo").',
    'Not a link: `[x](docs/in-code.md)`, but [y](<docs/b c.md>) is.',
    '```ts',
    'const s = "[z](docs/in-fence.md)";',
    '```',
    '~~~',
    '```',
    '[still](docs/in-tilde-fence.md)',
    '~~~',
    '[ref]: https://example.com/ref "Title"',
    'Two on a line: [a](#one) [b](https://example.com/b).',
  ].join('\n');
  assert.deepEqual(markdownLinks(markdown), [
    { target: 'docs/a.md', line: 1 },
    { target: 'img/logo.png', line: 1 },
    { target: 'docs/b c.md', line: 2 },
    { target: 'https://example.com/ref', line: 10 },
    { target: '#one', line: 11 },
    { target: 'https://example.com/b', line: 11 },
  ]);
});

test('heading anchors follow GitHub: lower case, punctuation dropped, spaces to hyphens, repeats numbered', () => {
  const markdown = ['# flyte-grpc-auth', '## Set-up commands', '### `createAuthInterceptor(authenticator, options?)`', '## API', '## API', '```', '# not a heading', '```'].join(
    '\n',
  );
  assert.deepEqual([...headingAnchors(markdown)], ['flyte-grpc-auth', 'set-up-commands', 'createauthinterceptorauthenticator-options', 'api', 'api-1']);
});

test("the README's own links are all absolute or anchors to its headings", () => {
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const anchors = headingAnchors(readme);
  const relative = markdownLinks(readme).filter(({ target }) => !/^(https?:|mailto:|#)/.test(target));
  const deadAnchors = markdownLinks(readme).filter(({ target }) => target.startsWith('#') && !anchors.has(target.slice(1)));
  assert.deepEqual({ relative, deadAnchors }, { relative: [], deadAnchors: [] });
});
