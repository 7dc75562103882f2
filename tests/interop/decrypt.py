#!/usr/bin/python3
"""Independent decryptor for the Ghostie.Sync repository format (object envelopes v1, v2 and v3).

Written from docs/format.md alone (no look at the C# sources or tests); v2 support added later
from the v2 sections of the same document, v3 (padding) from its "Padding (envelope v3)" section,
key file v2 (Argon2id) from its "Key file" section and "Test vectors, key file v2 (Argon2id)".
Standard library + the `cryptography` package + `argon2-cffi` (Debian's python3-argon2, for Argon2id
key files only) only.

Usage:
  decrypt.py --repo DIR --object NAME --kind N [--out FILE]
  decrypt.py --self-test

The passphrase is read from the environment variable GHOSTIE_PASSPHRASE.

Exit codes: 0 ok; 1 usage / other error (including "no repository here" and
"unknown epoch"); 2 wrong passphrase; 3 integrity failure (tag failure,
truncation, wrong kind, broken epoch/kind pairing, malformed structure);
4 unsupported version / KDF / cipher suite.
"""

import argparse
import functools
import hashlib
import hmac
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

try:  # Argon2id (key file v2) from argon2-cffi, an implementation independent of libsodium's
    from argon2.low_level import Type as Argon2Type, hash_secret_raw as argon2_raw
except ImportError:  # pragma: no cover - only v1 (PBKDF2) key files can be opened then
    argon2_raw = None

# ---------------------------------------------------------------------------
# Errors

EXIT_OK, EXIT_OTHER, EXIT_WRONG_PASSPHRASE, EXIT_INTEGRITY, EXIT_UNSUPPORTED = 0, 1, 2, 3, 4


class GhostieError(Exception):
    code = EXIT_OTHER

    def __init__(self, obj, message):
        super().__init__("%s: %s" % (obj, message))
        self.obj = obj
        self.message = message


class WrongPassphrase(GhostieError):
    code = EXIT_WRONG_PASSPHRASE


class IntegrityError(GhostieError):
    code = EXIT_INTEGRITY


class Unsupported(GhostieError):
    code = EXIT_UNSUPPORTED


class UnknownEpoch(GhostieError):
    """The header names an epoch with no epoch object loaded: reload epochs, then retry."""
    code = EXIT_OTHER


class NoRepository(GhostieError):
    """No key file under keys/."""
    code = EXIT_OTHER


# ---------------------------------------------------------------------------
# Primitives (format.md "Conventions")

def hkdf_extract(salt, ikm):
    # PRK = HMAC-SHA256(salt, ikm): salt is the HMAC key.
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand(prk, info, length):
    if length > 255 * 32:
        raise ValueError("HKDF-Expand length too large")
    out, t, counter = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([counter]), hashlib.sha256).digest()
        out += t
        counter += 1
    return out[:length]


def hkdf(ikm, salt, info, length):
    return hkdf_expand(hkdf_extract(salt, ikm), info, length)


@functools.lru_cache(maxsize=64)
def pbkdf2(password, salt, iterations, length):
    return hashlib.pbkdf2_hmac("sha256", password, salt, iterations, length)


def argon2id(password, salt, t, m, p, length):
    """RFC 9106 Argon2id, version 0x13, no secret, no associated data; m in KiB."""
    if argon2_raw is None:
        raise GhostieError("keys/", "an Argon2id key file needs argon2-cffi (apt-get install python3-argon2)")
    return argon2_raw(password, salt, time_cost=t, memory_cost=m, parallelism=p, hash_len=length,
                      type=Argon2Type.ID, version=19)


def u16(n):
    return struct.pack(">H", n)


def u32(n):
    return struct.pack(">I", n)


def u64(n):
    return struct.pack(">Q", n)


def i64(n):
    return struct.pack(">q", n)


# ---------------------------------------------------------------------------
# Keys (format.md "Keys", "Nonces")

SUITE_AES = 1
SUITE_CHACHA = 2
PURPOSE_LABELS = {
    SUITE_AES: b"ghostie/v1/data/aes-256-gcm",
    SUITE_CHACHA: b"ghostie/v1/data/chacha20-poly1305",
}
OBJECT_INFO = b"ghostie/v1/object"
SESSION_INFO = b"ghostie/v2/session"
NAMES_INFO = b"ghostie/v1/names/hmac-sha256"
WRAP_INFO = b"ghostie/v1/keyfile/wrap"
CHECK_INFO = b"ghostie/v1/keyfile/check"


def purpose_key(epoch_key, repo_id, suite):
    """P(n, suite) = HKDF(ikm = E_n (or M for n = 0), salt = R, info = label(suite), 32)."""
    return hkdf(epoch_key, repo_id, PURPOSE_LABELS[suite], 32)


def object_key(pkey, object_salt):
    """K = HKDF(ikm = P(n, suite), salt = object salt, info = "ghostie/v1/object", 32)."""
    return hkdf(pkey, object_salt, OBJECT_INFO, 32)


def session_key(pkey, session_salt):
    """v2: SK = HKDF(ikm = P(n, suite), salt = session salt, info = "ghostie/v2/session", 32)."""
    return hkdf(pkey, session_salt, SESSION_INFO, 32)


def names_key(master, repo_id):
    return hkdf(master, repo_id, NAMES_INFO, 32)


def derived_name(nkey, prefix, purpose, data):
    """name = prefix || base32lower(HMAC-SHA256(N, UTF-8(purpose) || 0x00 || input)[0..20))."""
    import base64
    mac = hmac.new(nkey, purpose.encode("utf-8") + b"\x00" + data, hashlib.sha256).digest()[:20]
    return prefix + base64.b32encode(mac).decode("ascii").lower().rstrip("=")


def chunk_nonce(i, final):
    """v1: u64(i) || 00 00 00 || final flag."""
    return u64(i) + b"\x00\x00\x00" + (b"\x01" if final else b"\x00")


def chunk_nonce_v2(counter, i, final):
    """v2: u32(object counter) || chunk index as 7 bytes big-endian || final flag."""
    if i >= 1 << 56:
        raise ValueError("chunk index does not fit in 7 bytes")
    return u32(counter) + i.to_bytes(7, "big") + (b"\x01" if final else b"\x00")


def aead(suite, key):
    if suite == SUITE_AES:
        return AESGCM(key)
    if suite == SUITE_CHACHA:
        return ChaCha20Poly1305(key)
    raise ValueError("unknown suite %r" % suite)


# ---------------------------------------------------------------------------
# Object names (format.md "Storage names")

NAME_RE = re.compile(r"^[a-z0-9]+(/[a-z0-9]+)*$")


def valid_name(name):
    return 1 <= len(name) <= 64 and NAME_RE.match(name) is not None


# ---------------------------------------------------------------------------
# Object envelope (format.md "Object envelope")

MAGIC_OBJECT = b"GHSO"
FORMAT_VERSION = 3          # the highest envelope version this reader knows
HEADER_LEN = 44             # v1 header
HEADER_LEN_V2 = 48          # v2 and v3 header: the v1 fields (session salt in place of the object salt) + u32 counter
MIN_CONTENT = 1024          # v3: bucket(n) = max(1024, padme(n))
LENGTH_FIELD = 8            # v3: content = payload || zero bytes || u64(len(payload))
TAG_LEN = 16
KIND_KEYFILE_META = 1
KIND_EPOCH = 2
KINDS = {1: "key file metadata", 2: "key epoch", 16: "pack", 17: "head", 18: "snapshot",
         32: "handoff package", 48: "vector data", 255: "generic"}
MASTER_KINDS = (KIND_KEYFILE_META, KIND_EPOCH)  # the only kinds sealed under M (epoch id 0)


def build_header(suite, kind, shift, epoch_id, salt, version=1, counter=None):
    assert len(salt) == 32
    header = MAGIC_OBJECT + bytes([version, suite, kind, shift]) + u32(epoch_id) + salt
    return header if counter is None else header + u32(counter)


def associated_data(header, repo_id, name):
    nb = name.encode("ascii")
    return header + repo_id + u16(len(nb)) + nb


def seal_object(epoch_key, repo_id, name, kind, suite, shift, epoch_id, salt, plaintext):
    """Encrypt plaintext as an envelope. epoch_key is E_n, or M when epoch_id == 0.
    Deliberately does not enforce the reader's rules, so the self-test can build violating input."""
    header = build_header(suite, kind, shift, epoch_id, salt)
    key = object_key(purpose_key(epoch_key, repo_id, suite), salt)
    ad = associated_data(header, repo_id, name)
    c = 1 << shift
    pieces = [plaintext[i:i + c] for i in range(0, len(plaintext), c)] or [b""]
    cipher = aead(suite, key)
    out = [header]
    for i, piece in enumerate(pieces):
        out.append(cipher.encrypt(chunk_nonce(i, i == len(pieces) - 1), piece, ad))
    return b"".join(out)


def padme(n):
    """format.md "Padding (envelope v3)": n rounded up to a multiple of 2^(E - S), E = floor(log2 n),
    S = floor(log2 E) + 1."""
    e = n.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (n + mask) & ~mask


def bucket(n):
    return max(MIN_CONTENT, padme(n))


def v3_content(payload, content_len=None):
    """payload || zero bytes || u64(len(payload)), content_len bytes (default bucket(len + 8))."""
    t = bucket(len(payload) + LENGTH_FIELD) if content_len is None else content_len
    return payload + bytes(t - len(payload) - LENGTH_FIELD) + u64(len(payload))


def strip_v3(content, name):
    """The payload of a v3 content; integrity error if it is shorter than the length field, the length
    exceeds it, or the padding is not all zero."""
    if len(content) < LENGTH_FIELD:
        raise IntegrityError(name, "v3 content of %d bytes, shorter than the 8-byte length" % len(content))
    p = struct.unpack(">Q", content[-LENGTH_FIELD:])[0]
    if p > len(content) - LENGTH_FIELD:
        raise IntegrityError(name, "v3 payload length %d exceeds the content (%d bytes)" % (p, len(content)))
    if any(content[p:-LENGTH_FIELD]):
        raise IntegrityError(name, "v3 padding is not all zero")
    return content[:p]


def seal_object_v3(epoch_key, repo_id, name, kind, suite, shift, epoch_id, session_salt, counter, plaintext,
                   content=None):
    """Encrypt plaintext as a v3 envelope: the v2 construction over the padded content (or over
    `content` as given, to build malformed input)."""
    return seal_object_v2(epoch_key, repo_id, name, kind, suite, shift, epoch_id, session_salt, counter,
                          v3_content(plaintext) if content is None else content, version=3)


