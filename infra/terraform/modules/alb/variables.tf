variable "name" {
  type        = string
  description = "Name prefix, ALB and target group name, e.g. \"urr-prod\" (at most 32 characters)."

  validation {
    condition     = length(var.name) <= 32
    error_message = "ALB and target group names are limited to 32 characters."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the ALB and its targets."
}

variable "vpc_cidr_block" {
  type        = string
  description = "VPC CIDR; the ALB may send traffic only to targets inside it."
}

variable "public_subnet_ids" {
  type        = list(string)
  description = "Public subnets in at least two AZs."
}

variable "target_port" {
  type        = number
  description = "Port Spin listens on (HTTPS) on each instance."
  default     = 8443
}

variable "origin_domain_name" {
  type        = string
  description = "DNS name CloudFront uses to reach the ALB, e.g. \"origin.api.example.com\"; the certificate must cover it."
}

variable "route53_zone_id" {
  type        = string
  description = "Public Route 53 zone of origin_domain_name: the module creates the alias record and, unless certificate_arn is set, a DNS-validated ACM certificate. Null to manage DNS yourself."
  default     = null
}

variable "certificate_arn" {
  type        = string
  description = "Existing ACM certificate (in the ALB's region) for origin_domain_name; null to create one in route53_zone_id."
  default     = null
}

variable "ssl_policy" {
  type        = string
  description = "TLS policy of the HTTPS listener (TLS 1.3 + 1.2 only)."
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = can(regex("TLS13-1-2", var.ssl_policy))
    error_message = "Use a TLS13-1-2 policy: TLS 1.2 and 1.3 only."
  }
}

variable "origin_verify_header_name" {
  type        = string
  description = "Name of the secret header CloudFront adds to every origin request."
  default     = "X-Origin-Verify"
}

variable "origin_verify_header_values" {
  type        = list(string)
  description = "Accepted values of the origin-verify header (two, so the value can rotate without downtime)."
  sensitive   = true
}

variable "deregistration_delay_secs" {
  type        = number
  description = "Seconds a deregistering target keeps draining in-flight requests."
  default     = 15
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the ALB (true in prod)."
  default     = true
}

variable "log_retention_days" {
  type        = number
  description = "Days to keep ALB access logs."
  default     = 365
}

variable "force_destroy_logs" {
  type        = bool
  description = "Allow destroying the access-log bucket with objects in it (staging teardown)."
  default     = false
}
