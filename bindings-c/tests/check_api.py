#!/usr/bin/env python3
"""API parity: include/faultlens.h declares exactly the C names docs/api.json asks for.

Expected names: module functions `fl_<name>`; for each class `<c_prefix>_<method>` for its methods
and static methods, plus `<c_prefix>_new` and `<c_prefix>_free`; for each record with a `c_prefix`
`<c_prefix>_<field>` for the fields in its `c_accessors` (which must be fields of the record); plus
`extras.c.functions`.
The header must declare every one of them and no other `fl_` function. Standard library only.
Usage: check_api.py [path/to/faultlens.h] [path/to/api.json]
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
header_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "include", "faultlens.h")
manifest_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "docs", "api.json")

with open(manifest_path, encoding="utf-8") as f:
    api = json.load(f)

expected = {"fl_" + name for name in api["functions"]}
for cls in api["classes"].values():
    prefix = cls["c_prefix"]
    expected |= {f"{prefix}_{m}" for m in cls.get("methods", []) + cls.get("static", [])}
    expected |= {f"{prefix}_new", f"{prefix}_free"}
bad_accessors = []
for name, rec in api["records"].items():
    if name == "about":
        continue
    accessors = rec.get("c_accessors", [])
    bad_accessors += [f"{name}.{f}" for f in accessors if f not in rec["fields"]]
    if accessors:
        expected |= {f"{rec['c_prefix']}_{f}" for f in accessors}
expected |= set(api["extras"]["c"]["functions"])

with open(header_path, encoding="utf-8") as f:
    text = f.read()
code = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # doc comments mention names too
code = re.sub(r"//[^\n]*", " ", code)
declared = set(re.findall(r"\b(fl_\w+)\s*\(", code))

missing = sorted(expected - declared)
extra = sorted(declared - expected)
for name in bad_accessors:
    print(f"FAIL docs/api.json: c_accessors names a field the record does not have: {name}")
for name in missing:
    print(f"FAIL missing from faultlens.h: {name}")
for name in extra:
    print(f"FAIL declared in faultlens.h but not in docs/api.json: {name}")
passed = len(expected & declared)
failed = len(missing) + len(extra) + len(bad_accessors)
print(f"api parity: {len(expected)} names in docs/api.json, {len(declared)} fl_ functions in the header")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