def seal_object_v2(epoch_key, repo_id, name, kind, suite, shift, epoch_id, session_salt, counter, plaintext,
                   version=2):
    """Encrypt plaintext as a v2 envelope (session salt and object counter given)."""
    header = build_header(suite, kind, shift, epoch_id, session_salt, version, counter)
    key = session_key(purpose_key(epoch_key, repo_id, suite), session_salt)
    ad = associated_data(header, repo_id, name)
    c = 1 << shift
    pieces = [plaintext[i:i + c] for i in range(0, len(plaintext), c)] or [b""]
    cipher = aead(suite, key)
    out = [header]
    for i, piece in enumerate(pieces):
        out.append(cipher.encrypt(chunk_nonce_v2(counter, i, i == len(pieces) - 1), piece, ad))
    return b"".join(out)


def parse_header(data, name, expected_kind):
    """Step 1 of "Decrypting an object": magic, version, suite, s, kind, epoch/kind pairing.
    The version is looked at before the length, since a newer format may lay out differently."""
    if len(data) < 5:
        raise IntegrityError(name, "truncated: %d bytes, shorter than the 44-byte header" % len(data))
    if data[0:4] != MAGIC_OBJECT:
        raise IntegrityError(name, "not an object envelope (bad magic %s)" % data[0:4].hex())
    version = data[4]
    if version > FORMAT_VERSION:
        raise Unsupported(name, "unsupported format v%d; this version reads up to v%d" % (version, FORMAT_VERSION))
    if version == 0:
        raise IntegrityError(name, "malformed header: format version %d" % version)
    header_len = HEADER_LEN if version == 1 else HEADER_LEN_V2
    if len(data) < header_len:
        raise IntegrityError(name, "truncated: %d bytes, shorter than the %d-byte header" % (len(data), header_len))
    header = data[:header_len]
    suite = header[5]
    if suite not in PURPOSE_LABELS:
        raise Unsupported(name, "unsupported cipher suite %d" % suite)
    shift = header[7]
    if not 10 <= shift <= 24:
        raise IntegrityError(name, "malformed header: chunk shift %d outside 10..24" % shift)
    kind = header[6]
    # Kinds not in the list are never expected, so they always fail the kind check.
    if kind not in KINDS or kind != expected_kind:
        raise IntegrityError(name, "object kind %d, expected %d" % (kind, expected_kind))
    epoch_id = struct.unpack(">I", header[8:12])[0]
    if (epoch_id == 0) != (kind in MASTER_KINDS):
        raise IntegrityError(name, "epoch/kind pairing broken: kind %d with epoch id %08x" % (kind, epoch_id))
    salt = header[12:44]
    counter = struct.unpack(">I", header[44:48])[0] if version >= 2 else None
    return header, suite, kind, shift, epoch_id, salt, version, counter


def open_object(data, repo_id, name, expected_kind, epoch_keys):
    """Decrypt an envelope. epoch_keys maps epoch id -> E_n (0 -> M)."""
    header, suite, kind, shift, epoch_id, salt, version, counter = parse_header(data, name, expected_kind)
    if epoch_id not in epoch_keys:
        raise UnknownEpoch(name, "unknown epoch %08x (no epoch object loaded for it; reload epochs, "
                                 "then retry)" % epoch_id)
    pkey = purpose_key(epoch_keys[epoch_id], repo_id, suite)
    if version == 1:
        key, nonce = object_key(pkey, salt), chunk_nonce
    else:
        key, nonce = session_key(pkey, salt), functools.partial(chunk_nonce_v2, counter)
    ad = associated_data(header, repo_id, name)
    body = data[len(header):]
    piece_len = (1 << shift) + TAG_LEN
    if len(body) == 0:
        raise IntegrityError(name, "truncated: no chunk after the header")
    pieces = [body[i:i + piece_len] for i in range(0, len(body), piece_len)]
    if len(pieces[-1]) < TAG_LEN:
        raise IntegrityError(name, "truncated: last chunk is %d bytes, shorter than a tag" % len(pieces[-1]))
    cipher = aead(suite, key)
    out = []
    for i, piece in enumerate(pieces):
        try:
            out.append(cipher.decrypt(nonce(i, i == len(pieces) - 1), piece, ad))
        except InvalidTag:
            raise IntegrityError(name, "authentication failed at chunk %d (damaged, truncated, "
                                       "renamed or from another repository)" % i) from None
    content = b"".join(out)
    return strip_v3(content, name) if version == 3 else content


# ---------------------------------------------------------------------------
# Key epochs (format.md "Key epochs")

EPOCH_RECORD_LEN = 45
EPOCH_NAME_RE = re.compile(r"^epochs/([0-9a-f]{8})$")


def epoch_name_id(name):
    """The epoch id of a name of the form epochs/<8 lowercase hex>, non-zero; None for any other name
    (readers ignore those)."""
    m = EPOCH_NAME_RE.match(name)
    if not m:
        return None
    n = int(m.group(1), 16)
    return n if n != 0 else None


def build_epoch_record(epoch_id, created_ms, epoch_key, version=1):
    return bytes([version]) + u32(epoch_id) + i64(created_ms) + epoch_key


def open_epoch(data, repo_id, master, name):
    name_id = epoch_name_id(name)
    if name_id is None:
        raise GhostieError(name, "not an epoch object name (epochs/<8 lowercase hex, not 0>)")
    # Kind 02 forces epoch id 0 in the header (pairing rule), so the key is derived from M.
    record = open_object(data, repo_id, name, KIND_EPOCH, {0: master})
    if len(record) < 1:
        raise IntegrityError(name, "malformed epoch record (empty)")
    if record[0] > 1:
        raise Unsupported(name, "unsupported epoch record v%d; this version reads up to v1" % record[0])
    if record[0] != 1 or len(record) != EPOCH_RECORD_LEN:
        raise IntegrityError(name, "malformed epoch record (version %d, %d bytes)" % (record[0], len(record)))
    rec_id = struct.unpack(">I", record[1:5])[0]
    created = struct.unpack(">q", record[5:13])[0]
    key = record[13:45]
    if rec_id != name_id:
        raise IntegrityError(name, "epoch record names epoch %08x, not the one in the object name" % rec_id)
    return rec_id, created, key


def current_epoch(epochs):
    """epochs: list of (id, created, key). Greatest creation time, ties to the greater id."""
    return max(epochs, key=lambda e: (e[1], e[0])) if epochs else None


# ---------------------------------------------------------------------------
# Key file (format.md "Key file")

MAGIC_KEYFILE = b"GHSK"
KDF_PBKDF2 = 1
KDF_ARGON2ID = 2
KEYFILE_VERSION = 2
# Reader bounds of a v2 key file, checked before deriving (format.md "Key file").
ARGON2_M_RANGE = (8, 1_048_576)
ARGON2_T_RANGE = (1, 64)
ARGON2_MAX_WORK = 4_194_304
KEYFILE_NAME_RE = re.compile(r"^keys/[0-9a-f]{16}$")


def passphrase_bytes(passphrase):
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def keyfile_secrets(passphrase, salt, iterations):
    """Returns (D, wrap, check). iterations: a PBKDF2 count (v1), or ("argon2id", m, t, p) (v2)."""
    if isinstance(iterations, tuple):
        _, m, t, p = iterations
        d = argon2id(passphrase_bytes(passphrase), salt, t, m, p, 32)
    else:
        d = pbkdf2(passphrase_bytes(passphrase), salt, iterations, 32)
    return d, hkdf_expand(d, WRAP_INFO, 32), hkdf_expand(d, CHECK_INFO, 16)


def build_keyfile(name, passphrase, iterations, salt, repo_id, master, wrap_nonce,
                  label, created_ms, meta_salt, meta_shift=16, meta_version=1):
    """iterations: a PBKDF2 count (a v1 key file) or ("argon2id", m, t, p) (a v2 key file)."""
    _, wrap, check = keyfile_secrets(passphrase, salt, iterations)
    if isinstance(iterations, tuple):
        _, m, t, p = iterations
        params = bytes([2, KDF_ARGON2ID]) + b"\x00\x00" + u32(m) + u32(t) + u32(p)
    else:
        params = bytes([1, KDF_PBKDF2]) + b"\x00\x00" + u32(iterations)
    head = MAGIC_KEYFILE + params + bytes([len(salt)]) + salt + repo_id + check
    wrapped = AESGCM(wrap).encrypt(wrap_nonce, master, head)  # ciphertext(32) || tag(16)
    lb = label.encode("utf-8")
    meta_plain = i64(created_ms) + u16(len(lb)) + lb
    if meta_version == 3:  # session salt = meta_salt, counter 0
        meta = seal_object_v3(master, repo_id, name, KIND_KEYFILE_META, SUITE_AES, meta_shift, 0, meta_salt, 0,
                              meta_plain)
    else:
        meta = seal_object(master, repo_id, name, KIND_KEYFILE_META, SUITE_AES, meta_shift, 0, meta_salt,
                           meta_plain)
    return head + wrap_nonce + wrapped + u32(len(meta)) + meta


