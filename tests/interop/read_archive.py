#!/usr/bin/python3
"""Reader of a Ghostie home archive (format version 1), written from docs/format.md, "Home archive".

It does not share code with the product: it decodes the header, derives the archive key (PBKDF2-HMAC-SHA256, then
HKDF-Expand), opens every frame (AES-256-GCM with the documented nonce and associated data), checks the frame order,
the memory versions' hashes against their canonical JSON when possible, and the end frame's counts and SHA-256.
Standard library + the `cryptography` package only.

Usage: read_archive.py ARCHIVE        (the passphrase of an encrypted archive in GHOSTIE_ARCHIVE_PASSPHRASE)

Prints one JSON object: {"encrypted", "manifest", "memories": {id: [version, ...]}, "files": {path: sha256 hex}}.
Exit codes: 0 ok; 2 wrong passphrase; 3 integrity failure; 4 unsupported format.
"""

import hashlib
import hmac
import json
import os
import struct
import sys
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class Failure(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def integrity(message):
    return Failure(3, "integrity: " + message)


def hkdf_expand(prk, info, length):
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


class Reader:
    def __init__(self, data, passphrase):
        self.data, self.pos = data, 0
        self.hash = hashlib.sha256()
        self.key = None
        self.header_hash = None
        self.header(passphrase)

    def take(self, n, where):
        if self.pos + n > len(self.data):
            raise integrity("truncated inside " + where)
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def header(self, passphrase):
        fixed = self.take(8, "the header")
        if fixed[:4] != b"GHAR":
            raise integrity("not an archive")
        if fixed[4] > 1:
            raise Failure(4, "unsupported: archive format %d" % fixed[4])
        if fixed[4] == 0 or fixed[6:8] != b"\0\0":
            raise integrity("bad version or reserved bytes")
        header = fixed
        if fixed[5] == 1:
            kdf = self.take(6, "the header")
            if kdf[0] != 1:
                raise Failure(4, "unsupported KDF %d" % kdf[0])
            salt_length = kdf[1]
            (iterations,) = struct.unpack(">I", kdf[2:6])
            if not (16 <= salt_length <= 64 and 1000 <= iterations <= 100_000_000):
                raise integrity("KDF parameters out of range")
            rest = self.take(salt_length + 16, "the header")
            salt, stored_check = rest[:salt_length], rest[salt_length:]
            header = fixed + kdf + rest
            pw = unicodedata.normalize("NFC", passphrase or "").encode("utf-8")
            d = hashlib.pbkdf2_hmac("sha256", pw, salt, iterations, 32)
            wrap = hkdf_expand(d, b"ghostie/v1/keyfile/wrap", 32)
            check = hkdf_expand(d, b"ghostie/v1/keyfile/check", 16)
            if not hmac.compare_digest(check, stored_check):
                raise Failure(2, "wrong passphrase")
            self.key = AESGCM(hkdf_expand(wrap, b"ghostie/v1/archive/key", 32))
        elif fixed[5] != 0:
            raise integrity("bad protection byte")
        self.hash.update(header)
        self.header_hash = hashlib.sha256(header).digest()

    def frames(self):
        index = 0
        while True:
            if self.pos == len(self.data):
                raise integrity("truncated: no end frame")
            before = self.hash.digest()
            prefix = self.take(5, "frame %d" % index)
            kind, length = prefix[0], struct.unpack(">I", prefix[1:])[0]
            body = self.take(length, "frame %d" % index)
            self.hash.update(prefix + body)
            if self.key is None:
                content = body
            else:
                nonce = b"\0\0\0\0" + struct.pack(">Q", index)
                ad = self.header_hash + struct.pack(">Q", index) + bytes([kind])
                try:
                    content = self.key.decrypt(nonce, body, ad)
                except InvalidTag:
                    raise integrity("frame %d failed authentication" % index)
            yield index, kind, content, before
            if kind == 0xFF:
                if self.pos != len(self.data):
                    raise integrity("bytes after the end frame")
                return
            index += 1


def canonical_escape(text):
    out = []
    for ch in text:
        for unit in ([ord(ch)] if ord(ch) < 0x10000 else [0xD800 + ((ord(ch) - 0x10000) >> 10), 0xDC00 + ((ord(ch) - 0x10000) & 0x3FF)]):
            c = chr(unit)
            if c in "\b\t\n\f\r\\":
                out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", "\\": "\\\\"}[c])
            elif 0x20 <= unit < 0x7F and c not in "\"&'<>+`":
                out.append(c)
            else:
                out.append("\\u%04X" % unit)
    return '"' + "".join(out) + '"'


def main():
    data = open(sys.argv[1], "rb").read()
    reader = Reader(data, os.environ.get("GHOSTIE_ARCHIVE_PASSPHRASE"))
    manifest, memories, files = None, {}, {}
    counts = {"memories": 0, "versions": 0, "files": 0}
    open_file = None
    for index, kind, content, before in reader.frames():
        if (index == 0) != (kind == 1):
            raise integrity("manifest out of place")
        if kind == 1:
            manifest = json.loads(content)
        elif kind == 2:
            memory = json.loads(content)
            for version in memory["versions"]:
                if version["d"]:
                    ok = version["r"] is None and version["h"] == "deleted"
                else:
                    r = version["r"]
                    ok = r["id"] == memory["id"] and r.get("sync_metadata") is None
                    if ok and not isinstance(r.get("context"), (dict, list)) and r.get("context") is None:
                        # canonical JSON of a record without context (context's number texts cannot be rebuilt from a parse)
                        canonical = '{"id":%s,"timestamp":"%s","device_id":%s,"category":%s,"content":%s,"context":null,"sync_metadata":null}' % (
                            canonical_escape(r["id"]), r["timestamp"], canonical_escape(r["device_id"]), canonical_escape(r["category"]), canonical_escape(r["content"]))
                        ok = version["h"] == "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
                if not ok:
                    raise integrity("frame %d: a version does not match its hash" % index)
            memories[memory["id"]] = memory["versions"]
            counts["memories"] += 1
            counts["versions"] += len(memory["versions"])
        elif kind == 3:
            (n,) = struct.unpack(">H", content[:2])
            path = content[2:2 + n].decode("utf-8")
            (offset,) = struct.unpack(">Q", content[2 + n:10 + n])
            last, payload = content[10 + n], content[11 + n:]
            if open_file is None:
                if offset != 0:
                    raise integrity("file continues without a start")
                open_file = [path, hashlib.sha256(), 0]
            elif open_file[0] != path or open_file[2] != offset:
                raise integrity("file chunk out of order")
            open_file[1].update(payload)
            open_file[2] += len(payload)
            if last:
                files[path] = open_file[1].hexdigest()
                counts["files"] += 1
                open_file = None
        elif kind == 0xFF:
            end = json.loads(content)
            if (end["frames"], end["memories"], end["versions"], end["files"]) != (index, counts["memories"], counts["versions"], counts["files"]):
                raise integrity("end frame counts differ")
            if end["sha256"] != before.hex():
                raise integrity("end frame sha256 differs")
        else:
            raise integrity("unknown frame type %d" % kind)
    print(json.dumps({"encrypted": reader.key is not None, "manifest": manifest, "memories": memories, "files": files}, ensure_ascii=False))


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print(str(failure), file=sys.stderr)
        sys.exit(failure.code)
