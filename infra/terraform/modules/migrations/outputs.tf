output "repository_url" {
  description = "ECR repository URL for the migration image."
  value       = aws_ecr_repository.migrations.repository_url
}

output "cluster_name" {
  description = "ECS cluster the migration task runs in."
  value       = aws_ecs_cluster.this.name
}

output "task_definition_family" {
  description = "Task definition family (run-task takes the latest revision when given the family)."
  value       = aws_ecs_task_definition.this.family
}

output "security_group_id" {
  description = "Security group of the task (the DB instance admits it directly)."
  value       = aws_security_group.this.id
}

output "subnet_ids" {
  description = "Subnets the task runs in."
  value       = var.subnet_ids
}

output "log_group_name" {
  description = "CloudWatch log group of the task."
  value       = aws_cloudwatch_log_group.this.name
}
