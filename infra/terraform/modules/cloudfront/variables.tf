variable "name" {
  type        = string
  description = "Name prefix for policies and buckets, e.g. \"urr-prod\"."
}

variable "alb_origin_domain_name" {
  type        = string
  description = "DNS name of the ALB origin, covered by the ALB's certificate (CloudFront connects over HTTPS only)."
}

variable "origin_verify_header_name" {
  type        = string
  description = "Name of the secret header added to every request sent to the ALB."
  default     = "X-Origin-Verify"
}

variable "origin_verify_header_value" {
  type        = string
  description = "Value of the origin-verify header (the active slot from the secrets module)."
  sensitive   = true
}

variable "web_origin" {
  type = object({
    type        = string
    domain_name = optional(string)
    origin_path = optional(string, "")
  })
  description = "Web app origin: {type = \"s3\"} creates a private bucket read through Origin Access Control; {type = \"custom\", domain_name = \"web.example.com\"} points at an HTTPS server such as URR's Next.js app."
  default     = { type = "s3" }

  validation {
    condition     = contains(["s3", "custom"], var.web_origin.type)
    error_message = "web_origin.type must be \"s3\" or \"custom\"."
  }
}

variable "web_acl_arn" {
  type        = string
  description = "ARN of the CLOUDFRONT-scoped WAFv2 web ACL."
}

variable "aliases" {
  type        = list(string)
  description = "Alternate domain names (e.g. [\"tickets.example.com\"]); empty serves on the *.cloudfront.net name."
  default     = []
}

variable "viewer_certificate_arn" {
  type        = string
  description = "ACM certificate in us-east-1 covering the aliases; null uses the default CloudFront certificate."
  default     = null
}

variable "price_class" {
  type        = string
  description = "CloudFront price class (PriceClass_200 includes edge locations in Korea and Japan)."
  default     = "PriceClass_200"
}

variable "events_cache_ttl_secs" {
  type        = number
  description = "Default TTL of cached public event reads, in seconds (the origin's Cache-Control may lower it)."
  default     = 10
}

variable "events_cache_max_ttl_secs" {
  type        = number
  description = "Maximum TTL of cached public event reads, in seconds: seat availability must not look stale for long."
  default     = 30

  validation {
    condition     = var.events_cache_max_ttl_secs <= 300
    error_message = "Keep the event cache short (at most 300 seconds)."
  }
}

variable "geo_allow_countries" {
  type        = list(string)
  description = "If not empty, only viewers in these ISO 3166 countries are served (e.g. [\"KR\"])."
  default     = []
}

variable "log_retention_days" {
  type        = number
  description = "Days to keep CloudFront standard logs."
  default     = 365
}

variable "force_destroy_buckets" {
  type        = bool
  description = "Allow destroying the web and log buckets with objects in them (staging teardown)."
  default     = false
}
