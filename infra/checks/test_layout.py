"""Shape of the Terraform: module layout, typed and described variables, sensitive secrets,
pinned versions, and wiring between the environments and the modules."""

import re

import hcl2
import pytest

from tfconfig import (
    ENVS,
    EXPECTED_ENVS,
    EXPECTED_MODULES,
    MODULES,
    STANDARD_FILES,
    TERRAFORM,
    all_dirs,
    env,
    module,
    one,
    ref,
)

# Names that hold secret VALUES. Names of ARNs, versions, switches and maps of ARNs do not.
SECRET_NAME = re.compile(r"(password|token|secret|private_key|signing_key|origin_verify_.*values?$)")
NOT_A_SECRET_VALUE = re.compile(r"(_arns?|_version|_generations?|_active|_variables|_name|_id)$")

MODULE_OUTPUT_REF = re.compile(r"module\.([a-z0-9_]+)\.([a-z0-9_]+)")
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
    aws = one(providers["aws"])
    assert aws == {"source": "hashicorp/aws", "version": "~> 6.0"}


@pytest.mark.parametrize("name", EXPECTED_ENVS)
def test_environments_carry_a_commented_s3_and_dynamodb_backend_example(name):
    path = ENVS / name / "backend.tf"
    text = path.read_text()
    assert 'backend "s3"' in text and "dynamodb_table" in text and "encrypt" in text
    # Only an example: no active backend block (a clean clone must init without AWS).
    assert all(line.startswith("#") or not line.strip() for line in text.splitlines())
    assert f"urr-edge/{name}/terraform.tfstate" in text


@pytest.mark.parametrize("name", EXPECTED_ENVS)
def test_environments_pass_only_declared_variables_and_every_required_one(name):
    tf = env(name)
    for call_name, call in tf.modules.items():
        source = one(call["source"])
        target = module(source.rsplit("/", 1)[-1])
        passed = {k for k in call if k not in ("source", "providers", "depends_on") and not k.startswith("__")}
        declared = set(target.variables)
        assert passed <= declared, f"{name}: module.{call_name} passes undeclared {sorted(passed - declared)}"
        required = {v for v, body in target.variables.items() if "default" not in body}
        assert required <= passed, f"{name}: module.{call_name} misses required {sorted(required - passed)}"


@pytest.mark.parametrize("name", EXPECTED_ENVS)
def test_environments_reference_only_existing_module_outputs(name):
    tf = env(name)
    sources = {call: one(body["source"]).rsplit("/", 1)[-1] for call, body in tf.modules.items()}
    for called, output in MODULE_OUTPUT_REF.findall(tf.text()):
        assert called in sources, f"{name}: reference to unknown module.{called}"
        outputs = module(sources[called]).outputs
        assert output in outputs, f"{name}: module.{called} has no output {output}"


def test_staging_and_prod_compose_the_same_modules_the_same_way():
    prod, staging = env("prod"), env("staging")
    assert set(prod.modules) == set(staging.modules) == set(EXPECTED_MODULES)
    for name in prod.modules:
        assert set(prod.modules[name]) - {"__start_line__", "__end_line__"} == set(staging.modules[name]) - {"__start_line__", "__end_line__"}
    assert set(prod.variables) == set(staging.variables)
    assert set(prod.outputs) == set(staging.outputs)


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
