#!/usr/bin/env python3
"""Binding option types from docs/api.json "configs" (written by examples/gen_schema.rs).

Writes
  - the TypedDicts between the markers in bindings-python/python/faultlens/_faultlens.pyi
    (`_ClassifierOptions`, ... with Python's snake_case keys; constructors take
    `**config: Unpack[_ClassifierOptions]`);
  - bindings-node/options-header.d.ts, the TypeScript interfaces (camelCase keys, as the Node
    binding accepts them), which `napi build` puts at the top of index.d.ts (package.json
    "napi.dtsHeaderFile").

`--check` writes nothing and fails, naming the command to run, when a generated file (or the
header inside the committed index.d.ts) differs from what docs/api.json gives. Standard library
only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "api.json"
PYI = ROOT / "bindings-python" / "python" / "faultlens" / "_faultlens.pyi"
DTS_HEADER = ROOT / "bindings-node" / "options-header.d.ts"
INDEX_DTS = ROOT / "bindings-node" / "index.d.ts"

BEGIN = "# --- generated option types (scripts/gen_option_types.py from docs/api.json \"configs\"; do not edit) ---"
END = "# --- end of generated option types ---"
REGENERATE = "make options"

# What each binding accepts beyond the schema (conversions in the bindings, not in serde):
# a Preprocessor instance stands for its config (both); Python tuples work where a struct is
# expected; Node writes filter types as keys are written (`payloadIn`) and takes `errorCode`.
PY_EXTRA = {"PreprocessorOptions": "Preprocessor", "MaskRule": "tuple[str, str]"}
TS_EXTRA = {"PreprocessorOptions": "Preprocessor"}
TS_CAMEL_TAGS = {"Filter"}
TS_EXTRA_LITERALS = {"KeyField": ["errorCode"]}
# Types napi-rs already declares for Node results; the options refer to them by name.
TS_DECLARED_BY_NAPI = {"Thresholds", "WindowKey"}


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def pascal(key: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[_\W]+", key) if w)


def one_line(text: str) -> str:
    return " ".join(text.split())


class Schemas:
    def __init__(self, configs: dict):
        self.options = {k: v for k, v in configs.items() if k not in ("about", "$defs")}
        self.defs = configs.get("$defs", {})

    def resolve(self, ref: str) -> tuple[str, dict]:
        name = ref.rsplit("/", 1)[-1]
        if ref.startswith("#/configs/$defs/"):
            return name, self.defs[name]
        return name, self.options[name]

    @staticmethod
    def literals(schema: dict) -> list | None:
        """The values of a string enum (`enum`, or `oneOf` of `const`s), else None."""
        if "enum" in schema:
            return schema["enum"]
        if "const" in schema:
            return [schema["const"]]
        alts = schema.get("oneOf")
        if alts and all("const" in a for a in alts):
            return [a["const"] for a in alts]
        return None


def default_note(schema: dict, render) -> str:
    """`Default: x.` when the description does not say it and the value is short."""
    desc = schema.get("description", "")
    if "default" not in schema or "default" in desc.lower():
        return ""
    text = render(schema["default"])
    return f" Default: `{text}`." if len(text) <= 60 else ""


# ---- Python ----

def py_literal(v) -> str:
    return repr(v)


class Python:
    def __init__(self, s: Schemas):
        self.s = s
        self.out: list[str] = []
        self.done: set[str] = set()
        self.partial: set[str] = set()  # options with required keys used nested

    def name(self, name: str) -> str:
        return f"_{name}"

    def type_of(self, schema: dict, hint: str, nested: bool = True) -> str:
        if schema is True or schema == {} or (isinstance(schema, dict) and set(schema) <= {"description", "default"}):
            return "Any"
        if "$ref" in schema:
            name, target = self.s.resolve(schema["$ref"])
            lits = Schemas.literals(target)
            if lits is not None:
                return self.literal(lits)
            if name in self.s.options and target.get("required") and nested:
                self.partial.add(name)
                t = self.name(name + "Nested")
            else:
                t = self.name(name)
            self.emit_def(name, target)
            extra = PY_EXTRA.get(name)
            return f"{t} | {extra}" if extra else t
        lits = Schemas.literals(schema)
        if lits is not None:
            return self.literal(lits)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self.union(self.type_of(a, hint) for a in schema[key])
        t = schema.get("type")
        if isinstance(t, list):
            return self.union(self.type_of({**schema, "type": x}, hint) for x in t)
        if t == "object":
            name = hint + self.suffix(schema)
            self.emit_object(name, schema)
            return self.name(name)
        if t == "array":
            if "prefixItems" in schema:
                items = [self.type_of(x, hint) for x in schema["prefixItems"]]
                tup = f"tuple[{', '.join(items)}]"
                return f"{tup} | list[{items[0]}]" if len(set(items)) == 1 else tup
            return f"Sequence[{self.type_of(schema.get('items', True), hint)}]"
        return {"boolean": "bool", "integer": "int", "number": "float", "string": "str", "null": "None"}[t]

    @staticmethod
    def suffix(schema: dict) -> str:
        props = schema.get("properties", {})
        tag = props.get("type", {}).get("const")
        return pascal(tag) if tag else pascal(next(iter(props), "Object"))

    @staticmethod
    def literal(values: list) -> str:
        strs = [v for v in values if v is not None]
        t = f"Literal[{', '.join(json.dumps(v) for v in strs)}]"
        return t + " | None" if None in values else t

    @staticmethod
    def union(types) -> str:
        seen: list[str] = []
        for t in types:
            for part in t.split(" | "):
                if part not in seen:
                    seen.append(part)
        if "int" in seen and "float" in seen:
            seen.remove("int")  # float accepts int in Python typing
            seen.insert(seen.index("float"), "int")
        return " | ".join(seen)

    def emit_def(self, name: str, schema: dict) -> None:
        if name in self.done:
            return
        if Schemas.literals(schema) is not None:
            return
        if schema.get("type") == "object":
            self.emit_object(name, schema)
        else:
            self.done.add(name)
            alts = schema.get("oneOf") or schema.get("anyOf") or []
            body = self.union(self.type_of(a, name) for a in alts)
            self.out.append(f"{self.name(name)} = Union[{', '.join(body.split(' | '))}]\n")
            if schema.get("description"):
                self.out.append(f'"""{self.doc(schema["description"])}"""\n')
            self.out.append("\n")

    def doc(self, text: str) -> str:
        return one_line(text).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')

    def emit_object(self, name: str, schema: dict, required_too: bool = True) -> None:
        if name in self.done:
            return
        self.done.add(name)
        required = set(schema.get("required", [])) if required_too else set()
        lines = [f"class {self.name(name)}(TypedDict, total=False):"]
        if schema.get("description"):
            lines.append(f'    """{self.doc(schema["description"])}"""')
        for key, prop in schema.get("properties", {}).items():
            t = self.type_of(prop, name + pascal(key))
            if key in required:
                t = f"Required[{t}]"
            lines.append(f"    {key}: {t}")
            desc = prop.get("description", "") + default_note(prop, py_literal)
            if desc:
                lines.append(f'    """{self.doc(desc)}"""')
        self.out.append("\n".join(lines) + "\n\n")

    def render(self) -> str:
        for name, schema in self.s.options.items():
            self.emit_object(name, schema)
        for name in sorted(self.partial):
            self.emit_object(name + "Nested", self.s.options[name], required_too=False)
        return "".join(self.out).rstrip("\n") + "\n"


# ---- TypeScript ----

def ts_literal(v) -> str:
    return json.dumps(v)


class TypeScript:
    def __init__(self, s: Schemas):
        self.s = s
        self.out: list[str] = []
        self.done: set[str] = set(TS_DECLARED_BY_NAPI)

    def type_of(self, schema: dict, indent: str, camel_tags: bool = False) -> str:
        if schema is True or schema == {} or (isinstance(schema, dict) and set(schema) <= {"description", "default"}):
            return "unknown"
        if "$ref" in schema:
            name, target = self.s.resolve(schema["$ref"])
            lits = Schemas.literals(target)
            if lits is not None:
                return self.literal(lits + TS_EXTRA_LITERALS.get(name, []))
            self.emit_def(name, target)
            t = f"Partial<{name}>" if name in self.s.options and target.get("required") else name
            extra = TS_EXTRA.get(name)
            return f"{t} | {extra}" if extra else t
        lits = Schemas.literals(schema)
        if lits is not None:
            return self.literal([camel(v) if camel_tags and isinstance(v, str) else v for v in lits])
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self.union(self.type_of(a, indent, camel_tags) for a in schema[key])
        t = schema.get("type")
        if isinstance(t, list):
            return self.union(self.type_of({**schema, "type": x}, indent) for x in t)
        if t == "object":
            required = set(schema.get("required", []))
            fields = []
            for key, prop in schema.get("properties", {}).items():
                opt = "" if key in required else "?"
                fields.append(f"{camel(key)}{opt}: {self.type_of(prop, indent, camel_tags and key == 'type')}")
            return "{ " + "; ".join(fields) + " }"
        if t == "array":
            if "prefixItems" in schema:
                return "[" + ", ".join(self.type_of(x, indent) for x in schema["prefixItems"]) + "]"
            return f"Array<{self.type_of(schema.get('items', True), indent, camel_tags)}>"
        return {"boolean": "boolean", "integer": "number", "number": "number", "string": "string", "null": "null"}[t]

    @staticmethod
    def literal(values: list) -> str:
        return " | ".join("null" if v is None else "'" + v + "'" for v in values)

    @staticmethod
    def union(types) -> str:
        seen: list[str] = []
        for t in types:
            for part in ([t] if t.startswith("{") else t.split(" | ")):
                if part not in seen:
                    seen.append(part)
        return " | ".join(seen)

    @staticmethod
    def doc(text: str, indent: str) -> list[str]:
        text = text.replace("*/", "*\\/")
        lines = text.split("\n")
        if len(lines) == 1:
            return [f"{indent}/** {lines[0]} */"]
        return [f"{indent}/**"] + [f"{indent} * {l}".rstrip() for l in lines] + [f"{indent} */"]

    def emit_def(self, name: str, schema: dict) -> None:
        if name in self.done or Schemas.literals(schema) is not None:
            return
        self.done.add(name)
        if schema.get("type") == "object":
            self.emit_interface(name, schema)
            return
        alts = schema.get("oneOf") or schema.get("anyOf") or []
        body = self.union(self.type_of(a, "", name in TS_CAMEL_TAGS) for a in alts)
        lines = self.doc(schema["description"], "") if schema.get("description") else []
        lines.append(f"export type {name} =")
        lines += [f"  | {part}" for part in self.split_union(body)]
        self.out.append("\n".join(lines) + "\n\n")

    @staticmethod
    def split_union(body: str) -> list[str]:
        parts, depth, cur = [], 0, ""
        i = 0
        while i < len(body):
            c = body[i]
            depth += c in "{[<("
            depth -= c in "}]>)"
            if depth == 0 and body.startswith(" | ", i):
                parts.append(cur)
                cur = ""
                i += 3
                continue
            cur += c
            i += 1
        return parts + [cur]

    def emit_interface(self, name: str, schema: dict) -> None:
        required = set(schema.get("required", []))
        lines = self.doc(schema["description"], "") if schema.get("description") else []
        lines.append(f"export interface {name} {{")
        for key, prop in schema.get("properties", {}).items():
            desc = prop.get("description", "") + default_note(prop, ts_literal)
            if desc:
                lines += self.doc(desc, "  ")
            opt = "" if key in required else "?"
            lines.append(f"  {camel(key)}{opt}: {self.type_of(prop, '  ')}")
        lines.append("}")
        self.out.append("\n".join(lines) + "\n\n")

    def render(self) -> str:
        for name, schema in self.s.options.items():
            self.done.add(name)
            self.emit_interface(name, schema)
        head = (
            "/* auto-generated by NAPI-RS */\n/* eslint-disable */\n\n"
            "// Option types: generated by scripts/gen_option_types.py from docs/api.json \"configs\"\n"
            "// (the core's config structs); napi build puts this file at the top of index.d.ts.\n\n"
        )
        return head + "".join(self.out).rstrip("\n") + "\n"


def pyi_with(block: str, current: str) -> str:
    start, end = current.find(BEGIN), current.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{PYI.relative_to(ROOT)}: the markers {BEGIN!r} / {END!r} are missing")
    return current[: start + len(BEGIN)] + "\n\n" + block + "\n" + current[end:]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args()
    configs = json.loads(API.read_text(encoding="utf-8"))["configs"]
    pyi_now = PYI.read_text(encoding="utf-8")
    pyi = pyi_with(Python(Schemas(configs)).render(), pyi_now)
    dts = TypeScript(Schemas(configs)).render()
    stale = []
    for path, text in ((PYI, pyi), (DTS_HEADER, dts)):
        now = path.read_text(encoding="utf-8") if path.exists() else None
        if now != text:
            if args.check:
                stale.append(str(path.relative_to(ROOT)))
            else:
                path.write_text(text, encoding="utf-8")
                print(f"{path.relative_to(ROOT)}: written")
    if args.check:
        # napi copies the header verbatim to the top of index.d.ts.
        index = INDEX_DTS.read_text(encoding="utf-8")
        if not index.startswith(dts):
            stale.append(f"{INDEX_DTS.relative_to(ROOT)} (regenerate with `npm run build` in bindings-node)")
        if stale:
            print(
                "option types are stale (docs/api.json \"configs\" changed): " + ", ".join(stale)
                + f"; run `{REGENERATE}` and commit the result",
                file=sys.stderr,
            )
            return 1
        print("option types match docs/api.json \"configs\"")
    return 0


if __name__ == "__main__":
    sys.exit(main())
