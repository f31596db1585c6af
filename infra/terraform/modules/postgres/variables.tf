variable "name" {
  type        = string
  description = "Name prefix and DB identifier, e.g. \"urr-prod\"."
}

variable "vpc_id" {
  type        = string
  description = "VPC to create the security groups in."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Data subnets (at least two AZs) for the instance and the proxy."
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to connect to RDS Proxy (the Spin fleet)."
}

variable "direct_access_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to connect to the instance directly, bypassing the proxy (the migration task only)."
  default     = []
}

variable "role_secret_arns" {
  type        = map(string)
  description = "Secrets Manager ARN of each component role's {username, password}, keyed by role name; RDS Proxy accepts exactly these roles."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for storage, Performance Insights and the master secret."
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL version (major, or major.minor); the parameter group family follows the major version."
  default     = "17"
}

variable "instance_class" {
  type        = string
  description = "DB instance class."
  default     = "db.m7g.large"
}

variable "database_name" {
  type        = string
  description = "Name of the application database."
  default     = "urr"
}

variable "master_username" {
  type        = string
  description = "Master user name; its password is managed by RDS in Secrets Manager."
  default     = "urr_master"
}

variable "allocated_storage_gb" {
  type        = number
  description = "Initial storage, in GiB."
  default     = 50
}

variable "max_allocated_storage_gb" {
  type        = number
  description = "Storage autoscaling ceiling, in GiB."
  default     = 500
}

variable "multi_az" {
  type        = bool
  description = "Run a synchronous standby in a second AZ (true in prod)."
  default     = true
}

variable "backup_retention_days" {
  type        = number
  description = "Days of automated backups, which is also the point-in-time recovery window (at least 7)."
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 7 and 35."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the instance (true in prod)."
  default     = true
}

variable "apply_immediately" {
  type        = bool
  description = "Apply modifications now instead of in the maintenance window."
  default     = false
}

variable "log_min_duration_statement_ms" {
  type        = number
  description = "Log statements slower than this, in milliseconds."
  default     = 500
}

variable "proxy_idle_client_timeout_secs" {
  type        = number
  description = "Seconds before RDS Proxy closes an idle client connection (Spin keeps pooled ones open)."
  default     = 1800
}

variable "proxy_max_connections_percent" {
  type        = number
  description = "Share of the instance's max_connections RDS Proxy may use, in percent (leave room for the migration task and operators)."
  default     = 80
}