def parse_keyfile(data, name):
    """Structure only (no passphrase). Raises IntegrityError or Unsupported: a "parse problem".
    v1: PBKDF2 (iterations at 8); v2: Argon2id (m, t, p at 8, 12, 16), every field within its
    reader bound before anything is derived."""
    if len(data) < 5:
        raise IntegrityError(name, "truncated key file")
    if data[0:4] != MAGIC_KEYFILE:
        raise IntegrityError(name, "not a key file (bad magic %s)" % data[0:4].hex())
    if data[4] > KEYFILE_VERSION:
        raise Unsupported(name, "unsupported format v%d; this version reads up to v%d" % (data[4], KEYFILE_VERSION))
    if data[4] == 0:
        raise IntegrityError(name, "malformed key file: format version %d" % data[4])
    version = data[4]
    if len(data) < 6:
        raise IntegrityError(name, "truncated key file")
    if data[5] != (KDF_ARGON2ID if version == 2 else KDF_PBKDF2):
        raise Unsupported(name, "unsupported KDF id %d in a v%d key file" % (data[5], version))
    p0 = 21 if version == 2 else 13  # offset of the salt
    if len(data) < p0:
        raise IntegrityError(name, "truncated key file")
    if data[6:8] != b"\x00\x00":
        raise IntegrityError(name, "malformed key file: reserved bytes are %s" % data[6:8].hex())
    if version == 2:
        m, t, p = struct.unpack(">III", data[8:20])
        if not ARGON2_M_RANGE[0] <= m <= ARGON2_M_RANGE[1]:
            raise IntegrityError(name, "key file parameters: Argon2id memory m = %d KiB outside %d..%d"
                                 % ((m,) + ARGON2_M_RANGE))
        if not ARGON2_T_RANGE[0] <= t <= ARGON2_T_RANGE[1]:
            raise IntegrityError(name, "key file parameters: Argon2id passes t = %d outside %d..%d"
                                 % ((t,) + ARGON2_T_RANGE))
        if m * t > ARGON2_MAX_WORK:
            raise IntegrityError(name, "key file parameters: Argon2id m * t = %d above %d" % (m * t, ARGON2_MAX_WORK))
        if p != 1:
            raise IntegrityError(name, "key file parameters: Argon2id parallelism p = %d, only 1 is accepted" % p)
        kdf = ("argon2id", m, t, p)
    else:
        kdf = struct.unpack(">I", data[8:12])[0]
        if not 1000 <= kdf <= 100_000_000:
            raise IntegrityError(name, "malformed key file: %d iterations outside 1,000..100,000,000" % kdf)
    s = data[p0 - 1]
    if not 16 <= s <= 64:
        raise IntegrityError(name, "malformed key file: salt length %d outside 16..64" % s)
    if version == 2 and s != 16:
        raise IntegrityError(name, "malformed key file: salt length %d in a v2 key file (always 16)" % s)
    fixed = p0 + s + 16 + 16 + 12 + 32 + 16  # through the wrap tag
    if len(data) < fixed + 4:
        raise IntegrityError(name, "truncated key file")
    meta_len = struct.unpack(">I", data[fixed:fixed + 4])[0]
    if len(data) != fixed + 4 + meta_len:
        raise IntegrityError(name, "malformed key file: %d bytes, metadata length says %d"
                             % (len(data), fixed + 4 + meta_len))
    r = p0 + s
    return {
        "iterations": kdf,
        "salt": data[p0:r],
        "repo_id": data[r:r + 16],
        "check": data[r + 16:r + 32],
        "ad": data[0:r + 32],
        "nonce": data[r + 32:r + 44],
        "wrapped": data[r + 44:r + 76],
        "tag": data[r + 76:r + 92],
        "meta": data[fixed + 4:],
    }


def unwrap_keyfile(kf, name, passphrase):
    """kf from parse_keyfile. Returns (R, M). Raises WrongPassphrase (check differs) or
    IntegrityError (check matches, wrap tag fails)."""
    _, wrap, check = keyfile_secrets(passphrase, kf["salt"], kf["iterations"])
    if not hmac.compare_digest(check, kf["check"]):
        raise WrongPassphrase(name, "wrong passphrase")
    try:
        master = AESGCM(wrap).decrypt(kf["nonce"], kf["wrapped"] + kf["tag"], kf["ad"])
    except InvalidTag:
        raise IntegrityError(name, "key file damaged or tampered with (passphrase check matches, "
                                   "wrap tag fails)") from None
    return kf["repo_id"], master


def open_keyfile_metadata(kf, name, repo_id, master):
    """The metadata envelope (epoch 0, kind 01, AD names the key file). Returns (created_ms, label).
    Used when listing key files; unlocking does not need it."""
    meta = open_object(kf["meta"], repo_id, name, KIND_KEYFILE_META, {0: master})
    if len(meta) < 10:
        raise IntegrityError(name, "malformed key file metadata")
    created = struct.unpack(">q", meta[0:8])[0]
    llen = struct.unpack(">H", meta[8:10])[0]
    if len(meta) != 10 + llen:
        raise IntegrityError(name, "malformed key file metadata (label length)")
    try:
        label = meta[10:].decode("utf-8")
    except UnicodeDecodeError:
        raise IntegrityError(name, "malformed key file metadata (label not UTF-8)") from None
    return created, label


def unlock_keyfile(data, name, passphrase):
    """One key file, fully: parse, unwrap, and open its metadata. Returns (R, M, created_ms, label)."""
    kf = parse_keyfile(data, name)
    repo_id, master = unwrap_keyfile(kf, name, passphrase)
    created, label = open_keyfile_metadata(kf, name, repo_id, master)
    return repo_id, master, created, label


# ---------------------------------------------------------------------------
# Repository (a folder, one file per object)

def read_object(repo, name):
    with open(os.path.join(repo, *name.split("/")), "rb") as f:
        return f.read()


def list_objects(repo, prefix):
    d = os.path.join(repo, prefix)
    if not os.path.isdir(d):
        return []
    return [prefix + "/" + n for n in os.listdir(d) if os.path.isfile(os.path.join(d, n))]


def keyfile_names(repo):
    """Key files in ordinal order of their names; other names under keys/ are ignored."""
    return sorted((n for n in list_objects(repo, "keys") if KEYFILE_NAME_RE.match(n)),
                  key=lambda n: n.encode("ascii"))


def unlock_repository(repo, passphrase, trace=None):
    """format.md "Key file", unlock paragraph. Returns (R, M). Parses every key file first (unparsable
    ones are skipped); parsed key files with different repository ids: integrity error naming them
    (object "keys/"). Then tries them in ordinal order and stops at the first that opens; damaged key
    files are skipped. When none opens:
    integrity error of the first key file whose check matched; else, if none could be parsed, the
    first parse problem; else wrong passphrase. No key file at all: "no repository here".
    trace, if a list, receives the name of the key file that opened."""
    names = keyfile_names(repo)
    if not names:
        raise NoRepository("keys/", "no repository here (no key file under keys/)")
    damaged = None      # first key file whose check matched but whose wrap tag failed
    parse_problem = None
    parsed = []
    for name in names:
        try:
            parsed.append((name, parse_keyfile(read_object(repo, name), name)))
        except (IntegrityError, Unsupported) as e:
            if parse_problem is None:
                parse_problem = e
    # "Repository ids": key files that parse must all carry one R, whatever the passphrase.
    ids = {}
    for name, kf in parsed:
        ids.setdefault(kf["repo_id"].hex(), []).append(name)
    if len(ids) > 1:
        raise IntegrityError("keys/", "key files of %d repositories: %s" % (len(ids), "; ".join(
            "%s: %s" % (r, ", ".join(n)) for r, n in sorted(ids.items()))))
    parsed_any = bool(parsed)
    for name, kf in parsed:
        try:
            repo_id, master = unwrap_keyfile(kf, name, passphrase)
        except WrongPassphrase:
            continue
        except IntegrityError as e:
            if damaged is None:
                damaged = e
            continue
        if trace is not None:
            trace.append(name)
        return repo_id, master
    if damaged is not None:
        raise damaged
    if not parsed_any:
        raise parse_problem
    raise WrongPassphrase("keys/", "wrong passphrase (no key file accepts it)")


def load_epochs(repo, repo_id, master):
    """Opens every epoch object (names epochs/<8 hex>, non-zero; others ignored). Any failure stops."""
    keys = {0: master}
    epochs = []
    for name in sorted(list_objects(repo, "epochs")):
        if epoch_name_id(name) is None:
            continue
        eid, created, key = open_epoch(read_object(repo, name), repo_id, master, name)
        keys[eid] = key
        epochs.append((eid, created, key))
    return keys, epochs


def decrypt_from_repo(repo, name, kind, passphrase):
    repo_id, master = unlock_repository(repo, passphrase)
    keys, _ = load_epochs(repo, repo_id, master)
    try:
        data = read_object(repo, name)
    except FileNotFoundError:
        raise GhostieError(name, "no such object") from None
    return open_object(data, repo_id, name, kind, keys)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        print("decrypt.py: ?: usage error: %s" % message, file=sys.stderr)
        raise SystemExit(EXIT_OTHER)


def cli(argv):
    ap = _Parser(prog="decrypt.py", description="Ghostie.Sync v1 independent decryptor")
    ap.add_argument("--repo")
    ap.add_argument("--object")
    ap.add_argument("--kind")
    ap.add_argument("--out")
    ap.add_argument("--self-test", action="store_true")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return EXIT_OTHER if e.code else EXIT_OK
    if args.self_test:
        return self_test()
    obj = args.object or "?"
    if not (args.repo and args.object and args.kind is not None):
        print("decrypt.py: %s: usage: --repo DIR --object NAME --kind N [--out FILE]" % obj, file=sys.stderr)
        return EXIT_OTHER
    if not valid_name(args.object):
        print("decrypt.py: %s: invalid object name" % obj, file=sys.stderr)
        return EXIT_OTHER
    try:
        kind = int(args.kind, 10)
        if not 0 <= kind <= 255:
            raise ValueError
    except ValueError:
        print("decrypt.py: %s: --kind must be a decimal number 0..255" % obj, file=sys.stderr)
        return EXIT_OTHER
    raw = os.environb.get(b"GHOSTIE_PASSPHRASE")
    if raw is None:
        print("decrypt.py: %s: GHOSTIE_PASSPHRASE is not set" % obj, file=sys.stderr)
        return EXIT_OTHER
    try:
        passphrase = raw.decode("utf-8")
    except UnicodeDecodeError:
        print("decrypt.py: %s: GHOSTIE_PASSPHRASE is not valid UTF-8" % obj, file=sys.stderr)
        return EXIT_OTHER
    try:
        plain = decrypt_from_repo(args.repo, args.object, kind, passphrase)
    except GhostieError as e:
        where = e.obj if e.obj == args.object else "%s (while opening %s)" % (e.obj, args.object)
        print("decrypt.py: %s: %s" % (where, e.message), file=sys.stderr)
        return e.code
    except OSError as e:
        print("decrypt.py: %s: %s" % (obj, e), file=sys.stderr)
        return EXIT_OTHER
    try:
        if args.out:
            with open(args.out, "wb") as f:
                f.write(plain)
        else:
            sys.stdout.buffer.write(plain)
            sys.stdout.buffer.flush()
    except OSError as e:
        print("decrypt.py: %s: cannot write output: %s" % (obj, e), file=sys.stderr)
        return EXIT_OTHER
    return EXIT_OK


# ---------------------------------------------------------------------------
# Self-test: the published vectors of docs/format.md "Test vectors", copied verbatim.

def rng(a, b):
    """Byte pattern a..b inclusive."""
    return bytes(range(a, b + 1))


