"""Shape of the Terraform: module layout, typed and described variables, sensitive secrets,
pinned versions, and wiring: the environments call the stack module, which composes the others."""

import re

import hcl2
import pytest

from tfconfig import (
    COMPONENTS,
    ENVS,
    EXPECTED_ENVS,
    EXPECTED_MODULES,
    MODULES,
    STACK,
    STANDARD_FILES,
    TERRAFORM,
    all_dirs,
    callers,
    env,
    module,
    one,
    ref,
    stack,
)

# Names that hold secret VALUES. Names of ARNs, versions, switches and maps of ARNs do not.
SECRET_NAME = re.compile(r"(password|token|secret|private_key|signing_key|origin_verify_.*values?$)")
NOT_A_SECRET_VALUE = re.compile(r"(_arns?|_version|_generations?|_active|_variables|_name|_id)$")

MODULE_OUTPUT_REF = re.compile(r"module\.([a-z0-9_]+)\.([a-z0-9_]+)")
MOVED_BLOCK = re.compile(r"^moved\s*\{.*?^\}", re.M | re.S)
VAR_REF = re.compile(r"(?<![\w.])var\.([a-z0-9_]+)")
LOCAL_REF = re.compile(r"(?<![\w.])local\.([a-z0-9_]+)")
RESOURCE_REF = re.compile(r"(?<![\w.])(data\.|ephemeral\.)?((?:aws|random)_[a-z0-9_]+)\.([a-z0-9_]+)")


def dir_id(tf):
    return f"{tf.path.parent.name}/{tf.path.name}"


ALL = pytest.mark.parametrize("tf", all_dirs(), ids=dir_id)


def test_the_expected_modules_and_environments_exist():
    assert sorted(p.name for p in MODULES.iterdir() if p.is_dir()) == EXPECTED_MODULES
    assert sorted(p.name for p in ENVS.iterdir() if p.is_dir()) == EXPECTED_ENVS


@pytest.mark.parametrize("name", EXPECTED_MODULES)
def test_every_module_has_the_four_standard_files(name):
    present = {p.name for p in (MODULES / name).glob("*.tf")}
    assert set(STANDARD_FILES) <= present, f"{name} lacks {set(STANDARD_FILES) - present}"


def test_every_terraform_file_parses():
    files = sorted(TERRAFORM.rglob("*.tf"))
    assert len(files) >= 4 * len(EXPECTED_MODULES)
    for file in files:
        hcl2.loads(file.read_text())


@ALL
def test_every_variable_has_a_type_and_a_description(tf):
    for name, body in tf.variables.items():
        assert "type" in body, f"{dir_id(tf)}: variable {name} has no type"
        description = one(body.get("description", ""))
        assert isinstance(description, str) and len(description) > 10, f"{dir_id(tf)}: variable {name} has no description"


@ALL
def test_every_output_has_a_description(tf):
    for name, body in tf.outputs.items():
        assert one(body.get("description", "")), f"{dir_id(tf)}: output {name} has no description"


@ALL
def test_every_secret_variable_and_output_is_sensitive(tf):
    for kind, items in (("variable", tf.variables), ("output", tf.outputs)):
        for name, body in items.items():
            if SECRET_NAME.search(name) and not NOT_A_SECRET_VALUE.search(name):
                assert one(body.get("sensitive")) is True, f"{dir_id(tf)}: {kind} {name} holds a secret but is not sensitive"


def test_the_secret_name_rule_catches_what_it_should():
    holds_secret = lambda n: bool(SECRET_NAME.search(n)) and not NOT_A_SECRET_VALUE.search(n)
    assert holds_secret("auth_token")
    assert holds_secret("redis_auth_token")
    assert holds_secret("origin_verify_header_values")
    assert holds_secret("origin_verify_active_value")
    assert not holds_secret("redis_auth_secret_arn")
    assert not holds_secret("redis_auth_token_generation")
    assert not holds_secret("external_secret_variables")


@ALL
def test_versions_pin_terraform_and_the_aws_provider(tf):
    terraform = one(tf.files["versions.tf"]["terraform"])
    assert ref(terraform["required_version"]) == ">= 1.11.0, < 2.0.0"
    providers = one(terraform["required_providers"])
    aws = dict(one(providers["aws"]))
    # Only the stack module receives a second AWS provider (us-east-1, for the WAF).
    aliases = aws.pop("configuration_aliases", None)
    assert aws == {"source": "hashicorp/aws", "version": "~> 6.0"}
    assert aliases == (["${aws.us_east_1}"] if tf is stack() else None)


@pytest.mark.parametrize("name", EXPECTED_ENVS)
def test_environments_carry_a_commented_s3_and_dynamodb_backend_example(name):
    path = ENVS / name / "backend.tf"
    text = path.read_text()
    assert 'backend "s3"' in text and "dynamodb_table" in text and "encrypt" in text
    # Only an example: no active backend block (a clean clone must init without AWS).
    assert all(line.startswith("#") or not line.strip() for line in text.splitlines())
    assert f"urr-edge/{name}/terraform.tfstate" in text


CALLERS = pytest.mark.parametrize("tf", callers(), ids=dir_id)


@CALLERS
def test_module_calls_pass_only_declared_variables_and_every_required_one(tf):
    name = dir_id(tf)
    for call_name, call in tf.modules.items():
        source = one(call["source"])
        target = module(source.rsplit("/", 1)[-1])
        passed = {k for k in call if k not in ("source", "providers", "depends_on") and not k.startswith("__")}
        declared = set(target.variables)
        assert passed <= declared, f"{name}: module.{call_name} passes undeclared {sorted(passed - declared)}"
        required = {v for v, body in target.variables.items() if "default" not in body}
        assert required <= passed, f"{name}: module.{call_name} misses required {sorted(required - passed)}"


