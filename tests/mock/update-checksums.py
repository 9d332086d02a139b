#!/usr/bin/env python3
"""Rewrite the mock vendor directory's .cargo-checksum.json files and the
lockfile's checksums after a mock vendored file was edited.

The mock crates have no real .crate archives: their `package` checksum is
the SHA-256 of "mock NAME-VERSION", the same in the lockfile and in
.cargo-checksum.json (which is all sysgen compares). tests/verify.rs builds
real archives for its Cargo home tests."""
import hashlib, json, os, re

here = os.path.dirname(os.path.abspath(__file__))
vendor = os.path.join(here, "vendor")
lock_path = os.path.join(here, "library", "Cargo.lock")
lock = open(lock_path).read()
for d in sorted(os.listdir(vendor)):
    name, version = d.rsplit("-", 1)
    files = {}
    for root, _, names in os.walk(os.path.join(vendor, d)):
        for n in names:
            p = os.path.join(root, n)
            rel = os.path.relpath(p, os.path.join(vendor, d))
            if rel != ".cargo-checksum.json":
                files[rel] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    package = hashlib.sha256(f"mock {d}".encode()).hexdigest()
    with open(os.path.join(vendor, d, ".cargo-checksum.json"), "w") as f:
        json.dump({"files": dict(sorted(files.items())), "package": package}, f, separators=(",", ":"))
    # [[package]] name = "NAME" / version = "VERSION" / source = "…" [/ checksum = "…"]
    pat = re.compile(r'(name = "%s"\nversion = "%s"\nsource = "[^"]*"\n)(checksum = "[0-9a-f]*"\n)?' % (re.escape(name), re.escape(version)))
    lock, n = pat.subn(lambda m: m.group(1) + f'checksum = "{package}"\n', lock)
    assert n == 1, f"{d} is not a registry package of the mock lockfile"
open(lock_path, "w").write(lock)
