# ElastiCache (Redis OSS) for the waiting room, seat holds, rate limits and deny-lists.
#
# Shaped by how production Spin talks to Redis:
# - cluster mode DISABLED: Spin's Redis client is not a cluster client; one primary endpoint that
#   follows failover is what it needs;
# - a NEW TLS connection per request: Spin does not pool Redis connections across requests, so
#   node CPU goes to TLS handshakes. Prefer non-burstable node types (m7g/r7g) in prod, keep an
#   eye on NewConnections and CPUUtilization (monitoring module), and leave idle timeout at 0 so
#   the server never closes a connection a request is still using;
# - noeviction: holds and queue positions must never disappear silently; a full Redis answers
#   errors, which the app turns into fail-closed 503s.

resource "aws_elasticache_subnet_group" "this" {
  name        = var.name
  description = "URR Edge ${var.name} data subnets"
  subnet_ids  = var.subnet_ids
}

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "ElastiCache: TLS Redis from the Spin fleet only"
  vpc_id      = var.vpc_id

  # No egress rules: Redis never opens connections.
  tags = { Name = "${var.name}-redis" }
}

# count, not for_each: the group IDs are unknown until the groups exist, their number is not.
resource "aws_vpc_security_group_ingress_rule" "clients" {
  count = length(var.client_security_group_ids)

  security_group_id            = aws_security_group.this.id
  description                  = "Redis over TLS from an allowed client security group"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = var.client_security_group_ids[count.index]
}

resource "aws_elasticache_parameter_group" "this" {
  name        = "${var.name}-redis7"
  family      = "redis7"
  description = "URR Edge: noeviction, no idle timeout"

  parameter {
    name  = "maxmemory-policy"
    value = "noeviction"
  }

  # Connections are short-lived and closed by the client; never cut one from the server side.
  parameter {
    name  = "timeout"
    value = "0"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "slow_log" {
  name              = "/urr/${var.name}/redis/slow-log"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "URR Edge ${var.name} Redis (cluster mode disabled)"

  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  port                 = var.port
  parameter_group_name = aws_elasticache_parameter_group.this.name
  subnet_group_name    = aws_elasticache_subnet_group.this.name
  security_group_ids   = [aws_security_group.this.id]

  cluster_mode       = "disabled"
  num_cache_clusters = var.num_cache_clusters

  automatic_failover_enabled = var.multi_az
  multi_az_enabled           = var.multi_az

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = var.auth_token
  # ROTATE keeps the previous token valid too, so instances still holding it keep working until
  # the rolling refresh has replaced them.
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit   = var.snapshot_retention_days
  snapshot_window            = "17:00-18:00"
  maintenance_window         = "sun:18:00-sun:19:00"
  auto_minor_version_upgrade = true
  apply_immediately          = var.apply_immediately
  notification_topic_arn     = var.notification_topic_arn

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.slow_log.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  lifecycle {
    precondition {
      condition     = !var.multi_az || var.num_cache_clusters >= 2
      error_message = "Multi-AZ failover needs num_cache_clusters >= 2 (a primary and a replica)."
    }
  }
}
