output "cloudfront_domain_name" {
  description = "The site's CloudFront domain: https://<this>/health must answer 200."
  value       = module.stack.cloudfront_domain_name
}

output "cloudfront_distribution_id" {
  description = "CloudFront distribution ID (for invalidations)."
  value       = module.stack.cloudfront_distribution_id
}

output "alb_dns_name" {
  description = "ALB DNS name (answers 403 to anything but CloudFront)."
  value       = module.stack.alb_dns_name
}

output "repository_url" {
  description = "ECR repository for the app's OCI artifact (`spin registry push <this>:<version>`)."
  value       = module.stack.repository_url
}

output "migrations_repository_url" {
  description = "ECR repository for the migration image."
  value       = module.stack.migrations_repository_url
}

output "web_bucket" {
  description = "S3 bucket of the static web app (null with a custom web origin)."
  value       = module.stack.web_bucket
}

output "autoscaling_group_name" {
  description = "Auto-scaling group of the Spin fleet."
  value       = module.stack.autoscaling_group_name
}

output "app_reference" {
  description = "OCI reference the fleet runs."
  value       = module.stack.app_reference
}

output "spin_variable_sources" {
  description = "Every Spin variable and where the fleet reads it from (no values)."
  value       = module.stack.spin_variable_sources
}

output "external_secret_arns" {
  description = "Secrets whose values an operator puts (signing keys, payment provider keys)."
  value       = module.stack.external_secret_arns
}

output "migrations" {
  description = "What infra/scripts/run-migrations.sh needs to run the one-shot migration task."
  value       = module.stack.migrations
}

output "alarm_topic_arn" {
  description = "SNS topic of the CloudWatch alarms."
  value       = module.stack.alarm_topic_arn
}
