# The Spin fleet: an auto-scaling group of Amazon Linux 2023 instances in private subnets, each
# running `spin up --from <ECR OCI reference>` under systemd (urr-spin.service).
#
# Deploys are rolling instance refreshes: changing app_version (or spin_version, or
# config_generation) changes the launch template, and the ASG replaces instances a few at a time,
# launching new ones before terminating old ones, rolling back if new ones never turn healthy.
#
# Secrets: user data carries only names, ARNs and endpoints (files/ and templates/). Values are
# fetched at service start by files/fetch-spin-env.py with the instance role.

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition

  parameter_path = "/urr/${var.environment}/spin/"
  registry       = "${local.account_id}.dkr.ecr.${local.region}.amazonaws.com"
  # A digest ("sha256:...") pins content; a tag is fine too because the repository is immutable.
  app_reference = startswith(var.app_version, "sha256:") ? "${aws_ecr_repository.app.repository_url}@${var.app_version}" : "${aws_ecr_repository.app.repository_url}:${var.app_version}"

  ami_architecture = var.architecture == "arm64" ? "arm64" : "x86_64"
  # Resolved by EC2 at launch, so a new AL2023 release does not change the launch template (and
  # does not trigger a fleet refresh by itself). Pin ami_id to control it exactly.
  image_id = coalesce(var.ami_id, "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${local.ami_architecture}")

  fleet_config = {
    region                      = local.region
    environment                 = var.environment
    parameter_path              = local.parameter_path
    plain_variables             = sort(keys(var.plain_variables))
    secret_variables            = var.secret_variables
    database_variables          = var.database_variables
    database                    = { host = var.database_host, port = var.database_port, name = var.database_name }
    redis                       = { variable = "redis_address", host = var.redis_host, port = var.redis_port, auth_secret_arn = var.redis_auth_secret_arn }
    app                         = { registry = local.registry, reference = local.app_reference, listen_port = var.listen_port }
    otel_exporter_otlp_endpoint = var.otel_exporter_otlp_endpoint
    # Bumping it changes user data, hence the launch template: a rolling refresh that re-reads
    # every parameter and secret.
    config_generation = var.config_generation
  }

  cloudwatch_agent_config = {
    agent = { run_as_user = "root" }
    logs = {
      logs_collected = {
        files = {
          collect_list = [
            { file_path = "/var/log/urr/**", log_group_name = aws_cloudwatch_log_group.spin.name, log_stream_name = "{instance_id}/spin" },
            { file_path = "/var/log/urr-bootstrap.log", log_group_name = aws_cloudwatch_log_group.spin.name, log_stream_name = "{instance_id}/bootstrap" },
          ]
        }
      }
    }
    metrics = {
      namespace         = var.metrics_namespace
      append_dimensions = { AutoScalingGroupName = "$${aws:AutoScalingGroupName}" }
      metrics_collected = {
        mem  = { measurement = ["mem_used_percent"] }
        disk = { measurement = ["used_percent"], resources = ["/"] }
      }
    }
  }

  user_data = templatefile("${path.module}/templates/user-data.sh.tftpl", {
    spin_version                 = var.spin_version
    spin_download_base_url       = var.spin_download_base_url
    spin_release_sha256          = var.spin_release_sha256
    fleet_config_json            = jsonencode(local.fleet_config)
    cloudwatch_agent_config_json = jsonencode(local.cloudwatch_agent_config)
    fetch_env_script             = file("${path.module}/files/fetch-spin-env.py")
    start_script                 = file("${path.module}/files/start-spin.sh")
    service_unit                 = file("${path.module}/files/urr-spin.service")
  })

  # Every Spin variable and where its value comes from (for operators and docs/deploy.md).
  spin_variable_sources = merge(
    { for name in keys(var.plain_variables) : name => "ssm:${local.parameter_path}${name}" },
    { for name, arn in var.secret_variables : name => "secretsmanager:${arn}" },
    { for name, arn in var.database_variables : name => "composed: postgres://<secret ${arn}>@${var.database_host}:${var.database_port}/${var.database_name}?sslmode=require" },
    { redis_address = "composed: rediss://:<secret ${var.redis_auth_secret_arn}>@${var.redis_host}:${var.redis_port}" },
  )
}

# --- Registry for the app's OCI artifact ---------------------------------------------------------

resource "aws_ecr_repository" "app" {
  name                 = "${var.name}/urr-edge"
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

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name

  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the newest ${var.keep_app_versions} app versions (rollback targets)"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = var.keep_app_versions
      }
      action = { type = "expire" }
    }]
  })
}

# --- Plain (non-secret) Spin variables ------------------------------------------------------------
# SecureString anyway: one code path, and nothing in the account can read them without the key.

resource "aws_ssm_parameter" "plain" {
  for_each = var.plain_variables

  name        = "${local.parameter_path}${each.key}"
  description = "URR Edge Spin variable ${each.key}"
  type        = "SecureString"
  key_id      = var.kms_key_arn
  value       = each.value
  tier        = length(each.value) > 4096 ? "Advanced" : "Standard"
}

# --- Logs ------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "spin" {
  name              = "/urr/${var.name}/spin"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# --- Network ---------------------------------------------------------------------------------------

