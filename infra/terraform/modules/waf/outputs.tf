output "web_acl_arn" {
  description = "ARN of the web ACL (CloudFront's web_acl_id takes the ARN for WAFv2)."
  value       = aws_wafv2_web_acl.this.arn
}

output "web_acl_name" {
  description = "Name of the web ACL (CloudWatch dimension WebACL)."
  value       = aws_wafv2_web_acl.this.name
}
