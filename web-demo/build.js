// Bundles the web demo into web-demo/dist with esbuild: src/main.js with the npm packages
// it imports (sharedb client, ot-json0, reconnecting-websocket, qrcode) becomes one script
// file; static files are copied beside it. Every catalogue in src/i18n/*.json is bundled
// through the virtual module "konsil:catalogues", so a new language is a new file and no
// code changes. The output needs no CDN and no inline script or style, so it runs under a
// strict Content-Security-Policy (script-src 'self'; style-src 'self').
// `node web-demo/build.js --sourcemap` also writes app.js.map for development; a plain
// build writes none (and removes an old one), so a deployed --web folder does not hand
// out the readable sources.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const here = __dirname;
const dist = path.join(here, 'dist');
const catalogueDir = path.join(here, 'src', 'i18n');
const sourcemap = process.argv.includes('--sourcemap');

const cataloguesPlugin = {
  name: 'konsil-catalogues',
  setup(build) {
    build.onResolve({ filter: /^konsil:catalogues$/ }, () => ({ path: 'catalogues', namespace: 'konsil' }));
    build.onLoad({ filter: /.*/, namespace: 'konsil' }, () => {
      const files = fs.readdirSync(catalogueDir).filter((f) => f.endsWith('.json')).sort();
      const lines = files.map((f) => `  ${JSON.stringify(path.basename(f, '.json'))}: require(${JSON.stringify(path.join(catalogueDir, f))}),`);
      return {
        contents: `module.exports = {\n${lines.join('\n')}\n};\n`,
        resolveDir: catalogueDir,
        watchFiles: files.map((f) => path.join(catalogueDir, f)),
        watchDirs: [catalogueDir],
      };
    });
  },
};

fs.mkdirSync(dist, { recursive: true });
if (!sourcemap) fs.rmSync(path.join(dist, 'app.js.map'), { force: true });
for (const file of fs.readdirSync(path.join(here, 'static'))) {
  fs.copyFileSync(path.join(here, 'static', file), path.join(dist, file));
}

esbuild.build({
  entryPoints: [path.join(here, 'src', 'main.js')],
  bundle: true,
  minify: true,
  sourcemap,
  format: 'iife',
  platform: 'browser',
  target: ['es2019'],
  outfile: path.join(dist, 'app.js'),
  plugins: [cataloguesPlugin],
  logLevel: 'warning',
}).then(
  () => console.log(`web demo built into ${path.relative(process.cwd(), dist) || dist}`),
  () => process.exit(1),
);
