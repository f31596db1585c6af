output "domain_name" {
  description = "The distribution's *.cloudfront.net domain name."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "distribution_id" {
  description = "Distribution ID (for invalidations)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "Distribution ARN."
  value       = aws_cloudfront_distribution.this.arn
}

output "hosted_zone_id" {
  description = "Route 53 zone ID for alias records pointing at the distribution."
  value       = aws_cloudfront_distribution.this.hosted_zone_id
}

output "web_bucket" {
  description = "S3 bucket of the static web app (null with a custom web origin)."
  value       = local.web_is_s3 ? aws_s3_bucket.web[0].id : null
}
