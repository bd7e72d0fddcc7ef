// Reads a template's write rules the way the hub applies them (protocol/access.md): the
// rule with the longest key path that is a prefix of a document path governs it; list
// indices are never boundaries; a principal's rights are the union over the selectors it
// matches. The hub decides (and sends each reader only what it may read); this tells the
// form which fields to offer for editing and which lists only grow at their end.

function selectorsOf(principal) {
  const { role, specialty, lead } = principal;
  if (role === 'client') return ['client'];
  if (role === 'supervisor') return ['supervisor'];
  if (role !== 'counsellor') return [];
  const selectors = ['counsellor'];
  if (specialty) selectors.push(`counsellor:${specialty}`);
  if (lead) selectors.push('lead');
  return selectors;
}

// The object keys before the first list index: the part of a path rules can name.
function rulePart(path) {
  const keys = [];
  for (const step of path) {
    if (typeof step !== 'string') break;
    keys.push(step);
  }
  return keys;
}

function createAccess(rules, principal) {
  const byPath = new Map(rules.map((rule) => [JSON.stringify(rule.path), rule]));
  const selectors = selectorsOf(principal);
  const writes = principal.role === 'client' || principal.role === 'counsellor';
  const grants = (list) => Array.isArray(list) && list.some((s) => selectors.includes(s));

  function governing(path) {
    const keys = rulePart(path);
    for (let n = keys.length; n >= 0; n--) {
      const rule = byPath.get(JSON.stringify(keys.slice(0, n)));
      if (rule) return rule;
    }
    return null;
  }

  const canWrite = (path) => writes && grants((governing(path) || {}).write);
  // Whether path is itself a list that only grows at its end.
  const isAppendOnly = (path) => {
    const rule = governing(path);
    return Boolean(rule && rule.append_only && JSON.stringify(rule.path) === JSON.stringify(path));
  };
  return { canWrite, isAppendOnly };
}

module.exports = { createAccess };
