output "repository_url" {
  description = "ECR repository URL for `spin registry push`."
  value       = aws_ecr_repository.app.repository_url
}

output "repository_arn" {
  description = "ARN of the ECR repository."
  value       = aws_ecr_repository.app.arn
}

output "app_reference" {
  description = "The OCI reference the fleet runs."
  value       = local.app_reference
}

output "autoscaling_group_name" {
  description = "Name of the auto-scaling group (for `aws autoscaling start-instance-refresh`)."
  value       = aws_autoscaling_group.this.name
}

output "security_group_id" {
  description = "Security group of the fleet (Redis and RDS Proxy admit it)."
  value       = aws_security_group.this.id
}

output "instance_role_arn" {
  description = "ARN of the instance role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "CloudWatch log group with the Spin component logs and the bootstrap log."
  value       = aws_cloudwatch_log_group.spin.name
}

output "parameter_path" {
  description = "SSM path of the plain Spin variables."
  value       = local.parameter_path
}

output "spin_variable_sources" {
  description = "Every Spin variable and where its value comes from (no values)."
  value       = local.spin_variable_sources
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the instance metrics."
  value       = var.metrics_namespace
}
