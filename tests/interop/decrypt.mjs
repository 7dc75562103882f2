#!/usr/bin/env node
// Independent decryptor for Ghostie.Sync repositories (object envelopes v1 and v2), written from
// docs/format.md and docs/sync-protocol.md only. Node 20, built-in modules only (crypto, zlib, fs), plus @noble/hashes
// (tests/interop/package.json) for the Argon2id of key files v2.
// Usage: see usage() below or tests/interop/README.md.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------------------------
// Errors: the three refusals of format.md ("Reader errors") plus the two repository-level conditions.

const EXIT = {
  ok: 0, usage: 1, 'wrong-passphrase': 2, integrity: 3, unsupported: 4, 'unknown-epoch': 5, 'no-repository': 6,
};

class ReadError extends Error {
  constructor(kind, subject, message) {
    super(`${kind}: ${subject}: ${message}`);
    this.kind = kind;
    this.subject = subject;
  }
}
const integrity = (subject, message) => new ReadError('integrity', subject, message);
const unsupported = (subject, message) => new ReadError('unsupported', subject, message);

// ---------------------------------------------------------------------------------------------------------------
// Primitives (format.md "Conventions").

const ascii = (s) => Buffer.from(s, 'latin1');
const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const i64 = (n) => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(n)); return b; };
const range = (from, count) => Buffer.from(Array.from({ length: count }, (_, i) => (from + i) & 0xff));
const sha256 = (b) => crypto.createHash('sha256').update(b).digest();
const hmac = (key, msg) => crypto.createHmac('sha256', key).update(msg).digest();

/** HKDF-Expand (RFC 5869) with prk used directly as the PRK. */
function hkdfExpand(prk, info, len) {
  const out = [];
  let t = Buffer.alloc(0);
  for (let i = 1; out.reduce((a, b) => a + b.length, 0) < len; i++) {
    t = hmac(prk, Buffer.concat([t, ascii(info), Buffer.from([i])]));
    out.push(t);
  }
  return Buffer.concat(out).subarray(0, len);
}
/** HKDF-SHA256: PRK = HMAC(key = salt, msg = ikm), then Expand. */
const hkdf = (ikm, salt, info, len) => hkdfExpand(hmac(salt, ikm), info, len);

const AEAD = { 1: 'aes-256-gcm', 2: 'chacha20-poly1305' };

function aeadSeal(suite, key, nonce, plaintext, ad) {
  const c = crypto.createCipheriv(AEAD[suite], key, nonce, { authTagLength: 16 });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([ct, c.getAuthTag()]);
}
/** Returns the plaintext, or null when the tag does not verify. */
function aeadOpen(suite, key, nonce, sealed, ad) {
  const ct = sealed.subarray(0, sealed.length - 16);
  const d = crypto.createDecipheriv(AEAD[suite], key, nonce, { authTagLength: 16 });
  d.setAAD(ad, { plaintextLength: ct.length });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([d.update(ct), d.final()]);
  } catch {
    return null;
  }
}

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
function base32lower(bytes) {
  let bits = 0; let value = 0; let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte; bits += 8;
    while (bits >= 5) { out += B32[(value >>> (bits - 5)) & 31]; bits -= 5; }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Keys (format.md "Keys").

const LABEL = { 1: 'ghostie/v1/data/aes-256-gcm', 2: 'ghostie/v1/data/chacha20-poly1305' };
const purposeKey = (epochKey, R, suite) => hkdf(epochKey, R, LABEL[suite], 32);
const sessionKey = (pk, salt) => hkdf(pk, salt, 'ghostie/v2/session', 32);
const objectKey = (pk, salt) => hkdf(pk, salt, 'ghostie/v1/object', 32);
const namesKey = (M, R) => hkdf(M, R, 'ghostie/v1/names/hmac-sha256', 32);

/** format.md "Derived object names". */
function derivedName(NK, prefix, purpose, input) {
  const mac = hmac(NK, Buffer.concat([Buffer.from(purpose, 'utf8'), Buffer.from([0]), input]));
  return prefix + base32lower(mac.subarray(0, 20));
}

// ---------------------------------------------------------------------------------------------------------------
// Object envelope (format.md "Object envelope").

const MAGIC_OBJECT = ascii('GHSO');
const KIND = { keyMeta: 0x01, epoch: 0x02, pack: 0x10, head: 0x11, snapshot: 0x12, handoff: 0x20, vectors: 0x30, generic: 0xff };
const KNOWN_KINDS = new Set(Object.values(KIND));

function nonceV1(i, final) {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(i), 0);
  n[11] = final ? 1 : 0;
  return n;
}
function nonceV2(counter, i, final) {
  const n = Buffer.alloc(12);
  n.writeUInt32BE(counter >>> 0, 0);
  const idx = BigInt(i);
  for (let k = 0; k < 7; k++) n[4 + k] = Number((idx >> BigInt(8 * (6 - k))) & 0xffn);
  n[11] = final ? 1 : 0;
  return n;
}
const associatedData = (header, R, name) => Buffer.concat([header, R, u16(name.length), ascii(name)]);

/** Step 1 of "Decrypting an object": every check on the header. */
function parseHeader(obj, name, expectedKind) {
  if (obj.length < 5) throw integrity(name, `too short for an envelope header (${obj.length} bytes)`);
  if (!obj.subarray(0, 4).equals(MAGIC_OBJECT)) throw integrity(name, 'bad magic (not an envelope)');
  const version = obj[4];
  if (version === 0) throw integrity(name, 'envelope version 00');
  if (version > 3) throw unsupported(name, `unsupported format v${version}; this version reads up to v3`);
  const headerLength = version >= 2 ? 48 : 44;
  if (obj.length < headerLength) throw integrity(name, `shorter (${obj.length} bytes) than a v${version} header (${headerLength})`);
  const suite = obj[5];
  if (!(suite in AEAD)) throw unsupported(name, `unknown cipher suite ${suite}`);
  const kind = obj[6];
  const shift = obj[7];
  if (shift < 10 || shift > 24) throw integrity(name, `chunk shift ${shift} outside 10..24`);
  if (!KNOWN_KINDS.has(kind) || kind !== expectedKind) throw integrity(name, `object kind ${kind}, expected ${expectedKind}`);
  const epoch = obj.readUInt32BE(8);
  const masterKind = kind === KIND.keyMeta || kind === KIND.epoch;
  if ((epoch === 0) !== masterKind) throw integrity(name, `epoch id ${epoch} with object kind ${kind}`);
  return {
    version, suite, kind, shift, epoch, headerLength,
    header: obj.subarray(0, headerLength),
    salt: obj.subarray(12, 44),
    counter: version >= 2 ? obj.readUInt32BE(44) : null,
  };
}

/** The AEAD key of an object: SK (v3, v2) or K (v1), from M (epoch 0) or E_n. */
function envelopeKey(keys, h, name) {
  let ek;
  if (h.epoch === 0) ek = keys.M;
  else {
    ek = keys.epochs?.get(h.epoch)?.key;
    if (!ek) throw new ReadError('unknown-epoch', name, `sealed under epoch ${h.epoch.toString(16).padStart(8, '0')}, which has no epoch object; reload the epochs and retry`);
  }
  const pk = purposeKey(ek, keys.R, h.suite);
  return h.version >= 2 ? sessionKey(pk, h.salt) : objectKey(pk, h.salt);
}

/** Splits the body into pieces and checks truncation ("Sizes"). */
function pieces(body, chunkSize, name) {
  if (body.length === 0) throw integrity(name, 'truncated: no chunk after the header');
  const p = chunkSize + 16;
  const count = Math.ceil(body.length / p);
  const last = body.length - (count - 1) * p;
  if (last < 16) throw integrity(name, `truncated: last chunk of ${last} bytes is shorter than a tag`);
  return Array.from({ length: count }, (_, i) => body.subarray(i * p, Math.min((i + 1) * p, body.length)));
}

function openEnvelope(keys, name, obj, expectedKind) {
  const h = parseHeader(obj, name, expectedKind);
  const key = envelopeKey(keys, h, name);
  const ad = associatedData(h.header, keys.R, name);
  const list = pieces(obj.subarray(h.headerLength), 2 ** h.shift, name);
  const out = list.map((piece, i) => {
    const final = i === list.length - 1;
    const nonce = h.version >= 2 ? nonceV2(h.counter, i, final) : nonceV1(i, final);
    const pt = aeadOpen(h.suite, key, nonce, piece, ad);
    if (pt === null) throw integrity(name, `chunk ${i} failed authentication (tampered, moved, truncated or from another repository)`);
    return pt;
  });
  const content = Buffer.concat(out);
  return { plaintext: h.version === 3 ? stripPadding(content, name) : content, header: h };
}

// format.md "Padding (envelope v3)": content = payload || zero bytes || u64(len(payload)), len = bucket(len + 8).
function padme(n) {
  const e = Math.floor(Math.log2(n));
  const s = Math.floor(Math.log2(e)) + 1;
  const step = 2 ** (e - s);
  return Math.ceil(n / step) * step;
}
const bucket = (n) => Math.max(1024, padme(n));

function padContent(payload) {
  const t = bucket(payload.length + 8);
  const length = Buffer.alloc(8); length.writeBigUInt64BE(BigInt(payload.length));
  return Buffer.concat([payload, Buffer.alloc(t - payload.length - 8), length]);
}

function stripPadding(content, name) {
  if (content.length < 8) throw integrity(name, `v3 content of ${content.length} bytes is shorter than its 8-byte length`);
  const p = content.readBigUInt64BE(content.length - 8);
  if (p > BigInt(content.length - 8)) throw integrity(name, `v3 payload length ${p} exceeds the ${content.length}-byte content`);
  if (content.subarray(Number(p), content.length - 8).some((b) => b !== 0)) throw integrity(name, 'v3 padding is not all zero');
  return content.subarray(0, Number(p));
}

/** Opens only the first chunk (handoff listing); totalSize is the object's size, which decides the final flag. */
function openFirstChunk(keys, name, prefix, totalSize, expectedKind) {
  const h = parseHeader(prefix, name, expectedKind);
  const key = envelopeKey(keys, h, name);
  const p = 2 ** h.shift + 16;
  const bodySize = totalSize - h.headerLength;
  if (bodySize <= 0) throw integrity(name, 'truncated: no chunk after the header');
  const final = bodySize <= p;
  const piece = prefix.subarray(h.headerLength, h.headerLength + Math.min(p, bodySize));
  if (piece.length < 16 || (final && piece.length !== bodySize)) throw integrity(name, 'truncated first chunk');
  const nonce = h.version >= 2 ? nonceV2(h.counter, 0, final) : nonceV1(0, final);
  const pt = aeadOpen(h.suite, key, nonce, piece, associatedData(h.header, keys.R, name));
  if (pt === null) throw integrity(name, 'chunk 0 failed authentication');
  // v3: the payload starts the content; a lone chunk also holds the padding and the length.
  return h.version === 3 && final ? stripPadding(pt, name) : pt;
}