@CALLERS
def test_module_calls_reference_only_existing_module_outputs(tf):
    name = dir_id(tf)
    sources = {call: one(body["source"]).rsplit("/", 1)[-1] for call, body in tf.modules.items()}
    # moved blocks name module calls (module.stack.module.x), not outputs.
    code = MOVED_BLOCK.sub("", tf.text())
    for called, output in MODULE_OUTPUT_REF.findall(code):
        assert called in sources, f"{name}: reference to unknown module.{called}"
        outputs = module(sources[called]).outputs
        assert output in outputs, f"{name}: module.{called} has no output {output}"


def test_the_stack_composes_every_other_module_once():
    calls = stack().modules
    assert sorted(calls) == COMPONENTS
    for name, call in calls.items():
        assert one(call["source"]) == f"../{name}"
    assert not stack().resources(kind="resource") and not stack().resources(kind="data")


@pytest.mark.parametrize("name", EXPECTED_ENVS)
def test_environments_are_thin_and_call_only_the_stack(name):
    tf = env(name)
    assert list(tf.modules) == [STACK]
    assert one(tf.modules[STACK]["source"]) == f"../../modules/{STACK}"
    for kind in ("resource", "data", "ephemeral"):
        assert not tf.resources(kind=kind), f"{name}: {kind} blocks belong in a module"
    # Every output forwards the stack's output of the same name.
    assert set(tf.outputs) == set(stack().outputs)
    for output, body in tf.outputs.items():
        assert ref(body["value"]) == f"module.{STACK}.{output}", f"{name}: output {output}"


@pytest.mark.parametrize("name", EXPECTED_ENVS)
def test_environments_move_the_state_of_the_modules_they_used_to_call(name):
    # Before the stack module each environment called the modules itself: without these moves a
    # plan against existing state would replace every resource (a new VPC, KMS key and database).
    moves = {(ref(m["from"]), ref(m["to"])) for m in env(name)._top("moved")}
    assert moves == {(f"module.{c}", f"module.{STACK}.module.{c}") for c in COMPONENTS}


def forwarded(tf):
    """Arguments of an environment's module "stack" call that forward one of its variables."""
    return {k: ref(v) for k, v in tf.modules[STACK].items() if VAR_REF.fullmatch(ref(v))}


def test_staging_and_prod_call_the_stack_the_same_way():
    # Same inputs, forwarded the same way, same outputs; only the settings they pass as literals
    # (what makes each environment what it is) may differ.
    prod, staging = env("prod"), env("staging")
    assert one(prod.modules[STACK]["providers"]) == one(staging.modules[STACK]["providers"])
    assert set(prod.variables) == set(staging.variables)
    assert set(prod.outputs) == set(staging.outputs)
    assert forwarded(prod) == forwarded(staging)
    for tf in (prod, staging):
        # Each input reaches the stack variable of the same name ("region" configures the providers).
        assert all(value == f"var.{key}" for key, value in forwarded(tf).items())
        assert set(tf.variables) - {"region"} == set(forwarded(tf))


@ALL
def test_every_var_and_local_reference_is_declared(tf):
    text = "\n".join(t for n, t in tf.texts.items())
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for name in VAR_REF.findall(code):
        assert name in tf.variables, f"{dir_id(tf)}: var.{name} is not declared"
    for name in LOCAL_REF.findall(code):
        assert name in tf.locals, f"{dir_id(tf)}: local.{name} is not defined"


@ALL
def test_every_resource_reference_is_declared(tf):
    code = "\n".join(line for line in tf.text().splitlines() if not line.lstrip().startswith("#"))
    declared = {(r.kind, r.type, r.name) for kind in ("resource", "data", "ephemeral") for r in tf.resources(kind=kind)}
    for prefix, rtype, name in RESOURCE_REF.findall(code):
        kind = prefix.rstrip(".") or "resource"
        if name in ("id", "arn", "name"):  # a type name in a string, e.g. "aws_lb" in a comment
            continue
        # Skip matches inside block labels, e.g. resource "aws_x" "y" appears as aws_x" "y.
        assert (kind, rtype, name) in declared, f"{dir_id(tf)}: {prefix}{rtype}.{name} is not declared"


@ALL
def test_every_variable_is_used(tf):
    code = "\n".join(line for line in tf.text().splitlines() if not line.lstrip().startswith("#"))
    used = set(VAR_REF.findall(code))
    unused = set(tf.variables) - used
    assert not unused, f"{dir_id(tf)}: unused variables {sorted(unused)}"


@ALL
def test_for_each_keys_are_known_at_plan_time(tf):
    # IDs of resources created in the same apply are unknown at plan time; for_each over them
    # fails on a fresh account (count over their number does not).
    code = "\n".join(line for line in tf.text().splitlines() if not line.lstrip().startswith("#"))
    for expression in re.findall(r"for_each\s*=\s*(.+)", code):
        assert not re.search(r"toset\((var|module)\.[a-z0-9_]*_(ids|arns)\)", expression), f"{dir_id(tf)}: for_each = {expression}"


@pytest.mark.parametrize("name", EXPECTED_ENVS)
def test_tfvars_examples_set_only_declared_variables(name):
    # Terraform only warns about an undeclared variable in a .tfvars file and ignores its value.
    example = hcl2.loads((ENVS / name / "terraform.tfvars.example").read_text())
    undeclared = {key for key in example if not key.startswith("__")} - set(env(name).variables)
    assert not undeclared, f"{name}: terraform.tfvars.example sets undeclared {sorted(undeclared)}"
