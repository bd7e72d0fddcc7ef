// Encryption of what a client's page keeps on the device (live/keeper.js). A client often
// uses a shared or borrowed phone: what it typed lives only as long as its browser tab,
// unless it chose "keep on this device" when joining. The records themselves go to
// IndexedDB (which outlives the tab), sealed with AES-GCM under a key held in the tab's
// sessionStorage, so once the tab is closed they cannot be read by anyone, and are
// removed at the next start. With "keep", the key is in localStorage instead.
// Nothing here without WebCrypto (pages not served over https or from localhost): then
// a client's page keeps nothing beyond its memory.
const KEY_NAME = 'konsil.sealkey';
const KEEP_NAME = 'konsil.keep';

const subtle = () => (typeof crypto !== 'undefined' && crypto.subtle) || null;

function keepsOnDevice() {
  try {
    return localStorage.getItem(KEEP_NAME) === '1';
  } catch (e) {
    return false;
  }
}

// The client's choice on the join page; moves an existing key to where it now belongs.
function setKeepOnDevice(keep) {
  try {
    const key = sessionStorage.getItem(KEY_NAME) || localStorage.getItem(KEY_NAME);
    if (keep) localStorage.setItem(KEEP_NAME, '1');
    else localStorage.removeItem(KEEP_NAME);
    sessionStorage.removeItem(KEY_NAME);
    localStorage.removeItem(KEY_NAME);
    if (key) (keep ? localStorage : sessionStorage).setItem(KEY_NAME, key);
  } catch (e) {
    // Storage refused: nothing is kept beyond the tab either way.
  }
}

const storage = () => (keepsOnDevice() ? localStorage : sessionStorage);

let keyPromise = null;
function key() {
  if (!keyPromise) {
    keyPromise = (async () => {
      const s = subtle();
      if (!s) return null;
      const held = storage().getItem(KEY_NAME);
      if (held) return s.importKey('jwk', JSON.parse(held), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
      const fresh = await s.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
      storage().setItem(KEY_NAME, JSON.stringify(await s.exportKey('jwk', fresh)));
      return fresh;
    })().catch(() => null);
  }
  return keyPromise;
}

async function available() {
  return Boolean(await key());
}

// text → {iv, bytes} (ArrayBuffers, which IndexedDB stores as they are).
async function seal(text) {
  const k = await key();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const bytes = await subtle().encrypt({ name: 'AES-GCM', iv }, k, new TextEncoder().encode(text));
  return { iv, bytes };
}

// The text, or null when this tab's key cannot open it.
async function unseal(sealed) {
  try {
    const k = await key();
    if (!k || !sealed) return null;
    const plain = await subtle().decrypt({ name: 'AES-GCM', iv: sealed.iv }, k, sealed.bytes);
    return new TextDecoder().decode(plain);
  } catch (e) {
    return null;
  }
}

function forget() {
  try {
    sessionStorage.removeItem(KEY_NAME);
    localStorage.removeItem(KEY_NAME);
    localStorage.removeItem(KEEP_NAME);
  } catch (e) {
    // nothing held
  }
  keyPromise = null;
}

module.exports = { seal, unseal, available, keepsOnDevice, setKeepOnDevice, forget };
