"""Slow salted hashes of the SHA-512 hex strings that ZStack clients send as ``password``."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_R, _P = 8, 1


def hash_password(sha512_hex: str, *, cost: int) -> str:
    """``scrypt$<log2 N>$<salt>$<hash>``; the client's hex digest is the secret we store a hash of."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(sha512_hex.encode(), salt=salt, n=2**cost, r=_R, p=_P, dklen=32)
    return f"scrypt${cost}${salt.hex()}${digest.hex()}"


def verify_password(sha512_hex: str, stored: str) -> bool:
    try:
        scheme, cost_text, salt_hex, digest_hex = stored.split("$")
        cost = int(cost_text)
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(sha512_hex.encode(), salt=bytes.fromhex(salt_hex), n=2**cost, r=_R, p=_P, dklen=32)
    return hmac.compare_digest(digest.hex(), digest_hex)


def sha512_hex(plain: str) -> str:
    """What a ZStack client sends for ``plain``."""
    return hashlib.sha512(plain.encode()).hexdigest()


def generate_password() -> str:
    return secrets.token_urlsafe(18)
