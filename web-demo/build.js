// Bundles the web demo into web-demo/dist with esbuild: src/main.js and the sharedb
// client it imports become one script file; static files are copied beside it. The
// output needs no CDN and no inline script, so it runs under a strict
// Content-Security-Policy.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const here = __dirname;
const dist = path.join(here, 'dist');
fs.mkdirSync(dist, { recursive: true });

for (const file of fs.readdirSync(path.join(here, 'static'))) {
  fs.copyFileSync(path.join(here, 'static', file), path.join(dist, file));
}

esbuild.buildSync({
  entryPoints: [path.join(here, 'src', 'main.js')],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'iife',
  target: ['es2019'],
  outfile: path.join(dist, 'app.js'),
  logLevel: 'warning',
});
console.log(`web demo built into ${path.relative(process.cwd(), dist) || dist}`);
