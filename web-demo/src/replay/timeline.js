// The replay's timeline drawn as SVG (attributes only, no inline style, as the CSP
// wants): one lane per author with a mark wherever that author changed the sheet, a lane
// of session events (joins, leaves, link use, closing) when the history has them, and a
// cursor at the version shown. A click moves to the version under the pointer; the
// range input beside it is the keyboard's way. Both run left to right in every language.
const { t } = require('../i18n');

const SVG = 'http://www.w3.org/2000/svg';
const BUCKETS = 600;
const LANE = 12;
const COLOURS = 8;

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  children.forEach((child) => el.append(child));
  return el;
}

const colourClass = (index) => `author-colour-${index % COLOURS}`;

function createTimeline({ onSeek }) {
  const marks = svg('g', {});
  const cursor = svg('rect', { class: 'timeline-cursor', x: 0, y: 0, width: 1.5, height: LANE });
  const element = svg('svg', { class: 'timeline', viewBox: `0 0 ${BUCKETS} ${LANE}`, preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false', height: LANE * 2 }, marks, cursor);
  let range = { first: 0, latest: 0 };
  let lanes = 1;

  const xOf = (v) => (range.latest === range.first ? 0 : ((v - range.first) / (range.latest - range.first)) * (BUCKETS - 1.5));

  // authors: [{id}] in lane order; entries: the ops; events: [{v, type, label}].
  function draw({ first, latest, authors, entries, events }) {
    range = { first, latest };
    const laneOf = new Map(authors.map((a, i) => [a.id, i]));
    const eventLane = events.length ? 1 : 0;
    lanes = authors.length + eventLane;
    const height = Math.max(1, lanes) * LANE;
    element.setAttribute('viewBox', `0 0 ${BUCKETS} ${height}`);
    element.setAttribute('height', String(Math.max(1, lanes) * 16));
    cursor.setAttribute('height', String(height));
    const filled = new Set();
    const parts = [];
    authors.forEach((author, i) => parts.push(svg('rect', { class: 'timeline-lane', x: 0, y: (i + eventLane) * LANE, width: BUCKETS, height: LANE })));
    for (const entry of entries) {
      if (!entry.author || (!entry.create && !(entry.op && entry.op.length))) continue;
      const lane = laneOf.get(entry.author.id);
      const x = Math.floor(xOf(entry.v + 1));
      const key = `${lane}:${x}`;
      if (filled.has(key)) continue;
      filled.add(key);
      parts.push(svg('rect', { class: `timeline-mark ${colourClass(lane)}`, x, y: (lane + eventLane) * LANE + 2, width: 1.5, height: LANE - 4 }));
    }
    for (const event of events) {
      parts.push(svg('rect', { class: `timeline-event event-${event.type}`, x: xOf(event.v), y: 1, width: 2, height: LANE - 2 }, svg('title', {}, event.label)));
    }
    marks.replaceChildren(...parts);
  }

  function setCurrent(v) {
    cursor.setAttribute('x', String(xOf(v)));
  }

  element.addEventListener('click', (event) => {
    const box = element.getBoundingClientRect();
    if (!box.width) return;
    const share = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    onSeek(Math.round(range.first + share * (range.latest - range.first)));
  });
  element.appendChild(svg('title', {}, t('replay.timeline')));

  return { element, draw, setCurrent };
}

module.exports = { createTimeline, colourClass };
