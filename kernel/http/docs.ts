// /docs: Swagger UI served from the swagger-ui-dist package (no CDN), pointed at /openapi.json.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Router from '@koa/router';
import { EXAMPLE_ORIGIN } from './route.ts';

const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const assets: Record<string, string> = {
  'swagger-ui.css': 'text/css',
  'swagger-ui-bundle.js': 'application/javascript',
  'swagger-ui-standalone-preset.js': 'application/javascript',
  'favicon-32x32.png': 'image/png',
};

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cantons API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;
// Operation ids shown (they are what generated clients call); a key given under "Authorize" kept across reloads.
// Examples that name this process at npm start's address name it where the page is (another PORT, a proxy, a
// container's mapped port); when the document cannot be read here (API_KEYS), Swagger UI loads it and says why.
const init = `const options = { dom_id: '#ui', deepLinking: true, displayOperationId: true, persistAuthorization: true };
fetch('/openapi.json')
  .then((res) => (res.ok ? res.text() : Promise.reject(res.status)))
  .then((text) => { window.ui = SwaggerUIBundle({ ...options, spec: JSON.parse(text.replaceAll(${JSON.stringify(EXAMPLE_ORIGIN)}, location.origin)) }); })
  .catch(() => { window.ui = SwaggerUIBundle({ ...options, url: '/openapi.json' }); });`;

export function serveDocs(router: Router): void {
  router.get('/docs', (ctx) => {
    ctx.type = 'text/html';
    ctx.body = page;
  });
  router.get('/docs/init.js', (ctx) => {
    ctx.type = 'application/javascript';
    ctx.body = init;
  });
  router.get('/docs/:file', (ctx, next) => {
    const type = assets[ctx.params.file];
    if (!type) return next();
    ctx.type = type;
    ctx.set('cache-control', 'public, max-age=86400');
    ctx.body = readFileSync(join(dist, ctx.params.file));
  });
}