/** Seals like a writer (used by the self-test to rebuild the published vectors). */
function sealEnvelope(keys, { version, suite, kind, shift, epoch, salt, counter = 0, content = null }, payload, name) {
  const header = Buffer.concat([MAGIC_OBJECT, Buffer.from([version, suite, kind, shift]), u32(epoch), salt,
    version >= 2 ? u32(counter) : Buffer.alloc(0)]);
  const plaintext = content ?? (version === 3 ? padContent(payload) : payload);
  const h = parseHeader(header, name, kind);
  const key = envelopeKey(keys, h, name);
  const ad = associatedData(header, keys.R, name);
  const C = 2 ** shift;
  const count = Math.max(1, Math.ceil(plaintext.length / C));
  const chunks = [];
  for (let i = 0; i < count; i++) {
    const final = i === count - 1;
    const nonce = version >= 2 ? nonceV2(counter, i, final) : nonceV1(i, final);
    chunks.push(aeadSeal(suite, key, nonce, plaintext.subarray(i * C, Math.min((i + 1) * C, plaintext.length)), ad));
  }
  return Buffer.concat([header, ...chunks]);
}

// ---------------------------------------------------------------------------------------------------------------
// Key files (format.md "Key file").

const MAGIC_KEYFILE = ascii('GHSK');

// Argon2id (key file v2, format.md "Key file") from @noble/hashes, pure JavaScript and independent of the libsodium
// the library uses; installed from tests/interop/package.json by scripts/test.sh. Without it only v1 (PBKDF2) key
// files can be opened.
let nobleArgon2id = null;
try { ({ argon2id: nobleArgon2id } = await import('@noble/hashes/argon2.js')); } catch { /* reported when a v2 key file needs it */ }

// Reader bounds of a v2 key file, checked when parsing, before anything is derived.
const ARGON2_BOUNDS = { m: [8, 1_048_576], t: [1, 64], work: 4_194_304 };

function parseKeyFile(buf, name) {
  if (buf.length < 13) throw integrity(name, `too short for a key file (${buf.length} bytes)`);
  if (!buf.subarray(0, 4).equals(MAGIC_KEYFILE)) throw integrity(name, 'bad magic (not a key file)');
  if (buf[4] === 0) throw integrity(name, 'key file version 00');
  if (buf[4] > 2) throw unsupported(name, `unsupported format v${buf[4]}; this version reads up to v2`);
  const v2 = buf[4] === 2;
  if (buf[5] !== (v2 ? 2 : 1)) throw unsupported(name, `unknown KDF id ${buf[5]} in a v${buf[4]} key file`);
  if (buf[6] !== 0 || buf[7] !== 0) throw integrity(name, 'reserved bytes are not zero');
  const P = v2 ? 21 : 13; // the salt's offset
  if (buf.length < P) throw integrity(name, `too short for a key file v2 (${buf.length} bytes)`);
  let kdf;
  if (v2) {
    const m = buf.readUInt32BE(8); const t = buf.readUInt32BE(12); const p = buf.readUInt32BE(16);
    if (m < ARGON2_BOUNDS.m[0] || m > ARGON2_BOUNDS.m[1]) throw integrity(name, `Argon2id memory m = ${m} KiB outside ${ARGON2_BOUNDS.m.join('..')}`);
    if (t < ARGON2_BOUNDS.t[0] || t > ARGON2_BOUNDS.t[1]) throw integrity(name, `Argon2id passes t = ${t} outside ${ARGON2_BOUNDS.t.join('..')}`);
    if (m * t > ARGON2_BOUNDS.work) throw integrity(name, `Argon2id m * t = ${m * t} above ${ARGON2_BOUNDS.work}`);
    if (p !== 1) throw integrity(name, `Argon2id parallelism p = ${p}; only 1 is accepted`);
    kdf = { name: 'argon2id', m, t, p };
  } else {
    const iterations = buf.readUInt32BE(8);
    if (iterations < 1000 || iterations > 100_000_000) throw integrity(name, `iterations ${iterations} outside 1,000..100,000,000`);
    kdf = { name: 'pbkdf2', iterations };
  }
  const S = buf[P - 1];
  if (S < 16 || S > 64) throw integrity(name, `salt length ${S} outside 16..64`);
  if (v2 && S !== 16) throw integrity(name, `salt length ${S} in a key file v2 (always 16)`);
  const r = P + S; const fixed = r + 92; // through the wrap tag
  if (buf.length < fixed + 4) throw integrity(name, `too short (${buf.length} bytes) for salt length ${S}`);
  const ML = buf.readUInt32BE(fixed);
  if (buf.length !== fixed + 4 + ML) throw integrity(name, `metadata length ${ML} disagrees with the file size ${buf.length}`);
  return {
    kdf,
    iterations: v2 ? kdf.t : kdf.iterations,
    salt: buf.subarray(P, r),
    R: buf.subarray(r, r + 16),
    check: buf.subarray(r + 16, r + 32),
    nonce: buf.subarray(r + 32, r + 44),
    wrapped: buf.subarray(r + 44, r + 76),
    tag: buf.subarray(r + 76, r + 92),
    ad: buf.subarray(0, r + 32),
    metadata: buf.subarray(fixed + 4),
  };
}

/** D, wrap and check; kdf is a PBKDF2 iteration count (v1) or { name: 'argon2id', m, t, p } (v2). */
function passphraseKeys(passphrase, salt, kdf) {
  const pw = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  let D;
  if (typeof kdf === 'object' && kdf.name === 'argon2id') {
    if (!nobleArgon2id) throw new ReadError('usage', 'keys/', 'an Argon2id key file needs @noble/hashes (npm ci --prefix tests/interop)');
    D = Buffer.from(nobleArgon2id(pw, salt, { t: kdf.t, m: kdf.m, p: kdf.p, dkLen: 32, version: 0x13 }));
  } else {
    D = crypto.pbkdf2Sync(pw, salt, typeof kdf === 'object' ? kdf.iterations : kdf, 32, 'sha256');
  }
  return { D, wrap: hkdfExpand(D, 'ghostie/v1/keyfile/wrap', 32), check: hkdfExpand(D, 'ghostie/v1/keyfile/check', 16) };
}

/** Unwraps M, or returns 'wrong' (check value differs); throws integrity when the check matched but the tag failed. */
function unwrapKeyFile(kf, passphrase, name) {
  const { wrap, check } = passphraseKeys(passphrase, kf.salt, kf.kdf);
  if (!crypto.timingSafeEqual(check, kf.check)) return 'wrong';
  const d = crypto.createDecipheriv('aes-256-gcm', wrap, kf.nonce, { authTagLength: 16 });
  d.setAAD(kf.ad);
  d.setAuthTag(kf.tag);
  try {
    return Buffer.concat([d.update(kf.wrapped), d.final()]);
  } catch {
    throw integrity(name, 'the passphrase is right but the wrapped master key failed authentication (damaged key file)');
  }
}

function parseKeyMetadata(pt, name) {
  if (pt.length < 10) throw integrity(name, 'key file metadata too short');
  const len = pt.readUInt16BE(8);
  if (pt.length !== 10 + len) throw integrity(name, 'key file metadata label length disagrees with its size');
  return { created: new Date(Number(pt.readBigInt64BE(0))).toISOString(), label: pt.subarray(10).toString('utf8') };
}

// ---------------------------------------------------------------------------------------------------------------
// Epochs (format.md "Key epochs").

function parseEpochRecord(pt, name, idFromName) {
  if (pt.length < 1) throw integrity(name, 'empty epoch record');
  if (pt[0] === 0) throw integrity(name, 'epoch record version 00');
  if (pt[0] > 1) throw unsupported(name, `unsupported format v${pt[0]}; this version reads up to v1`);
  if (pt.length !== 45) throw integrity(name, `epoch record of ${pt.length} bytes, expected 45`);
  const id = pt.readUInt32BE(1);
  if (id !== idFromName) throw integrity(name, `epoch record names epoch ${id.toString(16).padStart(8, '0')}`);
  return { id, created: Number(pt.readBigInt64BE(5)), key: Buffer.from(pt.subarray(13, 45)) };
}

/** The epoch new objects go under: greatest creation time, ties to the greater id. */
function currentEpoch(epochs) {
  let best = null;
  for (const e of epochs.values()) {
    if (!best || e.created > best.created || (e.created === best.created && e.id > best.id)) best = e;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// A repository in a folder: the object `a/b/c` is the file `<root>/a/b/c`.

const NAME_RE = /^[a-z0-9]+(\/[a-z0-9]+)*$/;
const KEYFILE_RE = /^keys\/[0-9a-f]{16}$/;
const EPOCH_RE = /^epochs\/[0-9a-f]{8}$/;
const DEVICE_OBJECT_RE = /^([phx])\/([a-z2-7]{32})\/([0-9a-f]{24})$/;

class FolderRepository {
  constructor(root) { this.root = root; }
  read(name) { return fs.readFileSync(path.join(this.root, ...name.split('/'))); }
  size(name) { return fs.statSync(path.join(this.root, ...name.split('/'))).size; }
  readPrefix(name, count) {
    const fd = fs.openSync(path.join(this.root, ...name.split('/')), 'r');
    try {
      const b = Buffer.alloc(count);
      return b.subarray(0, fs.readSync(fd, b, 0, count, 0));
    } finally { fs.closeSync(fd); }
  }
  /** Every valid object name under a top-level folder (files only; anything that is not a valid name is ignored). */
  list(top) {
    const out = [];
    const walk = (dir, rel) => {
      let entries;
      try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch (e) { if (e.code === 'ENOENT') return; throw e; }
      for (const e of entries) {
        const r = `${rel}/${e.name}`;
        if (e.isDirectory()) walk(path.join(dir, e.name), r);
        else if (e.isFile() && NAME_RE.test(r) && r.length <= 64) out.push(r);
      }
    };
    walk(path.join(this.root, top), top);
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)); // ordinal (names are ASCII)
  }
}

/**
 * Every key file parsed first (format.md "Key file"): unparsable ones are skipped (the first problem kept), and the
 * key files that parse must all carry one repository id, or the location is refused whatever the passphrase.
 */
function parseKeyFiles(repo, names) {
  const parsedFiles = []; let firstParseProblem = null;
  for (const name of names) {
    try { parsedFiles.push([name, parseKeyFile(repo.read(name), name)]); } catch (e) {
      if (!(e instanceof ReadError)) throw e;
      firstParseProblem ??= e;
    }
  }
  const ids = new Map();
  for (const [name, kf] of parsedFiles) {
    const r = Buffer.from(kf.R).toString('hex');
    ids.set(r, [...(ids.get(r) ?? []), name]);
  }
  if (ids.size > 1) {
    throw integrity('keys/', `key files of ${ids.size} repositories in one place: ${[...ids].map(([r, n]) => `${r}: ${n.join(', ')}`).join('; ')}`);
  }
  return { parsedFiles, firstParseProblem };
}

