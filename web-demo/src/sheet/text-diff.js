// The smallest json0 string edit that turns one text into another: at most one delete
// (sd) and one insert (si) at the same offset, offsets in UTF-16 code units. The edit
// never starts or ends between the two halves of a surrogate pair (the hub refuses such
// offsets). A caret position, when given, settles ambiguous cases ("a" typed into "aa")
// in favour of where the user actually typed.

const isHigh = (code) => code >= 0xd800 && code <= 0xdbff;
const isLow = (code) => code >= 0xdc00 && code <= 0xdfff;

function commonPrefix(a, b) {
  const max = Math.min(a.length, b.length);
  let n = 0;
  while (n < max && a.charCodeAt(n) === b.charCodeAt(n)) n++;
  if (n > 0 && isHigh(a.charCodeAt(n - 1))) n--;
  return n;
}

function commonSuffix(a, b, prefix) {
  const max = Math.min(a.length, b.length) - prefix;
  let n = 0;
  while (n < max && a.charCodeAt(a.length - 1 - n) === b.charCodeAt(b.length - 1 - n)) n++;
  if (n > 0 && isLow(a.charCodeAt(a.length - n))) n--;
  return n;
}

// An insertion that ends at the caret, when the texts allow one: typing and pasting.
function insertionAtCaret(before, after, caret) {
  const added = after.length - before.length;
  if (added <= 0 || caret === undefined || caret === null || caret < added || caret > after.length) return null;
  const start = caret - added;
  if (before.slice(0, start) !== after.slice(0, start) || before.slice(start) !== after.slice(caret)) return null;
  if (isLow(after.charCodeAt(start)) || (caret < after.length && isLow(after.charCodeAt(caret)))) return null;
  return { offset: start, removed: '', inserted: after.slice(start, caret) };
}

// Returns {offset, removed, inserted}, or null when the texts are equal.
function diffText(before, after, caret) {
  if (before === after) return null;
  const atCaret = insertionAtCaret(before, after, caret);
  if (atCaret) return atCaret;
  const prefix = commonPrefix(before, after);
  const suffix = commonSuffix(before, after, prefix);
  return {
    offset: prefix,
    removed: before.slice(prefix, before.length - suffix),
    inserted: after.slice(prefix, after.length - suffix),
  };
}

// The json0 components for the edit of the string at path, or [] when nothing changed.
function textEditOp(path, before, after, caret) {
  const edit = diffText(before, after, caret);
  if (!edit) return [];
  const op = [];
  if (edit.removed) op.push({ p: [...path, edit.offset], sd: edit.removed });
  if (edit.inserted) op.push({ p: [...path, edit.offset], si: edit.inserted });
  return op;
}

module.exports = { diffText, textEditOp };
