// Keeps a caret or selection where it belongs when someone else's string edit lands in
// the same text: text inserted before the caret pushes it on, text deleted before it
// pulls it back. An insert exactly at the caret leaves it in place, so the local user
// keeps typing after their own text.

function shiftIndex(index, component) {
  const offset = component.p[component.p.length - 1];
  if (typeof component.si === 'string') {
    return offset < index ? index + component.si.length : index;
  }
  if (typeof component.sd === 'string') {
    if (index <= offset) return index;
    return Math.max(offset, index - component.sd.length);
  }
  return index;
}

function shiftSelection(selection, component) {
  return {
    start: shiftIndex(selection.start, component),
    end: shiftIndex(selection.end, component),
    direction: selection.direction,
  };
}

module.exports = { shiftIndex, shiftSelection };