/** Unlock with a passphrase, following format.md's order and error preference. */
function unlockWithPassphrase(repo, passphrase) {
  const names = repo.list('keys').filter((n) => KEYFILE_RE.test(n));
  if (names.length === 0) throw new ReadError('no-repository', repo.root, 'no key file under keys/: no repository here');
  const { parsedFiles, firstParseProblem } = parseKeyFiles(repo, names);
  let checkMatched = null;
  const parsed = parsedFiles.length;
  for (const [name, kf] of parsedFiles) {
    let M;
    try { M = unwrapKeyFile(kf, passphrase, name); } catch (e) {
      if (!(e instanceof ReadError)) throw e;
      checkMatched ??= e;
      continue;
    }
    if (M === 'wrong') continue;
    return { R: Buffer.from(kf.R), M, keyFile: name };
  }
  if (checkMatched) throw checkMatched;
  if (parsed === 0) throw firstParseProblem;
  throw new ReadError('wrong-passphrase', repo.root, `the passphrase opens none of the ${names.length} key file(s)`);
}

/** Unlock from a device key cache (format.md "Device key cache"). */
function unlockWithKeyCache(file) {
  const st = fs.statSync(file);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) throw new ReadError('usage', file, 'group or others have permissions on the key cache; refused');
  const b = fs.readFileSync(file);
  if (b.length !== 88) throw integrity(file, `key cache of ${b.length} bytes, expected 88`);
  if (!b.subarray(0, 4).equals(ascii('GHDK'))) throw integrity(file, 'bad magic (not a device key cache)');
  if (b[4] === 0) throw integrity(file, 'key cache version 00');
  if (b[4] > 1) throw unsupported(file, `unsupported format v${b[4]}; this version reads up to v1`);
  if (b[5] || b[6] || b[7]) throw integrity(file, 'reserved bytes are not zero');
  if (!sha256(b.subarray(0, 56)).equals(b.subarray(56, 88))) throw integrity(file, 'checksum mismatch (damaged key cache)');
  return { R: Buffer.from(b.subarray(8, 24)), M: Buffer.from(b.subarray(24, 56)), keyFile: null };
}

function loadEpochs(repo, keys) {
  keys.epochs = new Map();
  for (const name of repo.list('epochs').filter((n) => EPOCH_RE.test(n))) {
    const id = parseInt(name.slice(7), 16);
    if (id === 0) continue;
    const { plaintext } = openEnvelope(keys, name, repo.read(name), KIND.epoch);
    keys.epochs.set(id, parseEpochRecord(plaintext, name, id));
  }
  return keys;
}

function openRepository(root, { passphrase, keyCache }) {
  const repo = new FolderRepository(root);
  if (!fs.existsSync(root)) throw new ReadError('no-repository', root, 'folder does not exist');
  const keys = keyCache ? unlockWithKeyCache(keyCache) : unlockWithPassphrase(repo, passphrase);
  if (keyCache) {
    // The cache's repository id must be the key files' (same skip and repository id rules as an unlock).
    const names = repo.list('keys').filter((n) => KEYFILE_RE.test(n));
    if (names.length === 0) throw new ReadError('no-repository', repo.root, 'no key file under keys/: no repository here');
    const { parsedFiles, firstParseProblem } = parseKeyFiles(repo, names);
    if (parsedFiles.length === 0) throw firstParseProblem;
    if (!Buffer.from(parsedFiles[0][1].R).equals(keys.R)) throw new ReadError('usage', keyCache, 'the device key cache belongs to another repository');
  }
  keys.NK = namesKey(keys.M, keys.R);
  loadEpochs(repo, keys);
  return { repo, keys };
}

// ---------------------------------------------------------------------------------------------------------------
// Sync objects and handoff packages (format.md "Sync objects", "Handoff packages"; sync-protocol.md).

function parseJson(buf, name, what) {
  const text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) throw integrity(name, `${what} starts with a byte order mark`);
  try { return JSON.parse(text); } catch { throw integrity(name, `${what} is not valid JSON`); }
}

function brotli(buf, name, maxOutputLength) {
  try { return zlib.brotliDecompressSync(buf, maxOutputLength ? { maxOutputLength } : {}); } catch {
    throw integrity(name, 'Brotli stream does not decompress');
  }
}

function readHead(repo, keys, name) {
  const head = parseJson(openEnvelope(keys, name, repo.read(name), KIND.head).plaintext, name, 'head');
  if (!Number.isInteger(head.format) || head.format < 1) throw integrity(name, 'head without a valid format');
  if (head.format > 1) throw unsupported(name, `unsupported head format ${head.format}; this version reads up to 1`);
  const prefix = name.split('/')[1];
  const expected = derivedName(keys.NK, '', 'device-prefix', Buffer.from(String(head.device_id), 'utf8'));
  if (expected !== prefix) throw integrity(name, 'head of a device whose derived prefix is not the prefix it is stored under');
  return head;
}

function readPack(repo, keys, entry, prefix, headName) {
  const name = entry.name;
  if (!DEVICE_OBJECT_RE.test(name) || name[0] !== 'p' || name.split('/')[1] !== prefix) {
    throw integrity(headName, `head lists pack '${name}', which is not a pack of its device`);
  }
  const sealed = repo.read(name);
  if (sealed.length !== entry.bytes) throw integrity(name, `size ${sealed.length}, the head says ${entry.bytes}`);
  if (sha256(sealed).toString('hex') !== String(entry.sha256).toLowerCase()) throw integrity(name, 'SHA-256 differs from the head');
  const text = brotli(openEnvelope(keys, name, sealed, KIND.pack).plaintext, name).toString('utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const versions = lines.map((l) => parseJson(Buffer.from(l, 'utf8'), name, 'pack line'));
  if (entry.entries !== undefined && entry.entries !== versions.length) {
    throw integrity(name, `${versions.length} entries, the head says ${entry.entries}`);
  }
  return versions;
}

/** System.Text.Json's default encoder (JavaScriptEncoder.Default): only printable ASCII other than the
 * HTML-sensitive characters stays as is; the rest is \uXXXX (uppercase hex, UTF-16 units), except the short escapes. */
function stjString(str) {
  let out = '"';
  for (const ch of str) {
    for (let i = 0; i < ch.length; i++) {
      const u = ch.charCodeAt(i);
      const short = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x5c: '\\\\' }[u];
      if (short) out += short;
      else if (u >= 0x20 && u < 0x7f && !'"&\'<>+`'.includes(String.fromCharCode(u))) out += String.fromCharCode(u);
      else out += `\\u${u.toString(16).toUpperCase().padStart(4, '0')}`;
    }
  }
  return `${out}"`;
}
function stjValue(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(stjValue).join(',')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${stjString(k)}:${stjValue(x)}`).join(',')}}`;
  if (typeof v === 'string') return stjString(v);
  return JSON.stringify(v);
}
/** format.md "Canonical JSON of a memory": the value of `h` for a version that is not a tombstone. */
function canonicalHash(r) {
  const order = ['id', 'timestamp', 'device_id', 'category', 'content', 'context'];
  // The timestamp is written as System.Text.Json formats a DateTimeOffset, which the encoder does not escape.
  const value = (k) => (k === 'timestamp' ? `"${r[k]}"` : stjValue(r[k] ?? null));
  const json = `{${order.map((k) => `${stjString(k)}:${value(k)}`).join(',')},"sync_metadata":null}`;
  return `sha256:${sha256(Buffer.from(json, 'utf8')).toString('hex')}`;
}

/** version vector inclusion: a includes b when a has at least b's count for every device. */
function includes(a, b) {
  for (const [d, n] of Object.entries(b.vv ?? {})) if ((a.vv?.[d] ?? 0) < n) return false;
  return true;
}
const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
/** sync-protocol.md "Winner": newest clock, then larger origin id, then larger content hash. */
function newer(a, b) {
  return cmp(a.t, b.t) || cmp(a.c, b.c) || cmp(a.o, b.o) || cmp(a.h, b.h);
}

function readSyncState(repo, keys) {
  const byPrefix = new Map();
  for (const name of repo.list('h')) {
    const m = DEVICE_OBJECT_RE.exec(name);
    if (!m) continue;
    const head = readHead(repo, keys, name);
    const prev = byPrefix.get(m[2]);
    if (!prev || head.seq > prev.head.seq) byPrefix.set(m[2], { name, head });
  }
  const devices = []; const registers = new Map();
  for (const [prefix, { name, head }] of [...byPrefix.entries()].sort((a, b) => cmp(a[0], b[0]))) {
    const versions = [];
    for (const entry of head.packs ?? []) versions.push(...readPack(repo, keys, entry, prefix, name));
    devices.push({ prefix, head: name, device_id: head.device_id, device_name: head.device_name, seq: head.seq, packs: (head.packs ?? []).length, versions: versions.length });
    for (const v of versions) {
      const set = registers.get(v.id) ?? [];
      if (set.some((s) => includes(s, v))) continue; // already have it, or something newer
      registers.set(v.id, [...set.filter((s) => !includes(v, s)), v]);
    }
  }
  const memories = [];
  for (const [id, set] of [...registers.entries()].sort((a, b) => cmp(a[0], b[0]))) {
    const winner = set.reduce((w, v) => (newer(v, w) > 0 ? v : w));
    memories.push({ id, winner, versions: set });
  }
  return { devices, memories };
}

