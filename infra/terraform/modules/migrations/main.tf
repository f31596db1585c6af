# The one-shot migration step: an ECS Fargate task (image built from infra/migrations/Dockerfile)
# that, before every rolling deploy,
#   1. bootstraps the component roles (urr_auth, urr_catalog, ...) idempotently, setting each
#      password from its Secrets Manager secret (as a SCRAM verifier: no clear text reaches the
#      server or its logs), and
#   2. applies the SQL migrations in migrations/ with sqlx (the same bookkeeping table the local
#      host uses).
# It connects to the DB instance directly (DDL and a real session; not through RDS Proxy) as the
# RDS-managed master user. ECS injects the secrets into the container's environment; none is in
# the task definition. infra/scripts/run-migrations.sh runs it and waits for its exit code.

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.region

  # ROLE_CREDENTIALS_URR_AUTH etc.: one environment variable per component role.
  role_secrets = [
    for role, arn in var.role_secret_arns : { name = "ROLE_CREDENTIALS_${upper(role)}", valueFrom = arn }
  ]

  container = {
    name                   = "migrate"
    image                  = "${aws_ecr_repository.migrations.repository_url}:${var.image_tag}"
    essential              = true
    readonlyRootFilesystem = true
    environment = [
      { name = "PGHOST", value = var.database_host },
      { name = "PGPORT", value = tostring(var.database_port) },
      { name = "PGDATABASE", value = var.database_name },
      { name = "URR_ROLES", value = join(",", sort(keys(var.role_secret_arns))) },
    ]
    secrets = concat(
      [{ name = "MASTER_CREDENTIALS", valueFrom = var.master_secret_arn }],
      local.role_secrets,
    )
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "migrate"
      }
    }
  }
}

resource "aws_ecr_repository" "migrations" {
  name                 = "${var.name}/urr-migrations"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete_repository

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
}

resource "aws_ecr_lifecycle_policy" "migrations" {
  repository = aws_ecr_repository.migrations.name

  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the newest 30 migration images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 30 }
      action       = { type = "expire" }
    }]
  })
}

resource "aws_ecs_cluster" "this" {
  name = "${var.name}-migrations"

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/urr/${var.name}/migrations"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_security_group" "this" {
  name        = "${var.name}-migrations"
  description = "Migration task: Postgres inside the VPC, HTTPS to AWS APIs; no ingress"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name}-migrations" }
}

resource "aws_vpc_security_group_egress_rule" "postgres" {
  security_group_id = aws_security_group.this.id
  description       = "Postgres to the DB instance"
  ip_protocol       = "tcp"
  from_port         = var.database_port
  to_port           = var.database_port
  cidr_ipv4         = var.vpc_cidr_block
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to ECR, Secrets Manager and CloudWatch Logs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# --- Execution role: pull the image, inject the secrets, write logs ------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-migrations-execution"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.migrations.arn]
  }

  statement {
    sid       = "InjectSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([var.master_secret_arn], values(var.role_secret_arns))
  }

  statement {
    sid       = "Decrypt"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com", "ecr.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "run-migrations"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# The container itself calls no AWS API: its task role has no permissions.
resource "aws_iam_role" "task" {
  name               = "${var.name}-migrations-task"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_ecs_task_definition" "this" {
  family                   = "${var.name}-migrations"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode([local.container])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
}
