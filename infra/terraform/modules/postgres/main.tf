# RDS PostgreSQL, the source of truth, behind RDS Proxy.
#
# Why the proxy: production Spin keeps a pool of up to 64 connections per Postgres address per
# node, and every component role is its own address (pg_address_auth, pg_address_catalog, ...).
# Eight roles on ten nodes could ask for 5,120 server connections; the proxy takes those client
# connections and multiplexes them onto at most max_connections_percent of the server's limit.
# The app runs every multi-row transition as ONE statement or SQL function (no BEGIN/COMMIT
# across calls), so connections are rarely pinned.

locals {
  major_version = split(".", var.engine_version)[0]
}

data "aws_region" "current" {}

resource "aws_db_subnet_group" "this" {
  name        = var.name
  description = "URR Edge ${var.name} data subnets"
  subnet_ids  = var.subnet_ids
}

# --- Security groups -------------------------------------------------------------------------------

resource "aws_security_group" "proxy" {
  name        = "${var.name}-rds-proxy"
  description = "RDS Proxy: Postgres from the Spin fleet only"
  vpc_id      = var.vpc_id

  tags = { Name = "${var.name}-rds-proxy" }
}

# count, not for_each: the group IDs are unknown until the groups exist, their number is not.
resource "aws_vpc_security_group_ingress_rule" "proxy_clients" {
  count = length(var.client_security_group_ids)

  security_group_id            = aws_security_group.proxy.id
  description                  = "Postgres from an allowed client security group"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = var.client_security_group_ids[count.index]
}

resource "aws_vpc_security_group_egress_rule" "proxy_to_db" {
  security_group_id            = aws_security_group.proxy.id
  description                  = "Postgres to the database instance"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.db.id
}

resource "aws_security_group" "db" {
  name        = "${var.name}-rds"
  description = "RDS PostgreSQL: from RDS Proxy and the migration task only"
  vpc_id      = var.vpc_id

  # No egress rules: the database never opens connections.
  tags = { Name = "${var.name}-rds" }
}

resource "aws_vpc_security_group_ingress_rule" "db_from_proxy" {
  security_group_id            = aws_security_group.db.id
  description                  = "Postgres from RDS Proxy"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.proxy.id
}

resource "aws_vpc_security_group_ingress_rule" "db_direct" {
  count = length(var.direct_access_security_group_ids)

  security_group_id            = aws_security_group.db.id
  description                  = "Postgres directly (role bootstrap and migrations need DDL and a session)"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = var.direct_access_security_group_ids[count.index]
}

# --- Parameters ------------------------------------------------------------------------------------

resource "aws_db_parameter_group" "this" {
  name        = "${var.name}-postgres${local.major_version}"
  family      = "postgres${local.major_version}"
  description = "URR Edge: TLS only, statement logging, short idle transactions"

  parameter {
    name         = "rds.force_ssl"
    value        = "1"
    apply_method = "pending-reboot"
  }

  parameter {
    name  = "password_encryption"
    value = "scram-sha-256"
  }

  # DDL only: role passwords are set as SCRAM verifiers, never as clear text, so DDL logging
  # cannot leak them.
  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.log_min_duration_statement_ms)
  }

  # Nothing in URR holds a transaction open across calls; one that idles is a bug or a stuck
  # operator session, and it would block vacuum and hold row locks.
  parameter {
    name  = "idle_in_transaction_session_timeout"
    value = "60000"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# --- Instance ----------------------------------------------------------------------------------

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.name}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  identifier     = var.name
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class
  db_name        = var.database_name
  port           = 5432

  # The master password is created, stored and rotated by RDS in Secrets Manager: it is never in
  # Terraform state. Only the migration task uses it.
  username                      = var.master_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  multi_az               = var.multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  # Automated backups give point-in-time recovery for the whole retention period.
  backup_retention_period   = var.backup_retention_days
  backup_window             = "16:00-17:00"
  maintenance_window        = "sun:17:30-sun:18:30"
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-final"

  iam_database_authentication_enabled   = true
  auto_minor_version_upgrade            = true
  allow_major_version_upgrade           = false
  apply_immediately                     = var.apply_immediately
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = 7
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]

  lifecycle {
    precondition {
      condition     = var.backup_retention_days >= 7
      error_message = "Keep at least 7 days of backups (point-in-time recovery window)."
    }
  }
}

# --- RDS Proxy -------------------------------------------------------------------------------------

data "aws_iam_policy_document" "proxy_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "proxy" {
  name               = "${var.name}-rds-proxy"
  assume_role_policy = data.aws_iam_policy_document.proxy_assume.json
}

data "aws_iam_policy_document" "proxy" {
  statement {
    sid       = "ReadRoleCredentials"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = values(var.role_secret_arns)
  }

  statement {
    sid       = "DecryptRoleCredentials"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${data.aws_region.current.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "proxy" {
  name   = "read-role-credentials"
  role   = aws_iam_role.proxy.id
  policy = data.aws_iam_policy_document.proxy.json
}

resource "aws_db_proxy" "this" {
  name                   = var.name
  engine_family          = "POSTGRESQL"
  require_tls            = true
  idle_client_timeout    = var.proxy_idle_client_timeout_secs
  debug_logging          = false
  role_arn               = aws_iam_role.proxy.arn
  vpc_subnet_ids         = var.subnet_ids
  vpc_security_group_ids = [aws_security_group.proxy.id]

  # One entry per component role; each secret holds {username, password}.
  dynamic "auth" {
    for_each = var.role_secret_arns

    content {
      description               = auth.key
      auth_scheme               = "SECRETS"
      iam_auth                  = "DISABLED"
      client_password_auth_type = "POSTGRES_SCRAM_SHA_256"
      secret_arn                = auth.value
    }
  }

  depends_on = [aws_iam_role_policy.proxy]
}

resource "aws_db_proxy_default_target_group" "this" {
  db_proxy_name = aws_db_proxy.this.name

  connection_pool_config {
    max_connections_percent      = var.proxy_max_connections_percent
    max_idle_connections_percent = 50
    connection_borrow_timeout    = 30
  }
}

resource "aws_db_proxy_target" "this" {
  db_proxy_name          = aws_db_proxy.this.name
  target_group_name      = aws_db_proxy_default_target_group.this.name
  db_instance_identifier = aws_db_instance.this.identifier
}
