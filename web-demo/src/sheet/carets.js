// Other people's carets and selections drawn inside the text fields they are in: each
// text control sits in a .control-wrap with an SVG layer over it (attributes only, no
// inline style, as the Content-Security-Policy requires); a caret is a 2 px bar in the
// person's colour at the position textarea-caret measures for its UTF-16 offset, moved
// by the control's scroll, with the person's name as its title. A selection on one line
// is shaded between its ends.
const getCaretCoordinates = require('textarea-caret');
const { pathKey } = require('./paths');

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function layerFor(control) {
  const wrap = control.parentElement;
  if (!wrap || !wrap.classList.contains('control-wrap')) return null;
  let layer = wrap.querySelector(':scope > svg.caret-layer');
  if (!layer) {
    layer = svg('svg', { class: 'caret-layer', 'aria-hidden': 'true', focusable: 'false' });
    wrap.append(layer);
  }
  return layer;
}

function point(control, index) {
  const at = Math.max(0, Math.min(index, control.value.length));
  const c = getCaretCoordinates(control, at);
  return { x: c.left - control.scrollLeft, y: c.top - control.scrollTop, height: c.height };
}

// carets: [{path, index, length, tone, name}]. Clears every layer in container first.
function drawCarets(container, carets) {
  for (const layer of container.querySelectorAll('svg.caret-layer')) layer.replaceChildren();
  for (const caret of carets) {
    if (typeof caret.index !== 'number' || !caret.path) continue;
    const control = container.querySelector(`.control-wrap > [data-path='${CSS.escape(pathKey(caret.path))}']`);
    if (!control || typeof control.value !== 'string') continue;
    const layer = layerFor(control);
    if (!layer) continue;
    layer.setAttribute('viewBox', `0 0 ${control.offsetWidth} ${control.offsetHeight}`);
    layer.setAttribute('width', control.offsetWidth);
    layer.setAttribute('height', control.offsetHeight);
    const start = point(control, caret.index);
    const group = svg('g', { class: `caret tone-${caret.tone}`, 'data-presence': caret.presenceId || '' });
    if (caret.length > 0) {
      const end = point(control, caret.index + caret.length);
      if (end.y === start.y && end.x !== start.x) {
        group.append(svg('rect', { class: 'caret-selection', x: Math.min(start.x, end.x), y: start.y, width: Math.abs(end.x - start.x), height: start.height }));
      }
    }
    const bar = svg('rect', { class: 'caret-bar', x: start.x - 1, y: start.y, width: 2, height: start.height });
    const title = svg('title', {});
    title.textContent = caret.name;
    bar.append(title);
    group.append(bar, svg('rect', { class: 'caret-flag', x: start.x - 1, y: start.y - 3, width: 6, height: 4 }));
    layer.append(group);
  }
}

module.exports = { drawCarets };
