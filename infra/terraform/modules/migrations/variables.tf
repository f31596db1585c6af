variable "name" {
  type        = string
  description = "Name prefix, e.g. \"urr-prod\"."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the task."
}

variable "vpc_cidr_block" {
  type        = string
  description = "VPC CIDR; Postgres egress is limited to it."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private app subnets the task runs in."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key (secrets, logs, ECR)."
}

variable "database_host" {
  type        = string
  description = "Address of the DB instance itself (not the proxy)."
}

variable "database_port" {
  type        = number
  description = "Postgres port."
  default     = 5432
}

variable "database_name" {
  type        = string
  description = "Application database name."
  default     = "urr"
}

variable "master_secret_arn" {
  type        = string
  description = "ARN of the RDS-managed master credentials secret."
}

variable "role_secret_arns" {
  type        = map(string)
  description = "Secrets Manager ARN of each component role's {username, password}, keyed by role name."
}

variable "image_tag" {
  type        = string
  description = "Tag of the migration image to run; the repository is immutable, so use the app's version (migrations ship with the app)."
}

variable "cpu_architecture" {
  type        = string
  description = "CPU architecture of the migration image: ARM64 or X86_64."
  default     = "ARM64"

  validation {
    condition     = contains(["ARM64", "X86_64"], var.cpu_architecture)
    error_message = "cpu_architecture must be ARM64 or X86_64."
  }
}

variable "force_delete_repository" {
  type        = bool
  description = "Allow destroying the ECR repository with images in it (staging teardown)."
  default     = false
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the migration log group, in days."
  default     = 365
}