/** docs/handoff.md "The package, field by field": the schema versions this reader knows, and the fields each added. */
const PACKAGE_SCHEMA = 3;
/** Version-3 agent fields, and what a version-1 or 2 package reads them as. */
const AGENT_V3_DEFAULTS = { kind: '', status: '', permission_mode: null, working_directory: null, todos: [], project_instructions: [] };

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Strict base64 (RFC 4648 section 4, padded) of little-endian float32 values. */
function float32s(text, name, what) {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw integrity(name, `${what} is not base64`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw integrity(name, `${what} holds ${bytes.length} bytes, not a multiple of 4`);
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

/**
 * The package JSON of schema version 1, 2 or 3, read as version 3 (docs/handoff.md): version-3 agent fields and
 * resumption_point.last_user_turn at their documented defaults when absent, checkpoint pointers and embedding vectors
 * checked. Returns the package, the decoded vectors (entry order) and the lowest version the writer rule gives.
 */
function readPackageJson(json, name) {
  const pkg = parseJson(json, name, 'package JSON');
  if (!isObject(pkg)) throw integrity(name, 'package JSON is not an object');
  const v = pkg.schema_version;
  if (!Number.isInteger(v) || v < 0) throw integrity(name, 'package schema_version is not a non-negative integer');
  if (v > PACKAGE_SCHEMA) throw unsupported(name, `unsupported package schema_version ${v}; this version reads up to ${PACKAGE_SCHEMA}`);
  if (v < 1) throw unsupported(name, `package schema_version ${v} is older than 1 and no migration is known`);
  if (!Array.isArray(pkg.agents ?? [])) throw integrity(name, 'package agents is not an array');
  pkg.agents = (pkg.agents ?? []).map((agent) => {
    if (!isObject(agent) || typeof agent.id !== 'string') throw integrity(name, 'an agent without an id');
    const a = { ...agent };
    for (const [k, d] of Object.entries(AGENT_V3_DEFAULTS)) if (a[k] === undefined || a[k] === null) a[k] = Array.isArray(d) ? [] : d;
    if (!Array.isArray(a.todos) || !Array.isArray(a.project_instructions)) throw integrity(name, `agent '${a.id}': todos and project_instructions are arrays`);
    a.checkpoint ??= null;
    const c = a.checkpoint;
    if (c !== null) {
      const problem = !isObject(c) ? 'its checkpoint is not an object'
        : typeof c.store !== 'string' || c.store.length === 0 ? 'its checkpoint store is empty'
          : !Number.isInteger(c.sequence) || c.sequence < 1 ? `its checkpoint sequence is ${c.sequence} (must be 1 or more)`
            : typeof c.state_sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(c.state_sha256) ? 'its checkpoint state_sha256 is not 64 lowercase hex digits'
              : null;
      if (problem) throw integrity(name, `agent '${a.id}': ${problem}`);
    }
    return a;
  });
  const rp = pkg.reconstruction?.resumption_point;
  if (isObject(rp)) rp.last_user_turn ??= null;
  const vectors = [];
  if (pkg.embeddings != null) {
    const set = pkg.embeddings;
    if (!isObject(set) || !Array.isArray(set.entries ?? [])) throw integrity(name, 'package embeddings is not an embedding set');
    for (const e of set.entries ?? []) {
      const vector = float32s(e?.vector, name, `embedding '${e?.id}' vector`);
      if (vector.length !== set.dimensions) throw integrity(name, `embedding '${e.id}' has ${vector.length} dimensions, the set declares ${set.dimensions}`);
      vectors.push(vector);
    }
  }
  // The writer's rule: 3 for state a version-2 reader would drop, else 2 for a checkpoint pointer, else 1.
  const needed = pkg.agents.some((a) => a.permission_mode !== null || a.todos.length > 0 || a.project_instructions.length > 0) ? 3
    : pkg.agents.some((a) => a.checkpoint !== null) ? 2 : 1;
  return { package: pkg, vectors, schema_version_needed: needed };
}

/** Self-test of the package JSON reader: the committed v1 and v2 packages, crafted v3 ones and the refusals. */
function selfTestPackageJson(ok, refuses) {
  const j = (o) => Buffer.from(JSON.stringify(o), 'utf8');
  const vec = (...xs) => { const b = Buffer.alloc(4 * xs.length); xs.forEach((x, i) => b.writeFloatLE(x, i * 4)); return b.toString('base64'); };
  const agent = (extra = {}) => ({ id: 'main', name: 'Main', ...extra });
  const pkg = (v, agents, extra = {}) => ({ schema_version: v, package_id: '00'.repeat(12), agents, reconstruction: { resumption_point: { turn: 1 } }, ...extra });
  const pointer = { store: 'redis', sequence: 1, state_sha256: 'ab'.repeat(32), created_at: '2026-11-21T07:30:00+00:00' };

  // The packages the library committed as versions 1 and 2 (skipped when the tests are not beside this script).
  const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'Ghostie.Sync.Handoff.Tests', 'Fixtures');
  for (const v of [1, 2]) {
    const file = path.join(fixtures, `package-v${v}.json`);
    if (!fs.existsSync(file)) { console.log(`note ${file} not found: committed packages not read`); continue; }
    const r = readPackageJson(fs.readFileSync(file), file);
    const a = r.package.agents[0];
    ok(`package json: committed v${v} package reads as version ${v}`, r.package.schema_version === v && r.schema_version_needed === v, `${r.package.schema_version} ${r.schema_version_needed}`);
    ok(`package json: committed v${v} agents read the v3 fields at their defaults`, a.kind === '' && a.status === '' && a.permission_mode === null
      && a.working_directory === null && a.todos.length === 0 && a.project_instructions.length === 0 && (v === 2 ? a.checkpoint !== null : a.checkpoint === null));
    ok(`package json: committed v${v} last_user_turn reads as null`, r.package.reconstruction.resumption_point.last_user_turn === null);
    ok(`package json: committed v${v} vectors decode to the set's dimensions`, r.vectors.length > 0 && r.vectors.every((x) => x.length === r.package.embeddings.dimensions));
  }

  const v3 = readPackageJson(j(pkg(3, [agent({ kind: 'main', status: 'active', permission_mode: 'plan', todos: [{ content: 'x', status: 'pending', active_form: null }] })],
    { embeddings: { model: 'm', dimensions: 3, entries: [{ id: 'e', vector: vec(0.5, -2, 3.4028234663852886e38) }] } })), 'kat');
  ok('package json: v3 fields read as written', v3.package.agents[0].permission_mode === 'plan' && v3.package.agents[0].todos[0].content === 'x' && v3.schema_version_needed === 3);
  ok('package json: vector decoded from little-endian float32', JSON.stringify(v3.vectors) === JSON.stringify([[0.5, -2, 3.4028234663852886e38]]), JSON.stringify(v3.vectors));
  ok('package json: a pointer alone needs version 2', readPackageJson(j(pkg(3, [agent({ checkpoint: pointer })])), 'kat').schema_version_needed === 2);
  ok('package json: project instructions need version 3', readPackageJson(j(pkg(2, [agent({ project_instructions: [{ path: 'CLAUDE.md', text: 't' }] })])), 'kat').schema_version_needed === 3);
  refuses('package json: schema_version 4 is unsupported', 'unsupported', () => readPackageJson(j(pkg(4, [])), 'kat'));
  refuses('package json: schema_version 0 (no migration) is unsupported', 'unsupported', () => readPackageJson(j(pkg(0, [])), 'kat'));
  refuses('package json: schema_version "3" is integrity', 'integrity', () => readPackageJson(j(pkg('3', [])), 'kat'));
  refuses('package json: no schema_version is integrity', 'integrity', () => readPackageJson(j({ package_id: 'x' }), 'kat'));
  refuses('package json: checkpoint sequence 0', 'integrity', () => readPackageJson(j(pkg(2, [agent({ checkpoint: { ...pointer, sequence: 0 } })])), 'kat'));
  refuses('package json: checkpoint store empty', 'integrity', () => readPackageJson(j(pkg(2, [agent({ checkpoint: { ...pointer, store: '' } })])), 'kat'));
  refuses('package json: checkpoint state_sha256 uppercase', 'integrity', () => readPackageJson(j(pkg(2, [agent({ checkpoint: { ...pointer, state_sha256: 'AB'.repeat(32) } })])), 'kat'));
  refuses('package json: vector of other dimensions', 'integrity', () => readPackageJson(j(pkg(1, [], { embeddings: { model: 'm', dimensions: 2, entries: [{ id: 'e', vector: vec(1, 2, 3) }] } })), 'kat'));
  refuses('package json: vector of 6 bytes', 'integrity', () => readPackageJson(j(pkg(1, [], { embeddings: { model: 'm', dimensions: 1, entries: [{ id: 'e', vector: 'AAAAAAAA' }] } })), 'kat'));
  refuses('package json: vector not base64', 'integrity', () => readPackageJson(j(pkg(1, [], { embeddings: { model: 'm', dimensions: 1, entries: [{ id: 'e', vector: 'AA-A' }] } })), 'kat'));
}

function readHandoff(repo, keys, name) {
  const m = DEVICE_OBJECT_RE.exec(name);
  const pt = openEnvelope(keys, name, repo.read(name), KIND.handoff).plaintext;
  if (pt.length < 5) throw integrity(name, 'handoff package too short');
  if (pt[0] === 0) throw integrity(name, 'handoff layout version 00');
  if (pt[0] > 1) throw unsupported(name, `unsupported handoff layout v${pt[0]}; this version reads up to v1`);
  const L = pt.readUInt32BE(1);
  if (5 + L > pt.length) throw integrity(name, 'manifest length exceeds the package');
  const manifest = parseJson(pt.subarray(5, 5 + L), name, 'manifest');
  if (manifest.format > 1) throw unsupported(name, `unsupported manifest format ${manifest.format}`);
  if (manifest.package_id !== m[3]) throw integrity(name, 'manifest package_id differs from the name');
  const tagInput = manifest.target_device_id == null ? Buffer.from([0x00, 0x61, 0x6e, 0x79]) : Buffer.from(manifest.target_device_id, 'utf8');
  if (derivedName(keys.NK, '', 'handoff-recipient', tagInput) !== m[2]) throw integrity(name, 'recipient tag is not the derived tag of target_device_id');
  const json = brotli(pt.subarray(5 + L), name, manifest.json_bytes + 1);
  if (json.length !== manifest.json_bytes) throw integrity(name, `package JSON of ${json.length} bytes, the manifest says ${manifest.json_bytes}`);
  const read = readPackageJson(json, name);
  const pkg = read.package;
  if (pkg.package_id !== m[3]) throw integrity(name, 'package JSON package_id differs from the name');
  if (manifest.schema_version !== pkg.schema_version) throw integrity(name, `manifest schema_version ${manifest.schema_version}, the package JSON's is ${pkg.schema_version}`);
  if (manifest.agents !== pkg.agents.length) throw integrity(name, `manifest counts ${manifest.agents} agents, the package has ${pkg.agents.length}`);
  if (manifest.embeddings !== read.vectors.length) throw integrity(name, `manifest counts ${manifest.embeddings} embeddings, the package has ${read.vectors.length}`);
  // The listing path: the manifest read from the first chunk alone must be the same authentic manifest.
  const first = openFirstChunk(keys, name, repo.readPrefix(name, 48 + 65536 + 16), repo.size(name), KIND.handoff);
  if (!first.subarray(0, 5 + L).equals(pt.subarray(0, 5 + L))) throw integrity(name, 'first-chunk manifest differs');
  return { manifest, ...read };
}

function dump(root, opts, all, write) {
  const { repo, keys } = openRepository(root, opts);
  if (all) {
    write({ type: 'repository', repository_id: keys.R.toString('hex'), unlocked_with: keys.keyFile ?? 'key cache' });
    for (const name of repo.list('keys').filter((n) => KEYFILE_RE.test(n))) {
      let kf;
      try { kf = parseKeyFile(repo.read(name), name); } catch { write({ type: 'key_file', name, parsed: false }); continue; }
      if (!kf.R.equals(keys.R)) { write({ type: 'key_file', name, other_repository: true }); continue; }
      const meta = parseKeyMetadata(openEnvelope(keys, name, kf.metadata, KIND.keyMeta).plaintext, name);
      write({ type: 'key_file', name, kdf: kf.kdf.name, iterations: kf.iterations, ...(kf.kdf.m ? { memory_kib: kf.kdf.m } : {}), ...meta });
    }
    const current = currentEpoch(keys.epochs);
    for (const e of keys.epochs.values()) {
      write({ type: 'epoch', id: e.id.toString(16).padStart(8, '0'), created: new Date(e.created).toISOString(), current: e === current });
    }
  }
  const state = readSyncState(repo, keys);
  if (all) for (const d of state.devices) write({ type: 'device', ...d });
  for (const m of state.memories) {
    if (all) {
      const hashes = m.versions.map((v) => (v.d ? v.h === 'deleted' : v.h === canonicalHash(v.r)));
      write({ type: 'memory', id: m.id, deleted: m.winner.d === true, conflict: m.versions.length > 1, hashes_match: hashes.every(Boolean), record: m.winner.r, versions: m.versions });
    }
    else if (!m.winner.d) write(m.winner.r);
  }
  if (all) {
    for (const name of repo.list('x').filter((n) => DEVICE_OBJECT_RE.test(n))) write({ type: 'handoff', name, ...readHandoff(repo, keys, name) });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Self-test: the published vectors of format.md, rebuilt from their inputs; then the reader's refusals.

const KAT = {
  R: range(0x00, 16), M: range(0x40, 32), E: range(0x80, 32), epoch: 0x01020304, epochCreated: 1780000000000,
  salt: range(0xa0, 32), name: 'packs/kat', short: ascii('Ghostie.Sync known-answer test'),
  long: Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251)),
  pk1: '84e6a9e7a206f25586435ef7fa6321f467a1ad242bb95dfabe48741f248580a0',
  k1: '17073a7716948183aba5012c9b56b0c2b98d18f711c4eabcf3b9f8fa90a97920',
  pk2: 'a806be196efe9c2cd7a8a7b1529d48b3ce9aab6158288c249f92e105bfe69432',
  k2: '03e88b809067a40d3fbae687981b7ca14b94543aafdb76bbcad72c3c87a61aee',
  pk0: 'fe1769a2cbe86ff4d072f6a45083a34efae3655a3e4d2f9f9b7cf1ef0b9c0b40',
  kEpoch: '1abf8dc0643dc20c88852dca39f95a4045548ee04902c8e9dc83c5aa2bb39ef2',
  kMeta: 'd06dc62d4b96ecc29c4add15e480ddfc373fe6cd0b6c376e71288bc8f75a082a',
  nk: '713fd5ac350fdaabc33b9b7afa66204924f42e0106c81547a92fa3bd59b55e1a',
  derived: 'd/tp6hes4thvv3fplz7yeujwky5mqq44zm',
  v1Short1: `4748534f0101101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf
    c2822783fd9f0b9c40141fb86b400eddc9eac54d425b0fde4928028d0625
    50bf40078dfeadfdd28e82ea8036e40a`,
  v1Short2: `4748534f0102301001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf
    30e3cd9edf86b53afed99a32a2955cbe08d5b7422a15f7072845cb9fc601
    22cad7764c5cc74eb6c05cbe7e3dac8b`,
  v1Empty: `4748534f0101101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf
    19b8e71d5e452065d406920542ba67b6`,
  v1LongHeader: '4748534f0101100a01020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf',
  v1LongSha: 'bfa97d19d8f676e71ce42ddf45804736837ecee4f1c86b57237ff24b1f600533',
  v1LongTags: ['02b6b4dfacc61898bb3f9393b92fe10b', 'e2d9a6ae63dafd9197a533c108bb8b2a', '417c818538322cebe5496f4f431343da'],
  epochObject: `4748534f0101021000000000303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f
    2e492939e517ae94c6bed8ba4141f8579cb4fe58b016191e0675ff2b5a14700d1b4167bf6ccd4025c7413c3ae0354d
    965bda0755c4b09646f91988a0bc`,
  passphrase: 'correct horse battery staple', keyFileName: 'keys/00112233aabbccdd',
  D: '1bfc73bc415e0dcb3eb245e6119fc13f5ded1a810cef42caa0fac6b3bbebef48',
  wrap: '2005f5bb907442c46afa394ee8b57f4a9ed49eb3afc9317081892942f93a7108',
  check: '50d59bebc53c0ef38785bed715d96b16',
  keyFile: `4748534b01010000000927c020c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf
    000102030405060708090a0b0c0d0e0f
    50d59bebc53c0ef38785bed715d96b16
    e0e1e2e3e4e5e6e7e8e9eaeb
    4584d097e6905897c02f7d2617ff7b21ce3a015b3c6e81ee70632434cd730549
    ec55e1ec37ee4f0a8e7c964a692315d7
    0000004d
    4748534f0101011000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f
    fdc07feb3748df1a38dd0a663988303755d32d0f257118bf4b7730d1a4d1f23e43`,
  nfcD: '4b6080321d767fc5345ed1393296ade53e60405a63f4c11c76e68f79a5861ed2',
  nfcCheck: 'dafab28a6f3c2de3f5a92c5996cee340',
  sk1: 'b260c9c30a1514d451f45bacb9da6daa042ed782f9a25634de0dbeaf4f3069e7',
  sk2: 'aeb9314ec8b8739b0e0ae1b9fc2681db5fff60824d79055c611f4e2b055b657e',
  v2Short1: `4748534f0201101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00000005
    94d625cae8bbe0d3375b072224eb297284e0a8bf1fff2c103056aaedc956
    a102e007387340a15af55112fe0d01a4`,
  v2Short2: `4748534f0202301001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00000005
    c2bee2fa27dd44ec7f17035c4082aeef7d789d162ff186d822cc0787a1ab
    dc731d4658bf65f06d4cbf0e8ed45df3`,
  v2Empty: `4748534f0201101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00000006
    aeb705c389f5dbbe13f5c2ea16ca7f7c`,
  v2LongHeader: '4748534f0201100a01020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf0a0b0c0d',
  v2LongSha: '0d680ba847df303528ec1547ca039436e31eb1cf15cd0fec744d5ac4b2f5105c',
  v2LongNonces: ['0a0b0c0d0000000000000000', '0a0b0c0d0000000000000100', '0a0b0c0d0000000000000201'],
  v2LongTags: ['2be99c53e01839a08086d62aebd81944', '27c219c602f9e20e7f6fbb65113063da', '95565c9e9b0d8652ca3efefdf5234420'],
  // Format v3 (padded): size, header, SHA-256 of the whole object, tags.
  v3Short1Header: '4748534f0301101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00000005',
  v3Short1Sha: 'e61c8af78bfd0a980f45bc1739640c75e07704133681d2a21cad5e5ff1d4d1fa', v3Short1Tag: '54f3d5b14db13b0fec1c82121dbe8ffb',
  v3Short2Sha: 'f51439a9d9aa8b5b3fde6c63651e039204c89b36e36cacafac7de47a58d91ff7', v3Short2Tag: '0269c96aa0dbc0f1c5141c74ee98b2e6',
  v3EmptySha: '3492271f00a3bd9292fa6ae9ea66a9edb48d2a5eabb1374bc0a509fdadf82db0', v3EmptyTag: 'eee27427e609b9beab8d4602813cdd1f',
  v3LongHeader: '4748534f0301100a01020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf0a0b0c0d',
  v3LongSha: '3e2c3c50ee516399f80349fbac54b981560ca10f38c3ce3b7f7f272179be7335',
  v3LongTags: ['1bb62b8babdcec8e823a522071d3d544', '179dae1e493d37207dd33f6f8b3bafda', '739c7bc32e8fee8f19af925eb507a4d3'],
  v3EpochHeader: '4748534f0301021000000000303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f00000000',
  v3EpochSha: 'd6e7e5e9277957d6b97267251bd51c69679f8c4d3c702efe1be9be5f6f125380',
  v3KeyFileSha: 'c4612d21827be998ce4d89464c6716a388cd85e8e2020a95f1f5b652a00462f3',
};

function selfTest() {
  let failures = 0; let count = 0;
  const ok = (label, cond, detail = '') => {
    count++;
    if (cond) console.log(`ok   ${label}`);
    else { failures++; console.log(`FAIL ${label}${detail ? `: ${detail}` : ''}`); }
  };
  const eqHex = (label, actual, expected) => {
    const a = Buffer.isBuffer(actual) ? actual.toString('hex') : actual;
    const e = expected.replace(/\s+/g, '');
    ok(label, a === e, `got ${a}, expected ${e}`);
  };
  const refuses = (label, kind, fn) => {
    try { fn(); ok(label, false, `accepted, expected ${kind}`); } catch (e) {
      ok(label, e instanceof ReadError && e.kind === kind, `got ${e instanceof ReadError ? e.kind : e}, expected ${kind}`);
    }
  };

  // The hex above must be the hex of the document (skipped when the document is not beside this script).
  const docPath = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'format.md');
  if (fs.existsSync(docPath)) {
    const doc = fs.readFileSync(docPath, 'utf8').replace(/\s+/g, '');
    for (const [k, v] of Object.entries(KAT)) {
      const values = Array.isArray(v) ? v : [v];
      for (const s of values) if (typeof s === 'string' && /^[0-9a-f\s]{24,}$/.test(s)) ok(`vector ${k} is written in format.md`, doc.includes(s.replace(/\s+/g, '')));
    }
  } else console.log('note docs/format.md not found beside the script: vectors not compared with the document');

  // Primitives against node's own HKDF, and base32 against RFC 4648.
  const ikm = range(1, 40); const salt = range(7, 13);
  eqHex('HKDF by hand equals crypto.hkdfSync', hkdf(ikm, salt, 'info', 80), Buffer.from(crypto.hkdfSync('sha256', ikm, salt, ascii('info'), 80)).toString('hex'));
  ok('base32lower("foobar") = mzxw6ytboi (RFC 4648)', base32lower(ascii('foobar')) === 'mzxw6ytboi');

  // Derived keys.
  const keys = { R: KAT.R, M: KAT.M, epochs: new Map([[KAT.epoch, { id: KAT.epoch, created: KAT.epochCreated, key: KAT.E }]]) };
  eqHex('PK(epoch, suite 1)', purposeKey(KAT.E, KAT.R, 1), KAT.pk1);
  eqHex('K (suite 1)', objectKey(purposeKey(KAT.E, KAT.R, 1), KAT.salt), KAT.k1);
  eqHex('PK(epoch, suite 2)', purposeKey(KAT.E, KAT.R, 2), KAT.pk2);
  eqHex('K (suite 2)', objectKey(purposeKey(KAT.E, KAT.R, 2), KAT.salt), KAT.k2);
  eqHex('PK(0, suite 1) from M', purposeKey(KAT.M, KAT.R, 1), KAT.pk0);
  eqHex('K of the epoch object', objectKey(purposeKey(KAT.M, KAT.R, 1), range(0x30, 32)), KAT.kEpoch);
  eqHex('K of the key file metadata', objectKey(purposeKey(KAT.M, KAT.R, 1), range(0x10, 32)), KAT.kMeta);
  eqHex('NK', namesKey(KAT.M, KAT.R), KAT.nk);
  ok('derived name d/ device-prefix pixel9-pro-xl-termux', derivedName(namesKey(KAT.M, KAT.R), 'd/', 'device-prefix', Buffer.from('pixel9-pro-xl-termux')) === KAT.derived);
  eqHex('SK (suite 1)', sessionKey(purposeKey(KAT.E, KAT.R, 1), KAT.salt), KAT.sk1);
  eqHex('SK (suite 2)', sessionKey(purposeKey(KAT.E, KAT.R, 2), KAT.salt), KAT.sk2);

  // Sealed objects, rebuilt byte for byte, then opened back.
  const p = { shift: 16, epoch: KAT.epoch, salt: KAT.salt };
  const cases = [
    ['v1 short, suite 1, pack', { ...p, version: 1, suite: 1, kind: KIND.pack }, KAT.short, KAT.v1Short1],
    ['v1 short, suite 2, vector data', { ...p, version: 1, suite: 2, kind: KIND.vectors }, KAT.short, KAT.v1Short2],
    ['v1 empty, suite 1, pack', { ...p, version: 1, suite: 1, kind: KIND.pack }, Buffer.alloc(0), KAT.v1Empty],
    ['v2 short, suite 1, pack, counter 5', { ...p, version: 2, suite: 1, kind: KIND.pack, counter: 5 }, KAT.short, KAT.v2Short1],
    ['v2 short, suite 2, vector data, counter 5', { ...p, version: 2, suite: 2, kind: KIND.vectors, counter: 5 }, KAT.short, KAT.v2Short2],
    ['v2 empty, suite 1, pack, counter 6', { ...p, version: 2, suite: 1, kind: KIND.pack, counter: 6 }, Buffer.alloc(0), KAT.v2Empty],
  ];
  for (const [label, params, pt, expected] of cases) {
    eqHex(`seal ${label}`, sealEnvelope(keys, params, pt, KAT.name), expected);
    const opened = openEnvelope(keys, KAT.name, hex(expected), params.kind).plaintext;
    ok(`open ${label}`, opened.equals(pt));
  }
  const longCases = [
    ['v1', { version: 1, suite: 1, kind: KIND.pack, shift: 10, epoch: KAT.epoch, salt: KAT.salt }, 2592, KAT.v1LongHeader, KAT.v1LongSha, KAT.v1LongTags, null],
    ['v2', { version: 2, suite: 1, kind: KIND.pack, shift: 10, epoch: KAT.epoch, salt: KAT.salt, counter: 0x0a0b0c0d }, 2596, KAT.v2LongHeader, KAT.v2LongSha, KAT.v2LongTags, KAT.v2LongNonces],
    ['v3', { version: 3, suite: 1, kind: KIND.pack, shift: 10, epoch: KAT.epoch, salt: KAT.salt, counter: 0x0a0b0c0d }, 2656, KAT.v3LongHeader, KAT.v3LongSha, KAT.v3LongTags, KAT.v2LongNonces],
  ];
  const sealedLong = {};
  for (const [v, params, size, header, digest, tags, nonces] of longCases) {
    const sealed = sealEnvelope(keys, params, KAT.long, KAT.name);
    sealedLong[v] = sealed;
    const H = params.version >= 2 ? 48 : 44;
    ok(`${v} long: ${size} bytes`, sealed.length === size, `got ${sealed.length}`);
    eqHex(`${v} long: header`, sealed.subarray(0, H), header);
    eqHex(`${v} long: SHA-256`, sha256(sealed), digest);
    const chunks = pieces(sealed.subarray(H), 1024, KAT.name);
    tags.forEach((t, i) => eqHex(`${v} long: tag of chunk ${i}`, chunks[i].subarray(chunks[i].length - 16), t));
    const lastContent = params.version === 3 ? 512 : 452; // v3: 2,560 bytes of content
    ok(`${v} long: last chunk holds ${lastContent} bytes`, chunks[2].length === lastContent + 16);
    if (nonces) nonces.forEach((n, i) => eqHex(`${v} long: nonce of chunk ${i}`, nonceV2(params.counter, i, i === 2), n));
    ok(`${v} long: opens`, openEnvelope(keys, KAT.name, sealed, KIND.pack).plaintext.equals(KAT.long));
  }

  // Epoch object and key file.
  const epochRecord = Buffer.concat([Buffer.from([1]), u32(KAT.epoch), i64(KAT.epochCreated), KAT.E]);
  eqHex('epoch object epochs/01020304', sealEnvelope(keys, { version: 1, suite: 1, kind: KIND.epoch, shift: 16, epoch: 0, salt: range(0x30, 32) }, epochRecord, 'epochs/01020304'), KAT.epochObject);
  const rec = parseEpochRecord(openEnvelope(keys, 'epochs/01020304', hex(KAT.epochObject), KIND.epoch).plaintext, 'epochs/01020304', KAT.epoch);
  ok('epoch record opens: id, time, key', rec.id === KAT.epoch && rec.created === KAT.epochCreated && rec.key.equals(KAT.E));
  const pkd = passphraseKeys(KAT.passphrase, range(0xc0, 32), 600000);
  eqHex('key file D', pkd.D, KAT.D);
  eqHex('key file wrap', pkd.wrap, KAT.wrap);
  eqHex('key file check', pkd.check, KAT.check);
  const kfHead = Buffer.concat([ascii('GHSK'), Buffer.from([1, 1, 0, 0]), u32(600000), Buffer.from([32]), range(0xc0, 32), KAT.R, pkd.check]);
  const wrapCipher = crypto.createCipheriv('aes-256-gcm', pkd.wrap, range(0xe0, 12), { authTagLength: 16 });
  wrapCipher.setAAD(kfHead);
  const wrapped = Buffer.concat([wrapCipher.update(KAT.M), wrapCipher.final()]);
  const meta = sealEnvelope(keys, { version: 1, suite: 1, kind: KIND.keyMeta, shift: 16, epoch: 0, salt: range(0x10, 32) },
    Buffer.concat([i64(KAT.epochCreated), u16(7), ascii('primary')]), KAT.keyFileName);
  const keyFile = Buffer.concat([kfHead, range(0xe0, 12), wrapped, wrapCipher.getAuthTag(), u32(meta.length), meta]);
  eqHex('key file keys/00112233aabbccdd', keyFile, KAT.keyFile);
  const kf = parseKeyFile(hex(KAT.keyFile), KAT.keyFileName);
  ok('key file unwraps M', Buffer.from(unwrapKeyFile(kf, KAT.passphrase, KAT.keyFileName)).equals(KAT.M));
  const md = parseKeyMetadata(openEnvelope(keys, KAT.keyFileName, kf.metadata, KIND.keyMeta).plaintext, KAT.keyFileName);
  ok('key file metadata: label primary', md.label === 'primary' && md.created === new Date(KAT.epochCreated).toISOString());
  const nfd = passphraseKeys('cafe\u0301', range(0xc0, 32), 1000); const nfc = passphraseKeys('caf\u00e9', range(0xc0, 32), 1000);
  eqHex('NFC: decomposed café gives D', nfd.D, KAT.nfcD);
  eqHex('NFC: composed café gives D', nfc.D, KAT.nfcD);
  eqHex('NFC: check', nfc.check, KAT.nfcCheck);

  // Key file v2 (Argon2id): format.md "Test vectors, key file v2 (Argon2id)".
  const a2kdf = { name: 'argon2id', m: 256, t: 2, p: 1 };
  if (!nobleArgon2id) ok('@noble/hashes is installed (npm ci --prefix tests/interop), for the Argon2id vector', false);
  else {
    const a2 = passphraseKeys(KAT.passphrase, range(0xc0, 16), a2kdf);
    eqHex('Argon2id key file D', a2.D, '4a20815560ddec13e0665331b9032b180ef8fa0f22001df55ebd9ff7e60af4b3');
    eqHex('Argon2id key file wrap', a2.wrap, 'd338734cb0ced8f34faca21838540811df015b36e1c188f7e1cf33bd59bcbaf9');
    eqHex('Argon2id key file check', a2.check, 'cac40ab9d50acf8b35e09c2f99c02ec8');
    const a2Head = Buffer.concat([ascii('GHSK'), Buffer.from([2, 2, 0, 0]), u32(256), u32(2), u32(1), Buffer.from([16]), range(0xc0, 16), KAT.R, a2.check]);
    const a2Cipher = crypto.createCipheriv('aes-256-gcm', a2.wrap, range(0xe0, 12), { authTagLength: 16 });
    a2Cipher.setAAD(a2Head);
    const a2Wrapped = Buffer.concat([a2Cipher.update(KAT.M), a2Cipher.final()]);
    const a2File = Buffer.concat([a2Head, range(0xe0, 12), a2Wrapped, a2Cipher.getAuthTag(), u32(meta.length), meta]);
    eqHex('Argon2id key file keys/00112233aabbccdd (v2)', a2File, '4748534b0202000000000100000000020000000110c0c1c2c3c4c5c6c7c8c9cacbcccdcecf'
      + '000102030405060708090a0b0c0d0e0fcac40ab9d50acf8b35e09c2f99c02ec8e0e1e2e3e4e5e6e7e8e9eaeb'
      + '3bb734841e98af5b6d1759558d6d0112602a7b919d9565275841291d7d1d9a0a8056f758b73fb664e11b11657349fc830000004d'
      + '4748534f0101011000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f'
      + 'fdc07feb3748df1a38dd0a663988303755d32d0f257118bf4b7730d1a4d1f23e43');
    if (fs.existsSync(docPath)) {
      const doc = fs.readFileSync(docPath, 'utf8').replace(/\s+/g, '');
      ok('Argon2id key file vector is written in format.md', doc.includes(a2File.toString('hex')) && doc.includes(a2.D.toString('hex')));
    }
    const a2kf = parseKeyFile(a2File, KAT.keyFileName);
    ok('Argon2id key file unwraps M', Buffer.from(unwrapKeyFile(a2kf, KAT.passphrase, KAT.keyFileName)).equals(KAT.M));
    ok('Argon2id key file: wrong passphrase', unwrapKeyFile(a2kf, `${KAT.passphrase}!`, KAT.keyFileName) === 'wrong');
    for (const [off, val, what] of [[8, 104_857_600, 'memory 100 GiB'], [8, 7, 'memory 7 KiB'], [12, 0xffffffff, '2^32-1 passes'], [12, 0, '0 passes'], [16, 4, 'parallelism 4']]) {
      refuses(`Argon2id key file: ${what} refused before deriving`, 'integrity', () => parseKeyFile(Buffer.concat([a2File.subarray(0, off), u32(val), a2File.subarray(off + 4)]), KAT.keyFileName));
    }
    refuses('Argon2id key file: 1 GiB times 5 passes', 'integrity', () => parseKeyFile(Buffer.concat([a2File.subarray(0, 8), u32(1_048_576), u32(5), a2File.subarray(16)]), KAT.keyFileName));
    refuses('Argon2id key file: KDF id 1 in a v2 key file', 'unsupported', () => parseKeyFile(Buffer.concat([a2File.subarray(0, 5), Buffer.from([1]), a2File.subarray(6)]), KAT.keyFileName));
  }

  // Format v3: buckets, the short, empty, epoch and key file vectors.
  for (const [n, t] of [[0, 1024], [30, 1024], [1016, 1024], [1017, 1088], [2500, 2560], [65536, 67584]]) ok(`v3 bucket of a ${n}-byte payload is ${t}`, bucket(n + 8) === t);
  const v3Cases = [
    ['v3 short, suite 1, pack, counter 5', { ...p, version: 3, suite: 1, kind: KIND.pack, counter: 5 }, KAT.short, KAT.v3Short1Sha, KAT.v3Short1Tag],
    ['v3 short, suite 2, vector data, counter 5', { ...p, version: 3, suite: 2, kind: KIND.vectors, counter: 5 }, KAT.short, KAT.v3Short2Sha, KAT.v3Short2Tag],
    ['v3 empty, suite 1, pack, counter 6', { ...p, version: 3, suite: 1, kind: KIND.pack, counter: 6 }, Buffer.alloc(0), KAT.v3EmptySha, KAT.v3EmptyTag],
  ];
  const v3Sealed = [];
  for (const [label, params, pt, digest, tag] of v3Cases) {
    const sealed = sealEnvelope(keys, params, pt, KAT.name);
    v3Sealed.push(sealed);
    ok(`${label}: 1,088 bytes`, sealed.length === 1088, `got ${sealed.length}`);
    eqHex(`${label}: SHA-256`, sha256(sealed), digest);
    eqHex(`${label}: tag`, sealed.subarray(sealed.length - 16), tag);
    ok(`${label}: opens`, openEnvelope(keys, KAT.name, sealed, params.kind).plaintext.equals(pt));
  }
  const v3 = v3Sealed[0];
  eqHex('v3 short: header', v3.subarray(0, 48), KAT.v3Short1Header);
  const v3Epoch = sealEnvelope(keys, { version: 3, suite: 1, kind: KIND.epoch, shift: 16, epoch: 0, salt: range(0x30, 32) }, epochRecord, 'epochs/01020304');
  ok('v3 epoch object: 1,088 bytes', v3Epoch.length === 1088);
  eqHex('v3 epoch object: header', v3Epoch.subarray(0, 48), KAT.v3EpochHeader);
  eqHex('v3 epoch object: SHA-256', sha256(v3Epoch), KAT.v3EpochSha);
  const meta3 = sealEnvelope(keys, { version: 3, suite: 1, kind: KIND.keyMeta, shift: 16, epoch: 0, salt: range(0x10, 32), counter: 0 },
    Buffer.concat([i64(KAT.epochCreated), u16(7), ascii('primary')]), KAT.keyFileName);
  const keyFile3 = Buffer.concat([kfHead, range(0xe0, 12), wrapped, wrapCipher.getAuthTag(), u32(meta3.length), meta3]);
  ok('v3 key file: 1,229 bytes, metadata length 00000440', keyFile3.length === 1229 && keyFile3.readUInt32BE(137) === 0x440);
  eqHex('v3 key file: SHA-256', sha256(keyFile3), KAT.v3KeyFileSha);
  const md3 = parseKeyMetadata(openEnvelope(keys, KAT.keyFileName, parseKeyFile(keyFile3, KAT.keyFileName).metadata, KIND.keyMeta).plaintext, KAT.keyFileName);
  ok('v3 key file metadata: label primary', md3.label === 'primary');
  const v3With = (content) => sealEnvelope(keys, { ...p, version: 3, suite: 1, kind: KIND.pack, counter: 9, content }, null, KAT.name);
  const len8 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
  refuses('v3: content shorter than the length field', 'integrity', () => openEnvelope(keys, KAT.name, v3With(Buffer.alloc(7)), KIND.pack));
  refuses('v3: payload length beyond the content', 'integrity', () => openEnvelope(keys, KAT.name, v3With(Buffer.concat([KAT.short, Buffer.alloc(10), len8(41)])), KIND.pack));
  refuses('v3: non-zero padding', 'integrity', () => openEnvelope(keys, KAT.name, v3With(Buffer.concat([KAT.short, Buffer.from([0, 1]), Buffer.alloc(8), len8(30)])), KIND.pack));
  ok('v3: content padded to another size is accepted (buckets are not checked)', openEnvelope(keys, KAT.name, v3With(Buffer.concat([KAT.short, Buffer.alloc(3), len8(30)])), KIND.pack).plaintext.equals(KAT.short));
  ok('v3: first chunk alone of a one-chunk object gives the payload', openFirstChunk(keys, KAT.name, v3, v3.length, KIND.pack).equals(KAT.short));

  // Refusals of the envelope reader.
  const v1 = hex(KAT.v1Short1); const v2 = hex(KAT.v2Short1);
  const mutate = (buf, at, fn) => { const b = Buffer.from(buf); b[at] = fn(b[at]); return b; };
  const open = (buf, kind = KIND.pack, name = KAT.name, k = keys) => openEnvelope(k, name, buf, kind);
  for (const [v, buf] of [['v1', v1], ['v2', v2], ['v3', v3]]) {
    refuses(`${v}: flipped ciphertext bit`, 'integrity', () => open(mutate(buf, buf.length - 20, (x) => x ^ 1)));
    refuses(`${v}: flipped tag bit`, 'integrity', () => open(mutate(buf, buf.length - 1, (x) => x ^ 1)));
    refuses(`${v}: flipped salt bit`, 'integrity', () => open(mutate(buf, 20, (x) => x ^ 1)));
    refuses(`${v}: renamed`, 'integrity', () => open(buf, KIND.pack, 'packs/kau'));
    refuses(`${v}: another repository id`, 'integrity', () => open(buf, KIND.pack, KAT.name, { ...keys, R: range(1, 16) }));
    refuses(`${v}: expected another kind`, 'integrity', () => open(buf, KIND.head));
    refuses(`${v}: kind changed in the header`, 'integrity', () => open(mutate(buf, 6, () => KIND.head), KIND.head));
    refuses(`${v}: suite byte 2 on a suite 1 object`, 'integrity', () => open(mutate(buf, 5, () => 2)));
    refuses(`${v}: unknown suite 3`, 'unsupported', () => open(mutate(buf, 5, () => 3)));
    refuses(`${v}: chunk shift 9`, 'integrity', () => open(mutate(buf, 7, () => 9)));
    refuses(`${v}: chunk shift 25`, 'integrity', () => open(mutate(buf, 7, () => 25)));
    refuses(`${v}: bad magic`, 'integrity', () => open(mutate(buf, 0, () => 0x48)));
    refuses(`${v}: version 00`, 'integrity', () => open(mutate(buf, 4, () => 0)));
    refuses(`${v}: version 04`, 'unsupported', () => open(mutate(buf, 4, () => 4)));
    refuses(`${v}: version byte changed to another version`, 'integrity', () => open(mutate(buf, 4, (x) => (x % 3) + 1)));
    refuses(`${v}: epoch id 0 on a pack`, 'integrity', () => open(mutate(Buffer.from(buf), 8, () => 0).fill(0, 8, 12)));
    refuses(`${v}: unknown epoch`, 'unknown-epoch', () => open(mutate(buf, 11, () => 5)));
    refuses(`${v}: body removed (header only)`, 'integrity', () => open(buf.subarray(0, buf[4] >= 2 ? 48 : 44)));
    refuses(`${v}: cut inside the header`, 'integrity', () => open(buf.subarray(0, 40)));
    refuses(`${v}: last chunk cut to 15 bytes`, 'integrity', () => open(buf.subarray(0, (buf[4] >= 2 ? 48 : 44) + 15)));
    refuses(`${v}: one byte appended`, 'integrity', () => open(Buffer.concat([buf, Buffer.from([0])])));
  }
  refuses('v2: counter changed in the header', 'integrity', () => open(mutate(v2, 47, (x) => x ^ 1)));
  for (const v of ['v1', 'v2', 'v3']) {
    const s = sealedLong[v]; const H = v === 'v1' ? 44 : 48; const P = 1024 + 16;
    const ch = [0, 1, 2].map((i) => s.subarray(H + i * P, Math.min(H + (i + 1) * P, s.length)));
    const head = s.subarray(0, H);
    refuses(`${v} long: chunks 0 and 1 swapped`, 'integrity', () => open(Buffer.concat([head, ch[1], ch[0], ch[2]])));
    refuses(`${v} long: truncated at a chunk boundary (last chunk dropped)`, 'integrity', () => open(Buffer.concat([head, ch[0], ch[1]])));
    refuses(`${v} long: middle chunk dropped`, 'integrity', () => open(Buffer.concat([head, ch[0], ch[2]])));
    refuses(`${v} long: chunk duplicated`, 'integrity', () => open(Buffer.concat([head, ch[0], ch[0], ch[1], ch[2]])));
  }
  // v2: a chunk moved between two objects of one session (same SK, other counter).
  const sA = sealEnvelope(keys, { version: 2, suite: 1, kind: KIND.pack, shift: 10, epoch: KAT.epoch, salt: KAT.salt, counter: 1 }, KAT.long, KAT.name);
  const sB = sealEnvelope(keys, { version: 2, suite: 1, kind: KIND.pack, shift: 10, epoch: KAT.epoch, salt: KAT.salt, counter: 2 }, KAT.long, KAT.name);
  refuses('v2: chunk 1 moved from another object of the session', 'integrity', () => open(Buffer.concat([sA.subarray(0, 48 + 1040), sB.subarray(48 + 1040, 48 + 2080), sA.subarray(48 + 2080)])));
  refuses('v2: header of another object of the session', 'integrity', () => open(Buffer.concat([sB.subarray(0, 48), sA.subarray(48)])));
  // An empty final chunk after full chunks is accepted (never written, but authentic).
  const full = sealEnvelope(keys, { version: 2, suite: 1, kind: KIND.pack, shift: 10, epoch: KAT.epoch, salt: KAT.salt, counter: 3 }, range(0, 1024), KAT.name);
  const skFull = sessionKey(purposeKey(KAT.E, KAT.R, 1), KAT.salt);
  const ad = associatedData(full.subarray(0, 48), KAT.R, KAT.name);
  const withEmpty = Buffer.concat([full.subarray(0, 48), aeadSeal(1, skFull, nonceV2(3, 0, false), range(0, 1024), ad), aeadSeal(1, skFull, nonceV2(3, 1, true), Buffer.alloc(0), ad)]);
  ok('empty final chunk after a full chunk is accepted', open(withEmpty).plaintext.equals(range(0, 1024)));
  ok('plaintext of exactly one chunk seals to one chunk', full.length === 48 + 1024 + 16 && open(full).plaintext.length === 1024);
  // Epoch/kind pairing on master-key kinds.
  const epochObj = hex(KAT.epochObject);
  refuses('epoch object with a non-zero epoch id', 'integrity', () => open(mutate(epochObj, 11, () => 4), KIND.epoch, 'epochs/01020304'));
  // Epoch records and key files.
  const recordName = 'epochs/01020304';
  const sealRecord = (r, name = recordName) => sealEnvelope(keys, { version: 2, suite: 1, kind: KIND.epoch, shift: 16, epoch: 0, salt: range(0x30, 32) }, r, name);
  refuses('epoch record naming another epoch', 'integrity', () => parseEpochRecord(open(sealRecord(epochRecord, 'epochs/01020305'), KIND.epoch, 'epochs/01020305').plaintext, 'epochs/01020305', 0x01020305));
  refuses('epoch record version 2', 'unsupported', () => parseEpochRecord(mutate(epochRecord, 0, () => 2), recordName, KAT.epoch));
  refuses('epoch record of 44 bytes', 'integrity', () => parseEpochRecord(epochRecord.subarray(0, 44), recordName, KAT.epoch));
  const kfBuf = hex(KAT.keyFile);
  refuses('key file: reserved byte set', 'integrity', () => parseKeyFile(mutate(kfBuf, 7, () => 1), KAT.keyFileName));
  refuses('key file: version 3', 'unsupported', () => parseKeyFile(mutate(kfBuf, 4, () => 3), KAT.keyFileName));
  refuses('key file: KDF id 2 in a v1 key file', 'unsupported', () => parseKeyFile(mutate(kfBuf, 5, () => 2), KAT.keyFileName));
  refuses('key file: 999 iterations', 'integrity', () => parseKeyFile(Buffer.concat([kfBuf.subarray(0, 8), u32(999), kfBuf.subarray(12)]), KAT.keyFileName));
  refuses('key file: salt length 15', 'integrity', () => parseKeyFile(mutate(kfBuf, 12, () => 15), KAT.keyFileName));
  refuses('key file: one byte appended', 'integrity', () => parseKeyFile(Buffer.concat([kfBuf, Buffer.from([0])]), KAT.keyFileName));
  refuses('key file metadata under another name', 'integrity', () => open(kf.metadata, KIND.keyMeta, 'keys/00112233aabbccde'));

  // The command line against repositories on disk: the published one (600,000 iterations) and cheap ones.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ghostie-interop-'));
  try {
    const put = (root, name, data) => { const f = path.join(root, ...name.split('/')); fs.mkdirSync(path.dirname(f), { recursive: true }); fs.writeFileSync(f, data); };
    const run = (args, passphrase) => spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args],
      { env: { ...process.env, GHOSTIE_PASSPHRASE: passphrase ?? '' }, encoding: 'utf8' });
    const published = path.join(tmp, 'published');
    put(published, KAT.keyFileName, hex(KAT.keyFile));
    put(published, 'epochs/01020304', epochObj);
    put(published, 'epochs/readme', ascii('ignored'));
    put(published, 'keys/readme', ascii('ignored'));
    put(published, 'packs/kat', v2);
    let r = run(['--repo', published, '--object', 'packs/kat', '--kind', '16'], KAT.passphrase);
    ok('cli: published repository opens the v2 short object', r.status === 0 && r.stdout === KAT.short.toString('latin1'), r.stderr);
    put(published, 'packs/kat', v3);
    r = run(['--repo', published, '--object', 'packs/kat', '--kind', '16'], KAT.passphrase);
    ok('cli: ... the v3 short object', r.status === 0 && r.stdout === KAT.short.toString('latin1'), r.stderr);
    put(published, 'packs/kat', v1);
    r = run(['--repo', published, '--object', 'packs/kat', '--kind', '16'], KAT.passphrase);
    ok('cli: ... and the v1 short object', r.status === 0 && r.stdout === KAT.short.toString('latin1'), r.stderr);
    const published3 = path.join(tmp, 'published3');
    put(published3, KAT.keyFileName, keyFile3);
    put(published3, 'epochs/01020304', v3Epoch);
    put(published3, 'packs/kat', v2);
    r = run(['--repo', published3, '--object', 'packs/kat', '--kind', '16'], KAT.passphrase);
    ok('cli: the v3 key file and v3 epoch object open a v2 object', r.status === 0 && r.stdout === KAT.short.toString('latin1'), r.stderr);
    r = run(['--repo', published, '--object', 'packs/kat', '--kind', '16'], 'Correct horse battery staple');
    ok('cli: wrong passphrase exits 2', r.status === 2, `${r.status} ${r.stderr}`);
    ok('cli: the passphrase is never printed', !(r.stdout + r.stderr).includes('orse battery'));
    put(published, 'packs/kat', mutate(v1, 50, (x) => x ^ 1));
    r = run(['--repo', published, '--object', 'packs/kat', '--kind', '16'], KAT.passphrase);
    ok('cli: tampered object exits 3 and names it', r.status === 3 && r.stderr.includes('packs/kat'), `${r.status} ${r.stderr}`);

    // Cheap repository: one key file of 1,000 iterations for the unlock-order cases.
    const cheapKeyFile = (passphrase, id, damage) => {
      const kdf = passphraseKeys(passphrase, range(0xc0, 32), 1000);
      const h = Buffer.concat([ascii('GHSK'), Buffer.from([1, 1, 0, 0]), u32(1000), Buffer.from([32]), range(0xc0, 32), KAT.R, kdf.check]);
      const c = crypto.createCipheriv('aes-256-gcm', kdf.wrap, range(0xe0, 12), { authTagLength: 16 }); c.setAAD(h);
      const w = Buffer.concat([c.update(KAT.M), c.final()]);
      const m = sealEnvelope(keys, { version: 2, suite: 1, kind: KIND.keyMeta, shift: 16, epoch: 0, salt: range(0x10, 32) }, Buffer.concat([i64(0), u16(1), ascii('x')]), `keys/${id}`);
      const out = Buffer.concat([h, range(0xe0, 12), w, c.getAuthTag(), u32(m.length), m]);
      if (damage) out[57 + 32] ^= 1; // inside the wrapped key
      return out;
    };
    const cheap = path.join(tmp, 'cheap');
    put(cheap, 'epochs/01020304', epochObj);
    put(cheap, 'packs/kat', v2);
    put(cheap, 'keys/0000000000000001', cheapKeyFile('one', '0000000000000001', true));
    put(cheap, 'keys/0000000000000002', cheapKeyFile('one', '0000000000000002', false));
    r = run(['--repo', cheap, '--object', 'packs/kat', '--kind', '16'], 'one');
    ok('cli: a damaged key file is skipped when a later one opens', r.status === 0, `${r.status} ${r.stderr}`);
    const otherRepository = Buffer.from(cheapKeyFile('one', '0000000000000003', false)); otherRepository[13 + 32] ^= 1; // another R
    put(cheap, 'keys/0000000000000003', otherRepository);
    r = run(['--repo', cheap, '--object', 'packs/kat', '--kind', '16'], 'one');
    ok('cli: key files of two repository ids are refused (exit 3)', r.status === 3 && r.stderr.includes('keys/0000000000000003'), `${r.status} ${r.stderr}`);
    fs.rmSync(path.join(cheap, 'keys', '0000000000000003'));
    fs.rmSync(path.join(cheap, 'keys', '0000000000000002'));
    r = run(['--repo', cheap, '--object', 'packs/kat', '--kind', '16'], 'one');
    ok('cli: right passphrase, damaged key file exits 3 (not 2)', r.status === 3 && r.stderr.includes('keys/0000000000000001'), `${r.status} ${r.stderr}`);
    r = run(['--repo', cheap, '--object', 'packs/kat', '--kind', '16'], 'two');
    ok('cli: wrong passphrase on that damaged file exits 2', r.status === 2, `${r.status} ${r.stderr}`);
    fs.writeFileSync(path.join(cheap, 'keys', '0000000000000001'), ascii('GHSK garbage'));
    r = run(['--repo', cheap, '--object', 'packs/kat', '--kind', '16'], 'one');
    ok('cli: no key file parses: first parse problem (exit 3)', r.status === 3, `${r.status} ${r.stderr}`);
    fs.rmSync(path.join(cheap, 'keys'), { recursive: true });
    r = run(['--repo', cheap, '--object', 'packs/kat', '--kind', '16'], 'one');
    ok('cli: no key file: no repository here (exit 6)', r.status === 6, `${r.status} ${r.stderr}`);
    put(cheap, 'keys/0000000000000002', cheapKeyFile('one', '0000000000000002', false));
    put(cheap, 'epochs/01020305', mutate(sealRecord(Buffer.concat([Buffer.from([1]), u32(0x01020305), i64(1), KAT.E]), 'epochs/01020305'), 60, (x) => x ^ 1));
    r = run(['--repo', cheap, '--object', 'packs/kat', '--kind', '16'], 'one');
    ok('cli: a damaged epoch object stops the unlock (exit 3, named)', r.status === 3 && r.stderr.includes('epochs/01020305'), `${r.status} ${r.stderr}`);
    fs.rmSync(path.join(cheap, 'epochs'), { recursive: true });
    r = run(['--repo', cheap, '--object', 'packs/kat', '--kind', '16'], 'one');
    ok('cli: object of an epoch with no epoch object: unknown epoch (exit 5)', r.status === 5, `${r.status} ${r.stderr}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  selfTestPackageJson(ok, refuses);

  console.log(`${count - failures}/${count} checks passed`);
  return failures === 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Command line.

function usage() {
  return `usage:
  node decrypt.mjs --self-test
  node decrypt.mjs --repo DIR --dump                 decrypted memories (the current version of each), one JSON line each
  node decrypt.mjs --repo DIR --dump-all             every object: key files, epochs, devices, memories with versions, handoffs
  node decrypt.mjs --repo DIR --object NAME --kind N [--out FILE]   one object's plaintext (N decimal: pack = 16)
options: --passphrase-env VAR (default GHOSTIE_PASSPHRASE; the passphrase is read only from the environment)
         --key-cache FILE    unlock with a device key cache (<home>/keys/master.key) instead of a passphrase
exit codes: 0 ok, 1 usage/other, 2 wrong passphrase, 3 integrity failure (tampered, truncated, moved, damaged),
            4 unsupported version, 5 unknown epoch, 6 no repository here`;
}

function main(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (['--self-test', '--dump', '--dump-all', '--help'].includes(a)) args[a.slice(2)] = true;
    else if (['--repo', '--object', '--kind', '--out', '--passphrase-env', '--key-cache'].includes(a) && i + 1 < argv.length) args[a.slice(2)] = argv[++i];
    else { console.error(`decrypt.mjs: unknown argument '${a}'\n${usage()}`); return EXIT.usage; }
  }
  if (args.help) { console.log(usage()); return 0; }
  if (args['self-test']) return selfTest();
  if (!args.repo || !(args.dump || args['dump-all'] || (args.object && args.kind))) { console.error(usage()); return EXIT.usage; }
  const envName = args['passphrase-env'] ?? 'GHOSTIE_PASSPHRASE';
  const passphrase = process.env[envName];
  if (!args['key-cache'] && !passphrase) { console.error(`decrypt.mjs: set ${envName} to the passphrase (or give --key-cache)`); return EXIT.usage; }
  const opts = { passphrase, keyCache: args['key-cache'] };
  try {
    if (args.object) {
      const kind = Number(args.kind);
      if (!Number.isInteger(kind) || kind < 0 || kind > 255) { console.error('decrypt.mjs: --kind is a decimal byte'); return EXIT.usage; }
      const { repo, keys } = openRepository(args.repo, opts);
      const { plaintext } = openEnvelope(keys, args.object, repo.read(args.object), kind);
      if (args.out) fs.writeFileSync(args.out, plaintext); else process.stdout.write(plaintext);
    } else {
      const lines = [];
      dump(args.repo, opts, !!args['dump-all'], (o) => lines.push(JSON.stringify(o)));
      process.stdout.write(lines.map((l) => `${l}\n`).join(''));
    }
    return 0;
  } catch (e) {
    if (e instanceof ReadError) { console.error(`decrypt.mjs: ${e.message}`); return EXIT[e.kind] ?? EXIT.usage; }
    if (e && e.code === 'ENOENT') { console.error(`decrypt.mjs: no such object: ${e.path}`); return EXIT.usage; }
    console.error(`decrypt.mjs: ${e && e.message ? e.message : e}`);
    return EXIT.usage;
  }
}

process.exitCode = main(process.argv.slice(2));
