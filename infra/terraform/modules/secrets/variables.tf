variable "name" {
  type        = string
  description = "Name prefix for resources, e.g. \"urr-prod\"."
}

variable "environment" {
  type        = string
  description = "Environment name used in secret paths (urr/<environment>/...)."
}

variable "database_role_suffixes" {
  type        = list(string)
  description = "Postgres component roles to create credentials for, as suffixes: \"auth\" means role urr_auth and Spin variable pg_address_auth."
  default     = ["auth", "catalog", "queue", "booking", "booking_read", "payments", "admin", "stats", "community", "news", "health", "metrics", "artists", "memberships", "transfers"]

  validation {
    condition     = alltrue([for s in var.database_role_suffixes : can(regex("^[a-z][a-z_]*$", s))])
    error_message = "Role suffixes must be lower-case letters and underscores."
  }
}

variable "external_secret_variables" {
  type        = list(string)
  description = "Secret Spin variables whose values are put by an operator outside Terraform (signing keys, payment provider keys)."
  default     = ["jwt_signing_key", "queue_signing_key", "provider_secret_key", "provider_webhook_secret"]
}

variable "database_password_version" {
  type        = number
  description = "Version of the generated database role passwords; bump it to rotate them (see docs/deploy.md)."
  default     = 1
}

variable "redis_auth_token_generation" {
  type        = number
  description = "Generation of the Redis AUTH token; bump it to rotate the token (ElastiCache ROTATE strategy keeps the old one valid until the next change)."
  default     = 1
}

variable "origin_verify_generations" {
  type        = object({ a = number, b = number })
  description = "Generation of each of the two origin-verify header values; bump the inactive slot, apply, then switch origin_verify_active."
  default     = { a = 1, b = 1 }
}

variable "origin_verify_active" {
  type        = string
  description = "Which origin-verify slot (\"a\" or \"b\") CloudFront sends; the ALB accepts both."
  default     = "a"

  validation {
    condition     = contains(["a", "b"], var.origin_verify_active)
    error_message = "origin_verify_active must be \"a\" or \"b\"."
  }
}

variable "recovery_window_days" {
  type        = number
  description = "Days a deleted secret can still be restored (0 deletes at once; use 30 in prod)."
  default     = 30
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the KMS key is deleted, in days."
  default     = 30
}
