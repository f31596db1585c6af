"""Parsed view of infra/terraform for the tests: every directory's .tf files parsed with the HCL
parser checkov uses (bc-python-hcl2), plus the small helpers the assertions need.

That parser wraps every attribute value in a one-element list and keeps expressions as
"${...}" strings; `one()` unwraps, `ref()` strips the interpolation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import hcl2

INFRA = Path(__file__).resolve().parents[1]
TERRAFORM = INFRA / "terraform"
REPO = INFRA.parent
MODULES = TERRAFORM / "modules"
ENVS = TERRAFORM / "envs"

EXPECTED_MODULES = [
    "alb",
    "cloudfront",
    "migrations",
    "monitoring",
    "network",
    "postgres",
    "redis",
    "secrets",
    "spin_fleet",
    "stack",
    "waf",
]
# The stack module composes every other module; each environment calls the stack module only.
STACK = "stack"
COMPONENTS = [name for name in EXPECTED_MODULES if name != STACK]
EXPECTED_ENVS = ["prod", "staging"]
STANDARD_FILES = ["main.tf", "variables.tf", "outputs.tf", "versions.tf"]


def one(value):
    """Unwrap the parser's one-element list around an attribute value."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def ref(value) -> str:
    """"${var.x}" -> "var.x"; anything else as a string."""
    value = one(value)
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return str(value)


def blocks(body: dict, name: str) -> list[dict]:
    """Nested blocks of one type (static ones; dynamic blocks are under "dynamic")."""
    found = body.get(name, [])
    return found if isinstance(found, list) else [found]


def dynamic_blocks(body: dict, name: str) -> list[dict]:
    """The `dynamic "<name>"` blocks of a body, as {"for_each": ..., "content": [...]}."""
    return [d[name] for d in body.get("dynamic", []) if name in d]


@dataclass
class Resource:
    kind: str  # "resource", "data" or "ephemeral"
    type: str
    name: str
    body: dict
    file: Path

    @property
    def address(self) -> str:
        prefix = "" if self.kind == "resource" else self.kind + "."
        return f"{prefix}{self.type}.{self.name}"


@dataclass
class TfDir:
    path: Path
    files: dict[str, dict] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def _top(self, key: str) -> list:
        return [item for parsed in self.files.values() for item in parsed.get(key, [])]

    def _named(self, key: str) -> dict[str, dict]:
        return {name: body for item in self._top(key) for name, body in item.items()}

    @property
    def variables(self) -> dict[str, dict]:
        return self._named("variable")

    @property
    def outputs(self) -> dict[str, dict]:
        return self._named("output")

    @property
    def modules(self) -> dict[str, dict]:
        return self._named("module")

    @property
    def locals(self) -> dict:
        merged = {}
        for item in self._top("locals"):
            merged.update({k: v for k, v in item.items() if not k.startswith("__")})
        return merged

    def resources(self, type_: str | None = None, kind: str = "resource") -> list[Resource]:
        found = []
        for file_name, parsed in self.files.items():
            for item in parsed.get(kind, []):
                for rtype, named in item.items():
                    for name, body in named.items():
                        if type_ is None or rtype == type_:
                            found.append(Resource(kind, rtype, name, body, self.path / file_name))
        return found

    def resource(self, type_: str, name: str, kind: str = "resource") -> Resource:
        matches = [r for r in self.resources(type_, kind) if r.name == name]
        assert matches, f"{self.path.name}: no {kind} {type_}.{name}"
        return matches[0]

    def text(self) -> str:
        return "\n".join(self.texts[name] for name in sorted(self.texts))


@lru_cache(maxsize=None)
def load(path: Path) -> TfDir:
    tf = TfDir(path)
    for file in sorted(path.glob("*.tf")):
        text = file.read_text()
        tf.texts[file.name] = text
        tf.files[file.name] = hcl2.loads(text)
    return tf


def module(name: str) -> TfDir:
    return load(MODULES / name)


def env(name: str) -> TfDir:
    return load(ENVS / name)


def stack() -> TfDir:
    return module(STACK)


def all_dirs() -> list[TfDir]:
    return [module(m) for m in EXPECTED_MODULES] + [env(e) for e in EXPECTED_ENVS]


def callers() -> list[TfDir]:
    """Every directory that calls modules: the environments and the stack module."""
    return [env(e) for e in EXPECTED_ENVS] + [stack()]


LOCAL_REF = re.compile(r"^local\.([a-z0-9_]+)$")
VAR_REF = re.compile(r"^var\.([a-z0-9_]+)$")


def stack_argument(env_name: str, variable: str):
    """What an environment gives one variable of the stack module: the literal its module "stack"
    call passes, following one local.x or var.x (with a default) hop; the stack's default if it
    passes none; the raw expression if it is not a literal."""
    tf = env(env_name)
    raw = one(tf.modules[STACK].get(variable))
    if raw is None:
        return one(stack().variables[variable].get("default"))
    expression = ref(raw)
    if m := LOCAL_REF.match(expression):
        return one(tf.locals[m.group(1)])
    if m := VAR_REF.match(expression):
        return one(tf.variables[m.group(1)].get("default"))
    return raw


def env_value(env_name: str, module_name: str, argument: str):
    """The value an environment ends up passing to one argument of a module the stack composes:
    the stack's argument, followed through var.x back to the environment's module "stack" call
    (or through local.x to a literal in the stack); the module's default if the stack passes none;
    the raw expression if it is not a literal."""
    raw = one(stack().modules[module_name].get(argument))
    if raw is None:
        return module_default(module_name, argument)
    expression = ref(raw)
    if m := VAR_REF.match(expression):
        return stack_argument(env_name, m.group(1))
    if m := LOCAL_REF.match(expression):
        return one(stack().locals[m.group(1)])
    return raw


def module_default(module_name: str, variable: str):
    return one(module(module_name).variables[variable].get("default"))


def ingress_rules(tf: TfDir) -> list[Resource]:
    return tf.resources("aws_vpc_security_group_ingress_rule")


def egress_rules(tf: TfDir) -> list[Resource]:
    return tf.resources("aws_vpc_security_group_egress_rule")
