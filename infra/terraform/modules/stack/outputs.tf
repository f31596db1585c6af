output "cloudfront_domain_name" {
  description = "The site's CloudFront domain: https://<this>/health must answer 200."
  value       = module.cloudfront.domain_name
}

output "cloudfront_distribution_id" {
  description = "CloudFront distribution ID (for invalidations)."
  value       = module.cloudfront.distribution_id
}

output "alb_dns_name" {
  description = "ALB DNS name (answers 403 to anything but CloudFront)."
  value       = module.alb.dns_name
}

output "repository_url" {
  description = "ECR repository for the app's OCI artifact (`spin registry push <this>:<version>`)."
  value       = module.spin_fleet.repository_url
}

output "migrations_repository_url" {
  description = "ECR repository for the migration image."
  value       = module.migrations.repository_url
}

output "web_bucket" {
  description = "S3 bucket of the static web app (null with a custom web origin)."
  value       = module.cloudfront.web_bucket
}

output "autoscaling_group_name" {
  description = "Auto-scaling group of the Spin fleet."
  value       = module.spin_fleet.autoscaling_group_name
}

output "app_reference" {
  description = "OCI reference the fleet runs."
  value       = module.spin_fleet.app_reference
}

output "spin_variable_sources" {
  description = "Every Spin variable and where the fleet reads it from (no values)."
  value       = module.spin_fleet.spin_variable_sources
}

output "external_secret_arns" {
  description = "Secrets whose values an operator puts (signing keys, payment provider keys)."
  value       = module.secrets.external_secret_arns
}

output "migrations" {
  description = "What infra/scripts/run-migrations.sh needs to run the one-shot migration task."
  value = {
    cluster          = module.migrations.cluster_name
    task_definition  = module.migrations.task_definition_family
    subnet_ids       = module.migrations.subnet_ids
    security_group   = module.migrations.security_group_id
    log_group        = module.migrations.log_group_name
    repository_url   = module.migrations.repository_url
    database_address = module.postgres.instance_address
  }
}

output "alarm_topic_arn" {
  description = "SNS topic of the CloudWatch alarms."
  value       = module.monitoring.alarm_topic_arn
}
