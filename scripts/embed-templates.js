#!/usr/bin/env node
'use strict';
// Writes src/case/case_templates_text.c: the texts of the templates Konsil ships besides
// the default (protocol/templates/*.json; the default is src/auth/template_default.c),
// as C strings. Run it after editing one of them; test_case_templates fails while a
// file and its built-in text differ.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'protocol', 'templates');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'default.json').sort();
const cString = (line) => '"' + line.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '\\n"';
let out = `/*
 * The texts of the templates Konsil ships besides the default, as in
 * protocol/templates/ (written by scripts/embed-templates.js; test_case_templates
 * checks that each equals its file).
 */
#include "case/case_templates.h"

`;
const names = [];
for (const file of files) {
  const name = 'case_template_' + file.replace(/\.json$/, '').replace(/[^a-z0-9]/g, '_');
  names.push(name);
  const lines = fs.readFileSync(path.join(dir, file), 'utf8').replace(/\n$/, '').split('\n');
  out += `/* protocol/templates/${file} */\nstatic const char ${name}[] =\n` + lines.map((l) => '    ' + cString(l)).join('\n') + ';\n\n';
}
out += 'const char *const case_templates_extra[] = {\n' + names.map((n) => `    ${n},\n`).join('') + '    NULL\n};\n';
fs.writeFileSync(path.join(root, 'src', 'case', 'case_templates_text.c'), out);
