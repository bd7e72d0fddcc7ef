// Paths into the case sheet as json0 uses them: arrays of object keys (strings) and list
// indices (numbers). Helpers to read a value, compare paths and name them as one string.

function valueAt(data, path) {
  let node = data;
  for (const step of path) {
    if (node === null || typeof node !== 'object' || !(step in node)) return undefined;
    node = node[step];
  }
  return node;
}

function pathKey(path) {
  return JSON.stringify(path);
}

function isPrefix(prefix, path) {
  if (prefix.length > path.length) return false;
  return prefix.every((step, i) => step === path[i]);
}

// The object keys of a path with list indices left out: what catalogue keys and layout
// patterns are written against ("help_plan.tasks.what" for ["help_plan","tasks",2,"what"]).
function keyPath(path) {
  return path.filter((step) => typeof step === 'string').join('.');
}

// Where a path points after a list insert or delete component elsewhere in the document:
// indices after an inserted item move up, after a deleted one down; null when the path
// lay inside the deleted item.
function shiftPathThroughListOp(path, component) {
  const listPath = component.p.slice(0, -1);
  const index = component.p[component.p.length - 1];
  if (typeof index !== 'number' || path.length <= listPath.length || !isPrefix(listPath, path)) return path;
  const own = path[listPath.length];
  if (typeof own !== 'number') return path;
  const replaced = 'li' in component && 'ld' in component;
  let moved = own;
  if ('lm' in component) {
    const to = component.lm;
    if (own === index) moved = to;
    else if (index < own && to >= own) moved = own - 1;
    else if (index > own && to <= own) moved = own + 1;
  } else if (replaced) {
    if (own === index) return null;
  } else if ('ld' in component) {
    if (own === index) return null;
    if (index < own) moved = own - 1;
  } else if ('li' in component) {
    if (index <= own) moved = own + 1;
  }
  const shifted = path.slice();
  shifted[listPath.length] = moved;
  return shifted;
}

module.exports = { valueAt, pathKey, isPrefix, keyPath, shiftPathThroughListOp };
