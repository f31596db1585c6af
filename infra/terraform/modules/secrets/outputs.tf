output "kms_key_arn" {
  description = "ARN of the environment's customer managed KMS key."
  value       = aws_kms_key.this.arn
}

output "database_secret_arns" {
  description = "Secrets Manager ARN of each Postgres component role's credentials, keyed by role name (urr_auth, ...)."
  value       = { for suffix, role in local.database_roles : role => aws_secretsmanager_secret.database[suffix].arn }
}

output "database_roles" {
  description = "Postgres component roles keyed by Spin variable suffix (auth => urr_auth)."
  value       = local.database_roles
}

output "redis_auth_secret_arn" {
  description = "Secrets Manager ARN of the Redis AUTH token."
  value       = aws_secretsmanager_secret.redis_auth.arn
}

output "redis_auth_token" {
  description = "The Redis AUTH token, for the ElastiCache replication group."
  value       = random_password.redis_auth.result
  sensitive   = true
}

output "external_secret_arns" {
  description = "Secrets Manager ARN of each operator-managed secret Spin variable, keyed by variable name."
  value       = { for v, s in aws_secretsmanager_secret.external : v => s.arn }
}

output "all_secret_arns" {
  description = "Every secret ARN of this module (for IAM policies)."
  value = concat(
    [for s in aws_secretsmanager_secret.database : s.arn],
    [aws_secretsmanager_secret.redis_auth.arn],
    [for s in aws_secretsmanager_secret.external : s.arn],
  )
}

output "origin_verify_header_values" {
  description = "Both origin-verify header values; the ALB accepts either."
  value       = [for slot in ["a", "b"] : random_password.origin_verify[slot].result]
  sensitive   = true
}

output "origin_verify_active_value" {
  description = "The origin-verify header value CloudFront sends."
  value       = random_password.origin_verify[var.origin_verify_active].result
  sensitive   = true
}