V_R = rng(0x00, 0x0f)
V_M = rng(0x40, 0x5f)
V_EPOCH_ID = 0x01020304
V_EPOCH_CREATED = 1780000000000
V_E = rng(0x80, 0x9f)
V_SALT = rng(0xa0, 0xbf)
V_NAME = "packs/kat"
V_SHORT = b"Ghostie.Sync known-answer test"
V_LONG = bytes(i % 251 for i in range(2500))

V_P1 = "84e6a9e7a206f25586435ef7fa6321f467a1ad242bb95dfabe48741f248580a0"
V_K1 = "17073a7716948183aba5012c9b56b0c2b98d18f711c4eabcf3b9f8fa90a97920"
V_P2 = "a806be196efe9c2cd7a8a7b1529d48b3ce9aab6158288c249f92e105bfe69432"
V_K2 = "03e88b809067a40d3fbae687981b7ca14b94543aafdb76bbcad72c3c87a61aee"

V_SHORT_S1 = (
    "4748534f0101101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c2822783fd9f0b9c40141fb86b400eddc9eac54d425b0fde4928028d0625"
    "50bf40078dfeadfdd28e82ea8036e40a")
V_SHORT_S2 = (
    "4748534f0102301001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "30e3cd9edf86b53afed99a32a2955cbe08d5b7422a15f7072845cb9fc601"
    "22cad7764c5cc74eb6c05cbe7e3dac8b")
