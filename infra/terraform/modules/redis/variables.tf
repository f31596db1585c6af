variable "name" {
  type        = string
  description = "Name prefix and replication group ID, e.g. \"urr-prod\"."
}

variable "vpc_id" {
  type        = string
  description = "VPC to create the security group in."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Data subnets (at least two AZs) for the cache nodes."
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to connect (the Spin fleet). Nothing else can reach Redis."
}

variable "auth_token" {
  type        = string
  description = "Redis AUTH token (from the secrets module, which also stores it in Secrets Manager)."
  sensitive   = true
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key for at-rest encryption and the slow-log group."
}

variable "engine_version" {
  type        = string
  description = "Redis OSS engine version (7.x: parameter family redis7)."
  default     = "7.1"
}

variable "node_type" {
  type        = string
  description = "Cache node type. Every request opens a new TLS connection, so prefer non-burstable types in prod."
  default     = "cache.m7g.large"
}

variable "port" {
  type        = number
  description = "Redis port."
  default     = 6379
}

variable "num_cache_clusters" {
  type        = number
  description = "Nodes in the replication group (primary + replicas). At least 2 for Multi-AZ failover."
  default     = 2
}

variable "multi_az" {
  type        = bool
  description = "Enable Multi-AZ with automatic failover (true in prod)."
  default     = true
}

variable "snapshot_retention_days" {
  type        = number
  description = "Days of daily snapshots to keep (Redis is not the source of truth, but a snapshot shortens recovery)."
  default     = 1
}

variable "apply_immediately" {
  type        = bool
  description = "Apply modifications now instead of in the maintenance window."
  default     = false
}

variable "notification_topic_arn" {
  type        = string
  description = "SNS topic for ElastiCache events (failover, maintenance); null for none."
  default     = null
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the slow-log group, in days."
  default     = 365
}
