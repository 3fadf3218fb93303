#!/usr/bin/env python3
"""Prints the RSA public key of a JWKS (URL or file) as PEM, for peers that
take a key file (HAProxy's jwt_verify): jwk-to-pem.py JWKS [KID].

SubjectPublicKeyInfo is encoded here (a few lines of DER) so that no
package beyond Python's own is needed."""
import base64
import json
import sys
import urllib.request


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def integer(v):
    b = v.to_bytes((v.bit_length() + 7) // 8 or 1, "big")
    if b[0] & 0x80:
        b = b"\x00" + b
    return tlv(0x02, b)


def b64url(s):
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")


def main():
    src = sys.argv[1]
    if src.startswith("http"):
        with urllib.request.urlopen(src, timeout=10) as r:
            jwks = json.load(r)
    else:
        with open(src) as f:
            jwks = json.load(f)
    keys = [k for k in jwks["keys"] if k.get("kty") == "RSA"]
    if len(sys.argv) > 2:
        keys = [k for k in keys if k.get("kid") == sys.argv[2]]
    if not keys:
        sys.exit("no such RSA key in the JWKS")
    k = keys[0]
    rsa = tlv(0x30, integer(b64url(k["n"])) + integer(b64url(k["e"])))
    # rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters.
    alg = tlv(0x30, bytes.fromhex("06092a864886f70d0101010500"))
    spki = tlv(0x30, alg + tlv(0x03, b"\x00" + rsa))
    b64 = base64.b64encode(spki).decode()
    print("-----BEGIN PUBLIC KEY-----")
    for i in range(0, len(b64), 64):
        print(b64[i:i + 64])
    print("-----END PUBLIC KEY-----")


main()