V_EMPTY_S1 = (
    "4748534f0101101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "19b8e71d5e452065d406920542ba67b6")
V_LONG_LEN = 2592
V_LONG_SHA256 = "bfa97d19d8f676e71ce42ddf45804736837ecee4f1c86b57237ff24b1f600533"
V_LONG_TAGS = ["02b6b4dfacc61898bb3f9393b92fe10b",
               "e2d9a6ae63dafd9197a533c108bb8b2a",
               "417c818538322cebe5496f4f431343da"]
V_EPOCH_NAME = "epochs/01020304"
V_EPOCH_SALT = rng(0x30, 0x4f)
V_EPOCH_OBJ = (
    "4748534f0101021000000000303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f"
    "2e492939e517ae94c6bed8ba4141f8579cb4fe58b016191e0675ff2b5a14700d1b4167bf6ccd4025c7413c3ae0354d965b"
    "da0755c4b09646f91988a0bc")
V_KEY_NAME = "keys/00112233aabbccdd"
V_PASSPHRASE = "correct horse battery staple"
V_KEY_ITER = 600000
V_KEY_SALT = rng(0xc0, 0xdf)
V_WRAP_NONCE = rng(0xe0, 0xeb)
V_LABEL = "primary"
V_LABEL_CREATED = 1780000000000
V_META_SALT = rng(0x10, 0x2f)
V_KEYFILE = (
    "4748534b01010000000927c020c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "000102030405060708090a0b0c0d0e0f"
    "50d59bebc53c0ef38785bed715d96b16"
    "e0e1e2e3e4e5e6e7e8e9eaeb"
    "4584d097e6905897c02f7d2617ff7b21ce3a015b3c6e81ee70632434cd730549"
    "ec55e1ec37ee4f0a8e7c964a692315d7"
    "0000004d"
    "4748534f0101011000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
    "fdc07feb3748df1a38dd0a663988303755d32d0f257118bf4b7730d1a4d1f23e43")

V_P0 = "fe1769a2cbe86ff4d072f6a45083a34efae3655a3e4d2f9f9b7cf1ef0b9c0b40"
V_K_EPOCH_OBJ = "1abf8dc0643dc20c88852dca39f95a4045548ee04902c8e9dc83c5aa2bb39ef2"
V_K_META = "d06dc62d4b96ecc29c4add15e480ddfc373fe6cd0b6c376e71288bc8f75a082a"
V_NK = "713fd5ac350fdaabc33b9b7afa66204924f42e0106c81547a92fa3bd59b55e1a"
V_DNAME = ("d/", "device-prefix", "pixel9-pro-xl-termux", "d/tp6hes4thvv3fplz7yeujwky5mqq44zm")
V_LONG_HEADER = "4748534f0101100a01020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
V_KEY_D = "1bfc73bc415e0dcb3eb245e6119fc13f5ded1a810cef42caa0fac6b3bbebef48"
V_KEY_WRAP = "2005f5bb907442c46afa394ee8b57f4a9ed49eb3afc9317081892942f93a7108"
V_KEY_CHECK = "50d59bebc53c0ef38785bed715d96b16"

# Key file v2 (Argon2id), format.md "Test vectors, key file v2 (Argon2id)".
V_A2_PARAMS = ("argon2id", 256, 2, 1)   # m KiB, t, p
V_A2_SALT = rng(0xc0, 0xcf)
V_A2_D = "4a20815560ddec13e0665331b9032b180ef8fa0f22001df55ebd9ff7e60af4b3"
V_A2_WRAP = "d338734cb0ced8f34faca21838540811df015b36e1c188f7e1cf33bd59bcbaf9"
V_A2_CHECK = "cac40ab9d50acf8b35e09c2f99c02ec8"
V_A2_KEYFILE = (
    "4748534b0202000000000100000000020000000110c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
    "000102030405060708090a0b0c0d0e0f"
    "cac40ab9d50acf8b35e09c2f99c02ec8"
    "e0e1e2e3e4e5e6e7e8e9eaeb"
    "3bb734841e98af5b6d1759558d6d0112602a7b919d9565275841291d7d1d9a0a"
    "8056f758b73fb664e11b11657349fc83"
    "0000004d"
    "4748534f0101011000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
    "fdc07feb3748df1a38dd0a663988303755d32d0f257118bf4b7730d1a4d1f23e43")
V_NORM_ITER = 1000
# Format v2 vectors (session salt a0..bf = V_SALT).
V_SK1 = "b260c9c30a1514d451f45bacb9da6daa042ed782f9a25634de0dbeaf4f3069e7"
V_SK2 = "aeb9314ec8b8739b0e0ae1b9fc2681db5fff60824d79055c611f4e2b055b657e"
V2_SHORT_S1 = (
    "4748534f0201101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00000005"
    "94d625cae8bbe0d3375b072224eb297284e0a8bf1fff2c103056aaedc956"
    "a102e007387340a15af55112fe0d01a4")
V2_SHORT_S2 = (
    "4748534f0202301001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00000005"
    "c2bee2fa27dd44ec7f17035c4082aeef7d789d162ff186d822cc0787a1ab"
    "dc731d4658bf65f06d4cbf0e8ed45df3")
V2_EMPTY_S1 = (
    "4748534f0201101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00000006"
    "aeb705c389f5dbbe13f5c2ea16ca7f7c")
V2_LONG_COUNTER = 0x0a0b0c0d
V2_LONG_LEN = 2596
V2_LONG_HEADER = ("4748534f0201100a01020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
                  "0a0b0c0d")
V2_LONG_SHA256 = "0d680ba847df303528ec1547ca039436e31eb1cf15cd0fec744d5ac4b2f5105c"
V2_LONG_TAGS = ["2be99c53e01839a08086d62aebd81944",
                "27c219c602f9e20e7f6fbb65113063da",
                "95565c9e9b0d8652ca3efefdf5234420"]
V2_LONG_NONCES = ["0a0b0c0d0000000000000000", "0a0b0c0d0000000000000100", "0a0b0c0d0000000000000201"]
# Format v3 vectors (padded; same inputs as v2): size, header, SHA-256, tags.
V3_SHORT_S1 = (1088, "4748534f0301101001020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00000005",
               "e61c8af78bfd0a980f45bc1739640c75e07704133681d2a21cad5e5ff1d4d1fa", ["54f3d5b14db13b0fec1c82121dbe8ffb"])
V3_SHORT_S2 = (1088, None, "f51439a9d9aa8b5b3fde6c63651e039204c89b36e36cacafac7de47a58d91ff7",
               ["0269c96aa0dbc0f1c5141c74ee98b2e6"])
V3_EMPTY_S1 = (1088, None, "3492271f00a3bd9292fa6ae9ea66a9edb48d2a5eabb1374bc0a509fdadf82db0",
               ["eee27427e609b9beab8d4602813cdd1f"])
V3_LONG = (2656, "4748534f0301100a01020304a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf0a0b0c0d",
           "3e2c3c50ee516399f80349fbac54b981560ca10f38c3ce3b7f7f272179be7335",
           ["1bb62b8babdcec8e823a522071d3d544", "179dae1e493d37207dd33f6f8b3bafda", "739c7bc32e8fee8f19af925eb507a4d3"])
V3_EPOCH_OBJ = (1088, "4748534f0301021000000000303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f00000000",
                "d6e7e5e9277957d6b97267251bd51c69679f8c4d3c702efe1be9be5f6f125380")
V3_KEYFILE = (1229, "00000440", "c4612d21827be998ce4d89464c6716a388cd85e8e2020a95f1f5b652a00462f3")
V_NORM_NFD = "cafe\u0301"
V_NORM_NFC = "caf\u00e9"
V_NORM_D = "4b6080321d767fc5345ed1393296ade53e60405a63f4c11c76e68f79a5861ed2"
V_NORM_CHECK = "dafab28a6f3c2de3f5a92c5996cee340"

class Checker:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, label, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok   %s" % label)
        else:
            self.failed += 1
            print("FAIL %s%s" % (label, (": " + detail) if detail else ""))
        sys.stdout.flush()

    def equal(self, label, got, want):
        if isinstance(got, (bytes, bytearray)):
            got = got.hex()
        if isinstance(want, (bytes, bytearray)):
            want = want.hex()
        self.check(label, got == want, "" if got == want else "got %s, want %s" % (got, want))

    def raises(self, label, cls, fn):
        try:
            fn()
        except cls:
            self.check(label, True)
        except Exception as e:  # noqa: BLE001
            self.check(label, False, "raised %s: %s" % (type(e).__name__, e))
        else:
            self.check(label, False, "did not raise %s" % cls.__name__)


def flip(data, index):
    b = bytearray(data)
    b[index] ^= 0x01
    return bytes(b)


def run_cli(repo, name, kind, passphrase):
    env = dict(os.environ)
    env["GHOSTIE_PASSPHRASE"] = passphrase
    p = subprocess.run([sys.executable, os.path.abspath(__file__), "--repo", repo, "--object", name,
                        "--kind", str(kind)], env=env, capture_output=True)
    return p.returncode, p.stdout, p.stderr


def write_object(repo, name, data):
    path = os.path.join(repo, *name.split("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def cli_result(rc, out, err):
    return "exit %d, stdout %d bytes, stderr %r" % (rc, len(out), err.decode(errors="replace").strip())


def make_repo(root, files):
    """A fresh repository folder holding files {name: bytes}."""
    repo = tempfile.mkdtemp(dir=root)
    for name, data in files.items():
        write_object(repo, name, data)
    return repo


def self_test():
    c = Checker()
    epoch_keys = {0: V_M, V_EPOCH_ID: V_E}
    t0 = time.monotonic()

    # HKDF sanity: RFC 5869 test case 1 (guards the hand-written HKDF itself).
    rfc_prk = hkdf_extract(bytes.fromhex("000102030405060708090a0b0c"), b"\x0b" * 22)
    c.equal("HKDF RFC 5869 case 1 PRK", rfc_prk,
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
    c.equal("HKDF RFC 5869 case 1 OKM", hkdf_expand(rfc_prk, bytes(range(0xf0, 0xfa)), 42),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")

    # Derived keys.
    p1, p2 = purpose_key(V_E, V_R, SUITE_AES), purpose_key(V_E, V_R, SUITE_CHACHA)
    c.equal("derived PK(0x01020304, suite 1)", p1, V_P1)
    c.equal("derived K (suite 1)", object_key(p1, V_SALT), V_K1)
    c.equal("derived PK(0x01020304, suite 2)", p2, V_P2)
    c.equal("derived K (suite 2)", object_key(p2, V_SALT), V_K2)
    p0 = purpose_key(V_M, V_R, SUITE_AES)
    c.equal("derived PK(0, suite 1) (from M)", p0, V_P0)
    c.equal("derived K of the epoch object (salt 30..4f)", object_key(p0, V_EPOCH_SALT), V_K_EPOCH_OBJ)
    c.equal("derived K of the key file metadata (salt 10..2f)", object_key(p0, V_META_SALT), V_K_META)
    nk = names_key(V_M, V_R)
    c.equal("derived NK (names key)", nk, V_NK)
    prefix, purpose, dinput, dname = V_DNAME
    got_name = derived_name(nk, prefix, purpose, dinput.encode("utf-8"))
    c.equal("derived object name d/ device-prefix pixel9-pro-xl-termux", got_name, dname)
    c.check("derived object name is a valid storage name", valid_name(got_name) and len(got_name) == 34)

    # Sealed objects, rebuilt and opened back.
    cases = [
        ("short plaintext suite 1 kind 0x10", V_SHORT, SUITE_AES, 0x10, V_SHORT_S1),
        ("short plaintext suite 2 kind 0x30", V_SHORT, SUITE_CHACHA, 0x30, V_SHORT_S2),
        ("empty plaintext suite 1 kind 0x10", b"", SUITE_AES, 0x10, V_EMPTY_S1),
    ]
    for label, plain, suite, kind, want in cases:
        sealed = seal_object(V_E, V_R, V_NAME, kind, suite, 16, V_EPOCH_ID, V_SALT, plain)
        c.equal("seal %s" % label, sealed, want)
        try:
            got = open_object(bytes.fromhex(want), V_R, V_NAME, kind, epoch_keys)
            c.equal("open %s" % label, got, plain)
        except GhostieError as e:
            c.check("open %s" % label, False, str(e))

    long_sealed = seal_object(V_E, V_R, V_NAME, 0x10, SUITE_AES, 10, V_EPOCH_ID, V_SALT, V_LONG)
    c.equal("seal long plaintext: size", len(long_sealed), V_LONG_LEN)
    c.equal("seal long plaintext: header", long_sealed[:HEADER_LEN], V_LONG_HEADER)
    c.equal("seal long plaintext: SHA-256", hashlib.sha256(long_sealed).digest(), V_LONG_SHA256)
    ends = [HEADER_LEN + 1024 + 16, HEADER_LEN + 2 * (1024 + 16), len(long_sealed)]
    for i, end in enumerate(ends):
        c.equal("seal long plaintext: tag of chunk %d" % i, long_sealed[end - 16:end], V_LONG_TAGS[i])
    c.equal("seal long plaintext: final chunk holds 452 bytes", ends[2] - ends[1] - 16, 452)
    try:
        c.equal("open long plaintext", open_object(long_sealed, V_R, V_NAME, 0x10, epoch_keys), V_LONG)
    except GhostieError as e:
        c.check("open long plaintext", False, str(e))

    # Negative cases on the envelope.
    s1 = bytes.fromhex(V_SHORT_S1)
    c.raises("reject short object: flipped ciphertext bit", IntegrityError,
             lambda: open_object(flip(s1, 50), V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject short object: flipped header salt bit", IntegrityError,
             lambda: open_object(flip(s1, 20), V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject short object: wrong expected kind", IntegrityError,
             lambda: open_object(s1, V_R, V_NAME, 0x11, epoch_keys))
    c.raises("reject short object: other name", IntegrityError,
             lambda: open_object(s1, V_R, "packs/kau", 0x10, epoch_keys))
    c.raises("reject short object: other repository id", IntegrityError,
             lambda: open_object(s1, rng(1, 16), V_NAME, 0x10, epoch_keys))
    c.raises("reject short object: truncated to header", IntegrityError,
             lambda: open_object(s1[:HEADER_LEN], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject short object: last piece shorter than a tag", IntegrityError,
             lambda: open_object(s1[:HEADER_LEN + 10], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject short object: shorter than the header", IntegrityError,
             lambda: open_object(s1[:30], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject short object: bad magic", IntegrityError,
             lambda: open_object(b"GHSP" + s1[4:], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject short object: version 4 is unsupported", Unsupported,
             lambda: open_object(s1[:4] + b"\x04" + s1[5:], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject short v1 object relabelled as version 3", IntegrityError,
             lambda: open_object(s1[:4] + b"\x03" + s1[5:], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject short v1 object relabelled as version 2", IntegrityError,
             lambda: open_object(s1[:4] + b"\x02" + s1[5:], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject short object: version 00 is an integrity error", IntegrityError,
             lambda: open_object(s1[:4] + b"\x00" + s1[5:], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject short object: suite 3 is unsupported", Unsupported,
             lambda: open_object(s1[:5] + b"\x03" + s1[6:], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject short object: chunk shift 9", IntegrityError,
             lambda: open_object(s1[:7] + b"\x09" + s1[8:], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject short object: chunk shift 25", IntegrityError,
             lambda: open_object(s1[:7] + b"\x19" + s1[8:], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject long object: last chunk dropped (truncated at a chunk boundary)", IntegrityError,
             lambda: open_object(long_sealed[:ends[1]], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject long object: chunks 0 and 1 swapped", IntegrityError,
             lambda: open_object(long_sealed[:HEADER_LEN] + long_sealed[ends[0]:ends[1]]
                                 + long_sealed[HEADER_LEN:ends[0]] + long_sealed[ends[1]:],
                                 V_R, V_NAME, 0x10, epoch_keys))
    # An authentic empty final chunk after full chunks is accepted.
    c_full = seal_object(V_E, V_R, V_NAME, 0x10, SUITE_AES, 10, V_EPOCH_ID, V_SALT, V_LONG[:2048])
    hdr = c_full[:HEADER_LEN]
    k1 = object_key(p1, V_SALT)
    ad = associated_data(hdr, V_R, V_NAME)
    manual = hdr + b"".join(AESGCM(k1).encrypt(chunk_nonce(i, i == 2), V_LONG[i * 1024:(i + 1) * 1024] if i < 2
                                                else b"", ad) for i in range(3))
    try:
        c.equal("accept authentic empty final chunk after full chunks",
                open_object(manual, V_R, V_NAME, 0x10, epoch_keys), V_LONG[:2048])
    except GhostieError as e:
        c.check("accept authentic empty final chunk after full chunks", False, str(e))

    # Format v2: session keys, sealed objects, nonces, and v2 tampering.
    c.equal("derived SK (suite 1, session salt a0..bf)", session_key(p1, V_SALT), V_SK1)
    c.equal("derived SK (suite 2, session salt a0..bf)", session_key(p2, V_SALT), V_SK2)
    v2_cases = [
        ("v2 short plaintext suite 1 kind 0x10 counter 5", V_SHORT, SUITE_AES, 0x10, 5, V2_SHORT_S1),
        ("v2 short plaintext suite 2 kind 0x30 counter 5", V_SHORT, SUITE_CHACHA, 0x30, 5, V2_SHORT_S2),
        ("v2 empty plaintext suite 1 kind 0x10 counter 6", b"", SUITE_AES, 0x10, 6, V2_EMPTY_S1),
    ]
    for label, plain, suite, kind, counter, want in v2_cases:
        sealed = seal_object_v2(V_E, V_R, V_NAME, kind, suite, 16, V_EPOCH_ID, V_SALT, counter, plain)
        c.equal("seal %s" % label, sealed, want)
        try:
            c.equal("open %s" % label, open_object(bytes.fromhex(want), V_R, V_NAME, kind, epoch_keys), plain)
        except GhostieError as e:
            c.check("open %s" % label, False, str(e))
    long_v2 = seal_object_v2(V_E, V_R, V_NAME, 0x10, SUITE_AES, 10, V_EPOCH_ID, V_SALT, V2_LONG_COUNTER, V_LONG)
    c.equal("seal v2 long plaintext: size", len(long_v2), V2_LONG_LEN)
    c.equal("seal v2 long plaintext: header", long_v2[:HEADER_LEN_V2], V2_LONG_HEADER)
    c.equal("seal v2 long plaintext: SHA-256", hashlib.sha256(long_v2).digest(), V2_LONG_SHA256)
    ends2 = [HEADER_LEN_V2 + 1040, HEADER_LEN_V2 + 2080, len(long_v2)]
    for i, end in enumerate(ends2):
        c.equal("seal v2 long plaintext: tag of chunk %d" % i, long_v2[end - 16:end], V2_LONG_TAGS[i])
        c.equal("v2 long plaintext: nonce of chunk %d" % i, chunk_nonce_v2(V2_LONG_COUNTER, i, i == 2),
                V2_LONG_NONCES[i])
    try:
        c.equal("open v2 long plaintext", open_object(long_v2, V_R, V_NAME, 0x10, epoch_keys), V_LONG)
    except GhostieError as e:
        c.check("open v2 long plaintext", False, str(e))
    v2s = bytes.fromhex(V2_SHORT_S1)
    c.raises("reject v2 object: counter changed", IntegrityError,
             lambda: open_object(v2s[:44] + u32(6) + v2s[48:], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject v2 object: session salt changed", IntegrityError,
             lambda: open_object(flip(v2s, 12), V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject v2 object: version flipped to 1", IntegrityError,
             lambda: open_object(v2s[:4] + b"\x01" + v2s[5:], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject v2 object: other name", IntegrityError,
             lambda: open_object(v2s, V_R, "packs/kau", 0x10, epoch_keys))
    c.raises("reject v2 object: truncated inside the counter", IntegrityError,
             lambda: open_object(v2s[:46], V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject v2 object: header only", IntegrityError,
             lambda: open_object(v2s[:HEADER_LEN_V2], V_R, V_NAME, 0x10, epoch_keys))
    other_v2 = seal_object_v2(V_E, V_R, V_NAME, 0x10, SUITE_AES, 10, V_EPOCH_ID, V_SALT, V2_LONG_COUNTER + 1,
                              bytes(2500))
    c.raises("reject v2 object: chunk 1 swapped in from another object of the same session", IntegrityError,
             lambda: open_object(long_v2[:ends2[0]] + other_v2[ends2[0]:ends2[1]] + long_v2[ends2[1]:],
                                 V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject v2 object: last chunk dropped", IntegrityError,
             lambda: open_object(long_v2[:ends2[1]], V_R, V_NAME, 0x10, epoch_keys))

    # Format v3: padding to size buckets, the length inside the AEAD.
    for n, want in ((0, 1024), (30, 1024), (1016, 1024), (1017, 1088), (2500, 2560), (65536, 67584)):
        c.equal("v3 bucket of a %d-byte payload" % n, bucket(n + LENGTH_FIELD), want)
    v3_cases = [
        ("v3 short plaintext suite 1 kind 0x10 counter 5", V_SHORT, SUITE_AES, 0x10, 5, 16, V3_SHORT_S1),
        ("v3 short plaintext suite 2 kind 0x30 counter 5", V_SHORT, SUITE_CHACHA, 0x30, 5, 16, V3_SHORT_S2),
        ("v3 empty plaintext suite 1 kind 0x10 counter 6", b"", SUITE_AES, 0x10, 6, 16, V3_EMPTY_S1),
        ("v3 long plaintext suite 1 kind 0x10 s=10", V_LONG, SUITE_AES, 0x10, V2_LONG_COUNTER, 10, V3_LONG),
    ]
    v3_objects = {}
    for label, plain, suite, kind, counter, shift, (size, header, digest, tags) in v3_cases:
        sealed = seal_object_v3(V_E, V_R, V_NAME, kind, suite, shift, V_EPOCH_ID, V_SALT, counter, plain)
        v3_objects[label] = sealed
        c.equal("seal %s: size" % label, len(sealed), size)
        if header is not None:
            c.equal("seal %s: header" % label, sealed[:HEADER_LEN_V2], header)
        c.equal("seal %s: SHA-256" % label, hashlib.sha256(sealed).digest(), digest)
        piece = (1 << shift) + TAG_LEN
        got_tags = [sealed[HEADER_LEN_V2:][i:i + piece][-16:] for i in range(0, len(sealed) - HEADER_LEN_V2, piece)]
        c.equal("seal %s: tags" % label, b"".join(got_tags), "".join(tags))
        try:
            c.equal("open %s" % label, open_object(sealed, V_R, V_NAME, kind, epoch_keys), plain)
        except GhostieError as e:
            c.check("open %s" % label, False, str(e))
    v3_epoch = seal_object_v3(V_M, V_R, V_EPOCH_NAME, KIND_EPOCH, SUITE_AES, 16, 0, V_EPOCH_SALT, 0,
                              build_epoch_record(V_EPOCH_ID, V_EPOCH_CREATED, V_E))
    c.equal("seal v3 epoch object: size", len(v3_epoch), V3_EPOCH_OBJ[0])
    c.equal("seal v3 epoch object: header", v3_epoch[:HEADER_LEN_V2], V3_EPOCH_OBJ[1])
    c.equal("seal v3 epoch object: SHA-256", hashlib.sha256(v3_epoch).digest(), V3_EPOCH_OBJ[2])
    v3_keyfile = build_keyfile(V_KEY_NAME, V_PASSPHRASE, V_KEY_ITER, V_KEY_SALT, V_R, V_M, V_WRAP_NONCE,
                               V_LABEL, V_LABEL_CREATED, V_META_SALT, meta_version=3)
    c.equal("v3 key file: size", len(v3_keyfile), V3_KEYFILE[0])
    c.equal("v3 key file: first 137 bytes as in the v1 key file", v3_keyfile[:137], V_KEYFILE[:274])
    c.equal("v3 key file: metadata length", v3_keyfile[137:141], V3_KEYFILE[1])
    c.equal("v3 key file: SHA-256", hashlib.sha256(v3_keyfile).digest(), V3_KEYFILE[2])
    v3s = v3_objects["v3 short plaintext suite 1 kind 0x10 counter 5"]
    c.raises("reject v3 object relabelled as version 2 (the header is authenticated)", IntegrityError,
             lambda: open_object(v3s[:4] + b"\x02" + v3s[5:], V_R, V_NAME, 0x10, epoch_keys))

    def v3_with(content):
        return seal_object_v3(V_E, V_R, V_NAME, 0x10, SUITE_AES, 16, V_EPOCH_ID, V_SALT, 9, b"", content=content)
    c.raises("reject v3 content shorter than the length field", IntegrityError, lambda: open_object(
        v3_with(bytes(7)), V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject v3 payload length beyond the content", IntegrityError, lambda: open_object(
        v3_with(V_SHORT + bytes(10) + u64(41)), V_R, V_NAME, 0x10, epoch_keys))
    c.raises("reject v3 non-zero padding", IntegrityError, lambda: open_object(
        v3_with(V_SHORT + b"\x00\x01" + bytes(8) + u64(30)), V_R, V_NAME, 0x10, epoch_keys))
    c.equal("accept v3 content padded to another size (buckets are not checked)", open_object(
        v3_with(V_SHORT + bytes(3) + u64(30)), V_R, V_NAME, 0x10, epoch_keys), V_SHORT)

    # Epoch/kind pairing and kinds (every violating object below is otherwise authentic).
    for kind in (0x10, 0x11, 0x12, 0x20, 0x30, 0xff):
        bad = seal_object(V_M, V_R, V_NAME, kind, SUITE_AES, 16, 0, V_SALT, V_SHORT)
        c.raises("pairing: kind 0x%02x with epoch id 0 (sealed under M) is an integrity error" % kind,
                 IntegrityError, lambda b=bad, k=kind: open_object(b, V_R, V_NAME, k, epoch_keys))
    bad_epoch_obj = seal_object(V_E, V_R, V_EPOCH_NAME, KIND_EPOCH, SUITE_AES, 16, V_EPOCH_ID, V_EPOCH_SALT,
                                build_epoch_record(V_EPOCH_ID, V_EPOCH_CREATED, V_E))
    c.raises("pairing: kind 02 with a non-zero epoch id is an integrity error", IntegrityError,
             lambda: open_object(bad_epoch_obj, V_R, V_EPOCH_NAME, KIND_EPOCH, epoch_keys))
    c.raises("pairing: epoch object sealed under a data epoch is an integrity error", IntegrityError,
             lambda: open_epoch(bad_epoch_obj, V_R, V_M, V_EPOCH_NAME))
    bad_meta = seal_object(V_E, V_R, V_KEY_NAME, KIND_KEYFILE_META, SUITE_AES, 16, V_EPOCH_ID, V_META_SALT,
                           i64(0) + u16(0))
    c.raises("pairing: kind 01 with a non-zero epoch id is an integrity error", IntegrityError,
             lambda: open_object(bad_meta, V_R, V_KEY_NAME, KIND_KEYFILE_META, epoch_keys))
    odd = seal_object(V_E, V_R, V_NAME, 0x05, SUITE_AES, 16, V_EPOCH_ID, V_SALT, V_SHORT)
    c.raises("kind 05 (not in the list) fails the kind check even when asked for", IntegrityError,
             lambda: open_object(odd, V_R, V_NAME, 0x05, epoch_keys))
    c.raises("object naming an epoch not loaded is 'unknown epoch'", UnknownEpoch,
             lambda: open_object(s1, V_R, V_NAME, 0x10, {0: V_M}))
    c.check("'unknown epoch' is neither integrity nor unsupported (exit 1)", UnknownEpoch.code == EXIT_OTHER)

    # Epoch object.
    record = build_epoch_record(V_EPOCH_ID, V_EPOCH_CREATED, V_E)
    c.equal("epoch record length", len(record), EPOCH_RECORD_LEN)
    epoch_obj = seal_object(V_M, V_R, V_EPOCH_NAME, KIND_EPOCH, SUITE_AES, 16, 0, V_EPOCH_SALT, record)
    c.equal("seal epoch object epochs/01020304", epoch_obj, V_EPOCH_OBJ)
    try:
        eid, created, key = open_epoch(bytes.fromhex(V_EPOCH_OBJ), V_R, V_M, V_EPOCH_NAME)
        c.check("open epoch object epochs/01020304",
                (eid, created, key) == (V_EPOCH_ID, V_EPOCH_CREATED, V_E),
                "got id %08x created %d key %s" % (eid, created, key.hex()))
    except GhostieError as e:
        c.check("open epoch object epochs/01020304", False, str(e))
    c.raises("reject epoch object stored under another epoch name", IntegrityError,
             lambda: open_epoch(bytes.fromhex(V_EPOCH_OBJ), V_R, V_M, "epochs/01020305"))

    def epoch_with(rec, suite=SUITE_AES):
        return seal_object(V_M, V_R, V_EPOCH_NAME, KIND_EPOCH, suite, 16, 0, V_EPOCH_SALT, rec)
    c.raises("epoch record naming another epoch is an integrity error", IntegrityError,
             lambda: open_epoch(epoch_with(build_epoch_record(0x01020305, V_EPOCH_CREATED, V_E)),
                                V_R, V_M, V_EPOCH_NAME))
    c.raises("epoch record version 2 is unsupported", Unsupported,
             lambda: open_epoch(epoch_with(build_epoch_record(V_EPOCH_ID, V_EPOCH_CREATED, V_E, 2)),
                                V_R, V_M, V_EPOCH_NAME))
    c.raises("epoch record version 0 is an integrity error", IntegrityError,
             lambda: open_epoch(epoch_with(build_epoch_record(V_EPOCH_ID, V_EPOCH_CREATED, V_E, 0)),
                                V_R, V_M, V_EPOCH_NAME))
    c.raises("epoch record of 46 bytes is an integrity error", IntegrityError,
             lambda: open_epoch(epoch_with(record + b"\x00"), V_R, V_M, V_EPOCH_NAME))
    try:
        c.equal("epoch object sealed with suite 2 is accepted",
                open_epoch(epoch_with(record, SUITE_CHACHA), V_R, V_M, V_EPOCH_NAME)[2], V_E)
    except GhostieError as e:
        c.check("epoch object sealed with suite 2 is accepted", False, str(e))
    c.check("epoch names: epochs/00000000, epochs/readme, epochs/0102030, epochs/0102030g, 9 hex digits ignored",
            all(epoch_name_id(n) is None for n in
                ("epochs/00000000", "epochs/readme", "epochs/0102030", "epochs/0102030g", "epochs/010203040"))
            and epoch_name_id(V_EPOCH_NAME) == V_EPOCH_ID)
    c.equal("current epoch: greatest creation time, ties to the greater id",
            [current_epoch([(5, 10, b""), (3, 20, b""), (4, 20, b"")])[0],
             current_epoch([(9, 10, b""), (2, 11, b"")])[0]], [4, 2])

    # Key file (600,000 PBKDF2 iterations, computed once and cached).
    d, wrap, check = keyfile_secrets(V_PASSPHRASE, V_KEY_SALT, V_KEY_ITER)
    c.equal("key file intermediate D", d, V_KEY_D)
    c.equal("key file intermediate wrap", wrap, V_KEY_WRAP)
    c.equal("key file intermediate check", check, V_KEY_CHECK)
    keyfile = build_keyfile(V_KEY_NAME, V_PASSPHRASE, V_KEY_ITER, V_KEY_SALT, V_R, V_M, V_WRAP_NONCE,
                            V_LABEL, V_LABEL_CREATED, V_META_SALT)
    c.equal("build key file keys/00112233aabbccdd", keyfile, V_KEYFILE)
    kf_bytes = bytes.fromhex(V_KEYFILE)
    try:
        r, m, created, label = unlock_keyfile(kf_bytes, V_KEY_NAME, V_PASSPHRASE)
        c.check("unlock key file keys/00112233aabbccdd and open its metadata",
                (r, m, created, label) == (V_R, V_M, V_LABEL_CREATED, V_LABEL),
                "got R %s M %s created %d label %r" % (r.hex(), m.hex(), created, label))
    except GhostieError as e:
        c.check("unlock key file keys/00112233aabbccdd and open its metadata", False, str(e))
    c.raises("key file: wrong passphrase detected by check value", WrongPassphrase,
             lambda: unlock_keyfile(kf_bytes, V_KEY_NAME, V_PASSPHRASE + "!"))
    s = len(V_KEY_SALT)
    c.raises("key file: damaged wrapped key is an integrity error", IntegrityError,
             lambda: unlock_keyfile(flip(kf_bytes, 57 + s), V_KEY_NAME, V_PASSPHRASE))
    c.raises("key file: damaged repository id is an integrity error", IntegrityError,
             lambda: unlock_keyfile(flip(kf_bytes, 13 + s), V_KEY_NAME, V_PASSPHRASE))
    c.raises("key file: metadata bound to the key file name", IntegrityError,
             lambda: unlock_keyfile(kf_bytes, "keys/00112233aabbccde", V_PASSPHRASE))
    c.raises("key file: KDF id 2 in a v1 key file is unsupported", Unsupported,
             lambda: parse_keyfile(kf_bytes[:5] + b"\x02" + kf_bytes[6:], V_KEY_NAME))
    c.raises("key file: version 3 is unsupported", Unsupported,
             lambda: parse_keyfile(kf_bytes[:4] + b"\x03" + kf_bytes[5:], V_KEY_NAME))
    c.raises("key file: version 00 is an integrity error", IntegrityError,
             lambda: parse_keyfile(kf_bytes[:4] + b"\x00" + kf_bytes[5:], V_KEY_NAME))
    for rb in (b"\x00\x01", b"\x80\x00"):
        c.raises("key file: reserved bytes %s are an integrity error" % rb.hex(), IntegrityError,
                 lambda rb=rb: parse_keyfile(kf_bytes[:6] + rb + kf_bytes[8:], V_KEY_NAME))
    for it in (999, 100_000_001):
        c.raises("key file: %d iterations is an integrity error" % it, IntegrityError,
                 lambda it=it: parse_keyfile(kf_bytes[:8] + u32(it) + kf_bytes[12:], V_KEY_NAME))
    c.raises("key file: bad magic is an integrity error", IntegrityError,
             lambda: parse_keyfile(b"GHSO" + kf_bytes[4:], V_KEY_NAME))
    c.raises("key file: trailing byte is malformed", IntegrityError,
             lambda: parse_keyfile(kf_bytes + b"\x00", V_KEY_NAME))
    c.raises("key file: missing last byte is malformed", IntegrityError,
             lambda: parse_keyfile(kf_bytes[:-1], V_KEY_NAME))

    # Key file v2 (Argon2id).
    if argon2_raw is None:
        c.check("argon2-cffi is installed (python3-argon2), for the Argon2id vector", False)
    else:
        a2d, a2wrap, a2check = keyfile_secrets(V_PASSPHRASE, V_A2_SALT, V_A2_PARAMS)
        c.equal("Argon2id key file intermediate D", a2d, V_A2_D)
        c.equal("Argon2id key file intermediate wrap", a2wrap, V_A2_WRAP)
        c.equal("Argon2id key file intermediate check", a2check, V_A2_CHECK)
        c.equal("build Argon2id key file keys/00112233aabbccdd (v2)",
                build_keyfile(V_KEY_NAME, V_PASSPHRASE, V_A2_PARAMS, V_A2_SALT, V_R, V_M, V_WRAP_NONCE,
                              V_LABEL, V_LABEL_CREATED, V_META_SALT), V_A2_KEYFILE)
        a2 = bytes.fromhex(V_A2_KEYFILE)
        try:
            c.check("unlock the Argon2id key file and open its metadata",
                    unlock_keyfile(a2, V_KEY_NAME, V_PASSPHRASE) == (V_R, V_M, V_LABEL_CREATED, V_LABEL))
        except GhostieError as e:
            c.check("unlock the Argon2id key file and open its metadata", False, str(e))
        c.raises("Argon2id key file: wrong passphrase detected by check value", WrongPassphrase,
                 lambda: unlock_keyfile(a2, V_KEY_NAME, V_PASSPHRASE + "!"))
        c.raises("Argon2id key file: damaged wrapped key is an integrity error", IntegrityError,
                 lambda: unlock_keyfile(flip(a2, 81), V_KEY_NAME, V_PASSPHRASE))
        for off, val, what in ((8, 104_857_600, "memory 100 GiB"), (8, 7, "memory 7 KiB"),
                               (12, 0xFFFFFFFF, "2^32-1 passes"), (12, 0, "0 passes"), (16, 4, "parallelism 4")):
            c.raises("Argon2id key file: %s is refused before deriving" % what, IntegrityError,
                     lambda off=off, val=val: parse_keyfile(a2[:off] + u32(val) + a2[off + 4:], V_KEY_NAME))
        c.raises("Argon2id key file: 1 GiB times 5 passes is refused", IntegrityError,
                 lambda: parse_keyfile(a2[:8] + u32(1_048_576) + u32(5) + a2[16:], V_KEY_NAME))
        c.raises("Argon2id key file: salt length 32 is malformed", IntegrityError,
                 lambda: parse_keyfile(a2[:20] + b"\x20" + a2[21:], V_KEY_NAME))
        c.raises("Argon2id key file: KDF id 1 in a v2 key file is unsupported", Unsupported,
                 lambda: parse_keyfile(a2[:5] + b"\x01" + a2[6:], V_KEY_NAME))

    # Normalization vector (1,000 iterations).
    for form, pw in (("NFD cafe+U+0301", V_NORM_NFD), ("NFC caf+U+00E9", V_NORM_NFC)):
        nd, _, ncheck = keyfile_secrets(pw, V_KEY_SALT, V_NORM_ITER)
        c.equal("normalization vector D (%s)" % form, nd, V_NORM_D)
        c.equal("normalization vector check (%s)" % form, ncheck, V_NORM_CHECK)
    c.check("normalization vector: un-normalized NFD bytes would give another D",
            pbkdf2(V_NORM_NFD.encode("utf-8"), V_KEY_SALT, V_NORM_ITER, 32).hex() != V_NORM_D)

    # Unlock order and error preference (format.md "Key file", unlock paragraph; "Reader errors").
    pw = "interop test passphrase"
    r2, m2 = rng(0x20, 0x2f), rng(0x60, 0x7f)

    def kf(name, passphrase=pw, repo_id=V_R, master=V_M):
        return build_keyfile(name, passphrase, 1000, V_KEY_SALT, repo_id, master, V_WRAP_NONCE,
                             "test", V_LABEL_CREATED, V_META_SALT)

    def damaged(name):  # check matches, wrap tag fails
        return flip(kf(name), 57 + s)

    n1, n2, n3 = "keys/0000000000000001", "keys/00000000000000a0", "keys/ffffffffffffffff"
    v2 = kf(n1)[:4] + b"\x03" + kf(n1)[5:]           # parse problem: unsupported (v3 does not exist)
    badmagic = b"XXXX" + kf(n1)[4:]                   # parse problem: integrity
    epoch_file = {V_EPOCH_NAME: bytes.fromhex(V_EPOCH_OBJ)}

    with tempfile.TemporaryDirectory(prefix="ghostie-interop-") as root:
        def unlock_case(label, files, want, passphrase=pw):
            repo = make_repo(root, files)
            trace = []
            try:
                r, m = unlock_repository(repo, passphrase, trace)
                got = ("opens", trace[0], r)
            except GhostieError as e:
                got = (type(e).__name__, e.obj)
            c.check("unlock: " + label, got == want, "got %r, want %r" % (got, want))

        unlock_case("keys/ folder absent -> no repository here", {}, ("NoRepository", "keys/"))
        unlock_case("only ignored names under keys/ -> no repository here",
                    {"keys/readme": kf(n1), "keys/000000000000001": kf(n1), "keys/00000000000000011": kf(n1)},
                    ("NoRepository", "keys/"))
        unlock_case("ignored names next to a good key file",
                    {"keys/readme": b"hello", "keys/0123": b"", n2: kf(n2)}, ("opens", n2, V_R))
        unlock_case("damaged key file skipped, later one opens",
                    {n1: damaged(n1), n2: kf(n2)}, ("opens", n2, V_R))
        unlock_case("unparsable key file skipped, later one opens",
                    {n1: badmagic, n2: kf(n2)}, ("opens", n2, V_R))
        unlock_case("wrong-passphrase key file skipped, later one opens",
                    {n1: kf(n1, "other"), n2: kf(n2)}, ("opens", n2, V_R))
        unlock_case("ordinal order: first key file that opens wins",
                    {n3: kf(n3, master=m2), n2: kf(n2), n1: kf(n1, "other")},
                    ("opens", n2, V_R))
        unlock_case("key files of two repository ids: refused whatever the passphrase",
                    {n3: kf(n3), n2: kf(n2, repo_id=r2, master=m2), n1: kf(n1, "other")},
                    ("IntegrityError", "keys/"))
        unlock_case("two repository ids, passphrase of neither: still refused",
                    {n2: kf(n2, repo_id=r2, master=m2), n3: kf(n3)}, ("IntegrityError", "keys/"), "nobody's")
        unlock_case("unparsable key file does not count towards the repository ids",
                    {n1: badmagic, n2: kf(n2)}, ("opens", n2, V_R))
        unlock_case("damaged (check matched) preferred over wrong passphrase",
                    {n1: kf(n1, "other"), n2: damaged(n2), n3: kf(n3, "other")}, ("IntegrityError", n2))
        unlock_case("damaged (check matched) preferred over a parse problem",
                    {n1: v2, n2: damaged(n2)}, ("IntegrityError", n2))
        unlock_case("first damaged key file in ordinal order is named",
                    {n3: damaged(n3), n2: damaged(n2)}, ("IntegrityError", n2))
        unlock_case("nothing parsed: first parse problem (unsupported v2 before bad magic)",
                    {n1: v2, n2: badmagic}, ("Unsupported", n1))
        unlock_case("nothing parsed: first parse problem (bad magic before unsupported v2)",
                    {n1: badmagic, n2: v2}, ("IntegrityError", n1))
        unlock_case("one parsed with another passphrase, one unparsable -> wrong passphrase",
                    {n1: v2, n2: kf(n2, "other")}, ("WrongPassphrase", "keys/"))
        unlock_case("reserved bytes not zero make a key file unparsable",
                    {n1: kf(n1)[:6] + b"\x00\x01" + kf(n1)[8:]}, ("IntegrityError", n1))

        # Epoch loading.
        def epochs_case(label, files, want):
            repo = make_repo(root, files)
            try:
                keys, _ = load_epochs(repo, V_R, V_M)
                got = ("loaded", sorted(keys))
            except GhostieError as e:
                got = (type(e).__name__, e.obj)
            c.check("epochs: " + label, got == want, "got %r, want %r" % (got, want))

        epochs_case("published epoch object, ignored names next to it",
                    dict(epoch_file, **{"epochs/00000000": b"junk", "epochs/readme": b"junk",
                                        "epochs/0102030": b"junk"}),
                    ("loaded", [0, V_EPOCH_ID]))
        epochs_case("a damaged epoch object stops the unlock, naming it",
                    {V_EPOCH_NAME: flip(bytes.fromhex(V_EPOCH_OBJ), 60)}, ("IntegrityError", V_EPOCH_NAME))
        epochs_case("an epoch object copied to another name stops the unlock",
                    {"epochs/01020305": bytes.fromhex(V_EPOCH_OBJ)}, ("IntegrityError", "epochs/01020305"))
        epochs_case("epoch record version 2 -> unsupported",
                    {V_EPOCH_NAME: epoch_with(build_epoch_record(V_EPOCH_ID, V_EPOCH_CREATED, V_E, 2))},
                    ("Unsupported", V_EPOCH_NAME))

        # Command line: the published key file and epoch object (600,000 iterations per run).
        repo = make_repo(root, {V_KEY_NAME: kf_bytes, V_EPOCH_NAME: bytes.fromhex(V_EPOCH_OBJ)})
        for label, plain, suite, kind, want in cases:
            write_object(repo, V_NAME, bytes.fromhex(want))
            rc, out, err = run_cli(repo, V_NAME, kind, V_PASSPHRASE)
            c.check("CLI, published repository: opens %s" % label, rc == 0 and out == plain,
                    cli_result(rc, out, err))
        write_object(repo, V_NAME, s1)
        rc, out, err = run_cli(repo, V_NAME, 0x10, V_PASSPHRASE + "x")
        c.check("CLI, published repository: wrong passphrase -> exit 2, one stderr line, no passphrase",
                rc == 2 and out == b"" and err.count(b"\n") == 1 and V_PASSPHRASE.encode() not in err,
                cli_result(rc, out, err))

        # Command line: the same objects behind a 1,000-iteration key file (fast).
        def cli_case(label, files, name, kind, want_rc, want_out=b"", passphrase=pw):
            repo = make_repo(root, files)
            rc, out, err = run_cli(repo, name, kind, passphrase)
            ok = rc == want_rc and out == want_out and (want_rc == 0 or err.count(b"\n") == 1)
            c.check("CLI: %s -> exit %d" % (label, want_rc), ok, cli_result(rc, out, err))

        base = dict(epoch_file, **{n1: kf(n1)})
        cli_case("opens the short object", dict(base, **{V_NAME: s1}), V_NAME, 0x10, 0, V_SHORT)
        cli_case("opens the epoch object itself as kind 2", base, V_EPOCH_NAME, KIND_EPOCH, 0, record)
        cli_case("ignored names under keys/ and epochs/", dict(base, **{
            V_NAME: s1, "keys/readme": b"x", "keys/ABCDEF": b"x", "epochs/00000000": b"x",
            "epochs/readme": b"x"}), V_NAME, 0x10, 0, V_SHORT)
        cli_case("wrong kind", dict(base, **{V_NAME: s1}), V_NAME, 0x12, 3)
        cli_case("damaged object", dict(base, **{V_NAME: flip(s1, 60)}), V_NAME, 0x10, 3)
        cli_case("version 4 object", dict(base, **{V_NAME: s1[:4] + b"\x04" + s1[5:]}), V_NAME, 0x10, 4)
        cli_case("opens a v3 object", dict(base, **{V_NAME: v3s}), V_NAME, 0x10, 0, V_SHORT)
        cli_case("v3 key file and v3 epoch object open v1, v2 and v3 objects", {
            V_KEY_NAME: v3_keyfile, V_EPOCH_NAME: v3_epoch, V_NAME: v3s}, V_NAME, 0x10, 0, V_SHORT,
            passphrase=V_PASSPHRASE)
        cli_case("key files of two repositories", dict(base, **{n2: kf(n2, repo_id=r2), V_NAME: s1}),
                 V_NAME, 0x10, 3)
        cli_case("opens a v2 object", dict(base, **{V_NAME: bytes.fromhex(V2_SHORT_S1)}), V_NAME, 0x10, 0, V_SHORT)
        cli_case("v2 object with its counter changed", dict(base, **{V_NAME: flip(bytes.fromhex(V2_SHORT_S1), 47)}),
                 V_NAME, 0x10, 3)
        cli_case("version 00 object", dict(base, **{V_NAME: s1[:4] + b"\x00" + s1[5:]}), V_NAME, 0x10, 3)
        cli_case("data object sealed under M with epoch id 0", dict(base, **{
            V_NAME: seal_object(V_M, V_R, V_NAME, 0x10, SUITE_AES, 16, 0, V_SALT, V_SHORT)}), V_NAME, 0x10, 3)
        cli_case("unknown epoch", dict(base, **{
            V_NAME: seal_object(V_E, V_R, V_NAME, 0x10, SUITE_AES, 16, 0x0a0b0c0d, V_SALT, V_SHORT)}),
            V_NAME, 0x10, 1)
        cli_case("no epoch objects at all, object under an epoch (unknown epoch)",
                 {n1: kf(n1), V_NAME: s1}, V_NAME, 0x10, 1)
        cli_case("no key file (no repository here)", dict(epoch_file, **{V_NAME: s1, "keys/readme": b"x"}),
                 V_NAME, 0x10, 1)
        cli_case("damaged epoch object, even for an object under another epoch",
                 {n1: kf(n1), V_EPOCH_NAME: flip(bytes.fromhex(V_EPOCH_OBJ), 60), "epochs/0a0b0c0d":
                  seal_object(V_M, V_R, "epochs/0a0b0c0d", KIND_EPOCH, SUITE_AES, 16, 0, V_EPOCH_SALT,
                              build_epoch_record(0x0a0b0c0d, 1, V_E)),
                  V_NAME: seal_object(V_E, V_R, V_NAME, 0x10, SUITE_AES, 16, 0x0a0b0c0d, V_SALT, V_SHORT)},
                 V_NAME, 0x10, 3)
        cli_case("epoch record version 2", {n1: kf(n1), V_NAME: s1, V_EPOCH_NAME: epoch_with(
            build_epoch_record(V_EPOCH_ID, V_EPOCH_CREATED, V_E, 2))}, V_NAME, 0x10, 4)
        cli_case("tampered key file (check matches)", dict(epoch_file, **{n1: damaged(n1), V_NAME: s1}),
                 V_NAME, 0x10, 3)
        cli_case("only key file has reserved bytes 0001", dict(epoch_file, **{
            n1: kf(n1)[:6] + b"\x00\x01" + kf(n1)[8:], V_NAME: s1}), V_NAME, 0x10, 3)
        cli_case("only key file is version 3 (none exists)", dict(epoch_file, **{n1: v2, V_NAME: s1}), V_NAME, 0x10, 4)
        cli_case("unparsable + wrong-passphrase key files", dict(epoch_file, **{
            n1: v2, n2: kf(n2, "other"), V_NAME: s1}), V_NAME, 0x10, 2)
        cli_case("damaged key file skipped", dict(epoch_file, **{n1: damaged(n1), n2: kf(n2), V_NAME: s1}),
                 V_NAME, 0x10, 0, V_SHORT)
        cli_case("missing object", base, "packs/nothere", 0x10, 1)
        cli_case("usage: invalid object name", base, "packs//x", 0x10, 1)

    print("%d passed, %d failed (%.1f s)" % (c.passed, c.failed, time.monotonic() - t0))
    return EXIT_OK if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
