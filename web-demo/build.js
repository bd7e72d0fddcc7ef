// Bundles the web demo into web-demo/dist with esbuild: src/main.js with the npm packages
// it imports (sharedb client, ot-json0, reconnecting-websocket, qrcode, idb-keyval,
// textarea-caret) becomes one script file; every catalogue in src/i18n/*.json is bundled
// through the virtual module "konsil:catalogues", so a new language is a new file and no
// code changes. The output needs no CDN and no inline script or style, so it runs under a
// strict Content-Security-Policy (script-src 'self'; style-src 'self').
//
// What dist/ holds (the hub serves it with --web; http_static.c sets the caching):
//   index.html          the page; names the assets below, so it is never cached unchecked
//   sw.js               the service worker (scope /): keeps the app shell for offline use
//   assets/<name>.<hash>.<ext>   the script, the heartbeat worker, the styles, the icon:
//                       named by their content, cached by browsers for a year
//   *.gz                a gzip copy of every text file, sent to browsers that accept it
// Every build starts from an empty dist/. `node web-demo/build.js --sourcemap` also writes
// the script's source map for development; a plain build writes none, so a deployed --web
// folder does not hand out the readable sources.
const esbuild = require('esbuild');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const here = __dirname;
const dist = path.join(here, 'dist');
const assets = path.join(dist, 'assets');
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

const hashOf = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 12);

// Writes bytes as assets/<base>.<hash><ext>; returns the URL path.
function emitAsset(base, ext, bytes) {
  const name = `${base}.${hashOf(bytes)}${ext}`;
  fs.writeFileSync(path.join(assets, name), bytes);
  return `/assets/${name}`;
}

function bundle(entry, options = {}) {
  return esbuild.build({
    entryPoints: [path.join(here, 'src', entry)],
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2019'],
    write: false,
    outdir: assets,
    logLevel: 'warning',
    ...options,
  });
}

const COMPRESSIBLE = /\.(js|css|html|svg|json|map)$/;

// A .gz beside every text file that gzip makes smaller.
function compressAll(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      compressAll(file);
    } else if (COMPRESSIBLE.test(entry.name)) {
      const raw = fs.readFileSync(file);
      const packed = zlib.gzipSync(raw, { level: 9 });
      if (packed.length < raw.length) fs.writeFileSync(`${file}.gz`, packed);
    }
  }
}

async function main() {
  fs.rmSync(dist, { recursive: true, force: true });
  fs.mkdirSync(assets, { recursive: true });
  const stat = (name) => fs.readFileSync(path.join(here, 'static', name));

  const urls = {
    style: emitAsset('style', '.css', stat('style.css')),
    favicon: emitAsset('favicon', '.svg', stat('favicon.svg')),
  };
  const tick = await bundle('live/tick-worker.js');
  urls.tick = emitAsset('tick', '.js', tick.outputFiles[0].contents);

  const app = await bundle('main.js', {
    sourcemap: sourcemap ? 'external' : false,
    plugins: [cataloguesPlugin],
    define: { KONSIL_ASSETS: JSON.stringify({ tick: urls.tick }) },
  });
  const js = app.outputFiles.find((f) => f.path.endsWith('.js'));
  const map = app.outputFiles.find((f) => f.path.endsWith('.map'));
  const jsHash = hashOf(js.contents);
  urls.app = `/assets/app.${jsHash}.js`;
  if (map) {
    fs.writeFileSync(path.join(assets, `app.${jsHash}.js.map`), map.contents);
    fs.writeFileSync(path.join(assets, `app.${jsHash}.js`), Buffer.concat([Buffer.from(js.contents), Buffer.from(`\n//# sourceMappingURL=app.${jsHash}.js.map\n`)]));
  } else {
    fs.writeFileSync(path.join(assets, `app.${jsHash}.js`), js.contents);
  }

  const html = stat('index.html')
    .toString()
    .replace('/style.css', urls.style)
    .replace('/favicon.svg', urls.favicon)
    .replace('/app.js', urls.app);
  fs.writeFileSync(path.join(dist, 'index.html'), html);

  // The service worker names the shell it keeps; a new build is a new worker, which
  // replaces the old one and its cache.
  const shell = ['/', urls.app, urls.style, urls.favicon, urls.tick];
  const version = hashOf(Buffer.from(JSON.stringify(shell) + html));
  const sw = fs.readFileSync(path.join(here, 'src', 'sw.js'), 'utf8')
    .replace('__KONSIL_VERSION__', version)
    .replace('__KONSIL_SHELL__', JSON.stringify(shell));
  fs.writeFileSync(path.join(dist, 'sw.js'), sw);

  compressAll(dist);
  const size = (p) => fs.statSync(path.join(dist, p)).size;
  const appPath = urls.app.slice(1);
  console.log(`web demo built into ${path.relative(process.cwd(), dist) || dist}: ${appPath} ${size(appPath)} bytes, gzip ${size(`${appPath}.gz`)} bytes`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