resource "aws_security_group" "this" {
  name        = "${var.name}-spin-fleet"
  description = "Spin fleet: HTTPS from the ALB only"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name}-spin-fleet" }
}

resource "aws_vpc_security_group_ingress_rule" "from_alb" {
  security_group_id            = aws_security_group.this.id
  description                  = "Spin HTTPS from the ALB (traffic and health checks)"
  ip_protocol                  = "tcp"
  from_port                    = var.listen_port
  to_port                      = var.listen_port
  referenced_security_group_id = var.alb_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS out: payment provider, Google sign-in keys, AWS APIs, ECR, Spin release download"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "redis" {
  security_group_id = aws_security_group.this.id
  description       = "Redis (TLS) inside the VPC"
  ip_protocol       = "tcp"
  from_port         = var.redis_port
  to_port           = var.redis_port
  cidr_ipv4         = var.vpc_cidr_block
}

resource "aws_vpc_security_group_egress_rule" "postgres" {
  security_group_id = aws_security_group.this.id
  description       = "Postgres (TLS) to RDS Proxy inside the VPC"
  ip_protocol       = "tcp"
  from_port         = var.database_port
  to_port           = var.database_port
  cidr_ipv4         = var.vpc_cidr_block
}

# --- Instance role (least privilege) -------------------------------------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-spin-fleet"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "instance" {
  statement {
    sid     = "ReadSpinParameters"
    actions = ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"]
    resources = [
      "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${trimsuffix(local.parameter_path, "/")}",
      "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.parameter_path}*",
    ]
  }

  statement {
    sid       = "ReadSpinSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = distinct(concat(values(var.secret_variables), values(var.database_variables), [var.redis_auth_secret_arn]))
  }

  statement {
    sid       = "DecryptThroughSecretsManagerAndSsm"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com", "ssm.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullApp"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.app.arn]
  }

  statement {
    sid       = "DecryptAppLayers"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ecr.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "ShipLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.spin.arn}:*"]
  }

  statement {
    sid       = "PutInstanceMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.metrics_namespace]
    }
  }

  statement {
    sid       = "DescribeSelfForMetricDimensions"
    actions   = ["ec2:DescribeTags"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "instance" {
  name   = "urr-spin-instance"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.instance.json
}

# Session Manager instead of SSH (no key pairs, no port 22). The minimal set of actions, not the
# AmazonSSMManagedInstanceCore managed policy, which would also let the instance read every
# parameter in the account.
data "aws_iam_policy_document" "session_manager" {
  statement {
    sid       = "RegisterWithSsm"
    actions   = ["ssm:UpdateInstanceInformation"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*"]
  }

  statement {
    sid = "SessionChannels"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "session_manager" {
  count = var.enable_session_manager ? 1 : 0

  name   = "session-manager"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.session_manager.json
}

resource "aws_iam_instance_profile" "this" {
  name = "${var.name}-spin-fleet"
  role = aws_iam_role.this.name
}

# --- Launch template and auto-scaling group ------------------------------------------------------

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-spin-"
  description            = "URR Edge on Spin ${var.spin_version}, app ${var.app_version}"
  image_id               = local.image_id
  instance_type          = var.instance_type
  vpc_security_group_ids = [aws_security_group.this.id]
  user_data              = base64gzip(local.user_data)
  update_default_version = true
  ebs_optimized          = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
  }

  # IMDSv2 only, one hop: containers or proxies on the host cannot borrow the role.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = var.root_volume_size_gb
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name}-spin" }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = { Name = "${var.name}-spin" }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_autoscaling_group" "this" {
  name                = "${var.name}-spin"
  vpc_zone_identifier = var.subnet_ids
  min_size            = var.min_size
  max_size            = var.max_size
  desired_capacity    = var.desired_capacity
  target_group_arns   = [var.target_group_arn]

  # The ALB's view of health (shallow /health) decides replacement.
  health_check_type         = "ELB"
  health_check_grace_period = 180
  default_instance_warmup   = 120
  wait_for_capacity_timeout = "15m"
  termination_policies      = ["OldestLaunchTemplate", "OldestInstance"]

  enabled_metrics = [
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupMaxSize",
    "GroupMinSize",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
  ]

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  # Launch before terminate: capacity never drops below 100% during a deploy.
  instance_maintenance_policy {
    min_healthy_percentage = 100
    max_healthy_percentage = 150
  }

  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = 100
      max_healthy_percentage = 150
      instance_warmup        = 120
      skip_matching          = true
      auto_rollback          = true
    }
  }

  tag {
    key                 = "Name"
    value               = "${var.name}-spin"
    propagate_at_launch = true
  }

  lifecycle {
    # Target tracking owns the desired capacity after creation.
    ignore_changes = [desired_capacity]
  }
}

resource "aws_autoscaling_policy" "requests_per_target" {
  name                   = "${var.name}-alb-requests-per-target"
  autoscaling_group_name = aws_autoscaling_group.this.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${var.alb_arn_suffix}/${var.target_group_arn_suffix}"
    }

    target_value = var.target_requests_per_instance_per_minute
  }
}
