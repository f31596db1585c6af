output "alarm_topic_arn" {
  description = "SNS topic all alarms notify."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of every alarm of the environment."
  value = concat(
    [
      aws_cloudwatch_metric_alarm.alb_5xx_rate.alarm_name,
      aws_cloudwatch_metric_alarm.unhealthy_targets.alarm_name,
      aws_cloudwatch_metric_alarm.healthy_targets_low.alarm_name,
      aws_cloudwatch_metric_alarm.fleet_memory.alarm_name,
      aws_cloudwatch_metric_alarm.rds_proxy_client_connections.alarm_name,
    ],
    [for a in aws_cloudwatch_metric_alarm.rds : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.redis : a.alarm_name],
  )
}
