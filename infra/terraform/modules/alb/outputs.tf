output "dns_name" {
  description = "DNS name of the ALB (answers 403 without the origin-verify header)."
  value       = aws_lb.this.dns_name
}

output "arn" {
  description = "ARN of the ALB."
  value       = aws_lb.this.arn
}

output "arn_suffix" {
  description = "ARN suffix of the ALB (CloudWatch dimension LoadBalancer)."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn" {
  description = "ARN of the Spin target group."
  value       = aws_lb_target_group.spin.arn
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group (CloudWatch dimension TargetGroup)."
  value       = aws_lb_target_group.spin.arn_suffix
}

output "security_group_id" {
  description = "Security group the ALB sends target traffic from (the fleet admits it)."
  value       = aws_security_group.https.id
}

output "origin_domain_name" {
  description = "DNS name CloudFront connects to."
  value       = var.origin_domain_name
}

output "access_log_bucket" {
  description = "S3 bucket with the ALB access logs."
  value       = aws_s3_bucket.logs.id
}
