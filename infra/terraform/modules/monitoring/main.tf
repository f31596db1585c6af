# CloudWatch alarms for what pages an operator: API 5xx rate, target health, fleet memory, and
# CPU / memory / connections of RDS, RDS Proxy and every ElastiCache node. All alarms notify one
# KMS-encrypted SNS topic.

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  actions = [aws_sns_topic.alarms.arn]

  alb_dimensions = { LoadBalancer = var.alb_arn_suffix }
  tg_dimensions  = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
}

# --- Edge: 5xx rate and target health --------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "alb_5xx_rate" {
  alarm_name          = "${var.name}-api-5xx-rate"
  alarm_description   = "More than ${var.http_5xx_rate_percent}% of API requests answered 5xx (targets or the ALB itself)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.http_5xx_rate_percent
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests > ${var.http_5xx_min_requests}, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)"
    label       = "5xx rate (%)"
    return_data = true
  }

  metric_query {
    id = "target5xx"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = local.alb_dimensions
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "elb5xx"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      dimensions  = local.alb_dimensions
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = local.alb_dimensions
      period      = 60
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_targets" {
  alarm_name          = "${var.name}-unhealthy-targets"
  alarm_description   = "At least one Spin instance fails the shallow /health check."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = local.tg_dimensions
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "healthy_targets_low" {
  alarm_name          = "${var.name}-healthy-targets-low"
  alarm_description   = "Fewer healthy Spin instances than the minimum the environment needs."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = local.tg_dimensions
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "LessThanThreshold"
  threshold           = var.min_healthy_targets
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "fleet_memory" {
  alarm_name          = "${var.name}-fleet-memory"
  alarm_description   = "Average memory use of the Spin instances is high (CloudWatch agent metric)."
  namespace           = var.fleet_metrics_namespace
  metric_name         = "mem_used_percent"
  dimensions          = { AutoScalingGroupName = var.autoscaling_group_name }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.fleet_memory_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

# --- RDS and RDS Proxy ---------------------------------------------------------------------------

locals {
  rds_alarms = {
    cpu = {
      metric      = "CPUUtilization"
      statistic   = "Average"
      operator    = "GreaterThanThreshold"
      threshold   = var.rds_cpu_percent
      description = "RDS CPU above ${var.rds_cpu_percent}%."
    }
    freeable-memory = {
      metric      = "FreeableMemory"
      statistic   = "Minimum"
      operator    = "LessThanThreshold"
      threshold   = var.rds_freeable_memory_bytes
      description = "RDS freeable memory below ${var.rds_freeable_memory_bytes} bytes."
    }
    connections = {
      metric      = "DatabaseConnections"
      statistic   = "Maximum"
      operator    = "GreaterThanThreshold"
      threshold   = var.rds_max_connections
      description = "RDS server connections above ${var.rds_max_connections} (RDS Proxy should keep this flat)."
    }
    free-storage = {
      metric      = "FreeStorageSpace"
      statistic   = "Minimum"
      operator    = "LessThanThreshold"
      threshold   = var.rds_free_storage_bytes
      description = "RDS free storage below ${var.rds_free_storage_bytes} bytes."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "rds" {
  for_each = local.rds_alarms

  alarm_name          = "${var.name}-rds-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/RDS"
  metric_name         = each.value.metric
  dimensions          = { DBInstanceIdentifier = var.db_instance_identifier }
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 3
  comparison_operator = each.value.operator
  threshold           = each.value.threshold
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "rds_proxy_client_connections" {
  alarm_name          = "${var.name}-rds-proxy-client-connections"
  alarm_description   = "Client connections to RDS Proxy above ${var.rds_proxy_max_client_connections} (up to 64 per component role per Spin instance)."
  namespace           = "AWS/RDS"
  metric_name         = "ClientConnections"
  dimensions          = { ProxyName = var.db_proxy_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.rds_proxy_max_client_connections
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

# --- ElastiCache, per node ---------------------------------------------------------------------
# Spin opens a new TLS connection per request: host CPU (handshakes) and NewConnections are the
# numbers that move first under load.

locals {
  redis_alarms = {
    cpu = {
      metric      = "CPUUtilization"
      statistic   = "Average"
      threshold   = var.redis_cpu_percent
      description = "ElastiCache host CPU (TLS handshakes) above ${var.redis_cpu_percent}%."
    }
    engine-cpu = {
      metric      = "EngineCPUUtilization"
      statistic   = "Average"
      threshold   = var.redis_engine_cpu_percent
      description = "Redis engine thread CPU above ${var.redis_engine_cpu_percent}%."
    }
    memory = {
      metric      = "DatabaseMemoryUsagePercentage"
      statistic   = "Maximum"
      threshold   = var.redis_memory_percent
      description = "Redis memory above ${var.redis_memory_percent}%; with noeviction, writes fail when it is full."
    }
    connections = {
      metric      = "CurrConnections"
      statistic   = "Maximum"
      threshold   = var.redis_max_connections
      description = "Open Redis connections above ${var.redis_max_connections}."
    }
    new-connections = {
      metric      = "NewConnections"
      statistic   = "Sum"
      threshold   = var.redis_max_new_connections_per_5min
      description = "More than ${var.redis_max_new_connections_per_5min} new Redis connections in 5 minutes."
    }
  }

  redis_node_alarms = merge([
    for node in var.redis_cluster_ids : {
      for key, alarm in local.redis_alarms : "${node}-${key}" => merge(alarm, { node = node })
    }
  ]...)
}

resource "aws_cloudwatch_metric_alarm" "redis" {
  for_each = local.redis_node_alarms

  alarm_name          = "${var.name}-redis-${each.key}"
  alarm_description   = "${each.value.node}: ${each.value.description}"
  namespace           = "AWS/ElastiCache"
  metric_name         = each.value.metric
  dimensions          = { CacheClusterId = each.value.node }
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}
