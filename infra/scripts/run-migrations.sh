#!/usr/bin/env bash
# Run the one-shot migration task (role bootstrap + SQL migrations) of an environment and wait for
# it: exits non-zero, printing where the logs are, if the task fails. Run it BEFORE rolling the
# fleet to a new app version (see docs/deploy.md).
#
#   infra/scripts/run-migrations.sh staging|prod
#
# Needs: terraform (the environment initialised with its state), the AWS CLI v2, python3.
set -euo pipefail

env_name="${1:?usage: run-migrations.sh staging|prod}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
env_dir="$repo_root/infra/terraform/envs/$env_name"
[[ -d "$env_dir" ]] || { echo "no such environment: $env_name" >&2; exit 2; }

outputs="$(terraform -chdir="$env_dir" output -json migrations)"
field() { python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(",".join(v) if isinstance(v, list) else v)' "$1" <<<"$outputs"; }
cluster="$(field cluster)"
task_definition="$(field task_definition)"
subnets="$(field subnet_ids)"
security_group="$(field security_group)"
log_group="$(field log_group)"

echo "Starting $task_definition on $cluster"
task_arn="$(aws ecs run-task \
  --cluster "$cluster" \
  --task-definition "$task_definition" \
  --launch-type FARGATE \
  --started-by urr-migrate \
  --network-configuration "awsvpcConfiguration={subnets=[$subnets],securityGroups=[$security_group],assignPublicIp=DISABLED}" \
  --query 'tasks[0].taskArn' --output text)"
[[ "$task_arn" == arn:* ]] || { echo "run-task did not start a task" >&2; exit 1; }
echo "Task $task_arn; waiting for it to stop"

aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task_arn"
exit_code="$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" \
  --query 'tasks[0].containers[0].exitCode' --output text)"
reason="$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" \
  --query 'tasks[0].stoppedReason' --output text)"

if [[ "$exit_code" != "0" ]]; then
  echo "Migration task failed (exit code $exit_code, $reason)." >&2
  echo "Logs: aws logs tail $log_group --since 1h" >&2
  exit 1
fi
echo "Migrations applied."
