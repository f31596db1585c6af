variable "name" {
  type        = string
  description = "Name prefix, e.g. \"urr-prod\"."
}

variable "environment" {
  type        = string
  description = "Environment name used in parameter paths (/urr/<environment>/spin/...)."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the fleet."
}

variable "vpc_cidr_block" {
  type        = string
  description = "VPC CIDR; Redis and Postgres egress is limited to it."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private app subnets (at least two AZs)."
}

variable "alb_security_group_id" {
  type        = string
  description = "Security group of the ALB; the only source admitted to the Spin port."
}

variable "target_group_arn" {
  type        = string
  description = "ALB target group the instances register with."
}

variable "alb_arn_suffix" {
  type        = string
  description = "ARN suffix of the ALB, for the requests-per-target scaling metric."
}

variable "target_group_arn_suffix" {
  type        = string
  description = "ARN suffix of the target group, for the requests-per-target scaling metric."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key of the environment (parameters, logs, ECR, secrets)."
}

variable "spin_version" {
  type        = string
  description = "Spin release to install, without the leading v. Must support WASI 0.3 (final): 4.1 or newer."
  default     = "4.1.0"

  validation {
    condition = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.spin_version)) && (
      tonumber(split(".", var.spin_version)[0]) > 4 ||
      (tonumber(split(".", var.spin_version)[0]) == 4 && tonumber(split(".", var.spin_version)[1]) >= 1)
    )
    error_message = "spin_version must be a release with WASI 0.3 support (4.1.0 or newer), e.g. \"4.1.0\"."
  }
}

variable "spin_release_sha256" {
  type        = string
  description = "SHA-256 of the Spin release tarball for the fleet's architecture (from the release's checksums file). Boot fails on a mismatch."

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.spin_release_sha256))
    error_message = "spin_release_sha256 must be 64 lower-case hex characters."
  }
}

variable "spin_download_base_url" {
  type        = string
  description = "Base URL of Spin release tarballs (<base>/v<version>/spin-v<version>-linux-<arch>.tar.gz); point it at an internal mirror to avoid the internet at boot."
  default     = "https://github.com/spinframework/spin/releases/download"
}

variable "app_version" {
  type        = string
  description = "Version of the app to run: a tag pushed with `spin registry push`, or a digest \"sha256:...\". Changing it rolls the fleet."

  validation {
    condition     = can(regex("^(sha256:[0-9a-f]{64}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$", var.app_version))
    error_message = "app_version must be an OCI tag or a sha256 digest."
  }
}

variable "architecture" {
  type        = string
  description = "CPU architecture of the fleet: arm64 (Graviton) or x86_64. Must match instance_type and spin_release_sha256."
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type of the fleet."
  default     = "c7g.large"
}

variable "ami_id" {
  type        = string
  description = "AMI to launch; null resolves the latest Amazon Linux 2023 AMI at each launch."
  default     = null
}

variable "root_volume_size_gb" {
  type        = number
  description = "Root volume size, in GiB."
  default     = 20
}

variable "listen_port" {
  type        = number
  description = "Port Spin serves HTTPS on (the ALB target port)."
  default     = 8443
}

variable "min_size" {
  type        = number
  description = "Minimum number of instances (at least one per AZ in prod)."
  default     = 2
}

variable "max_size" {
  type        = number
  description = "Maximum number of instances. Mind the Postgres arithmetic: up to 64 connections per component role per instance reach RDS Proxy."
  default     = 10
}

variable "desired_capacity" {
  type        = number
  description = "Initial number of instances; target tracking changes it afterwards."
  default     = 2
}

variable "target_requests_per_instance_per_minute" {
  type        = number
  description = "Target-tracking goal: ALB requests per instance per minute (metric ALBRequestCountPerTarget). Set it from load tests (tools/bench)."
  default     = 6000
}

variable "plain_variables" {
  type        = map(string)
  description = "Non-secret Spin variables (name => value), stored as SSM parameters under /urr/<environment>/spin/."

  validation {
    condition     = alltrue([for k in keys(var.plain_variables) : can(regex("^[a-z][a-z0-9_]*$", k))])
    error_message = "Spin variable names are lower-case letters, digits and underscores."
  }
}

variable "secret_variables" {
  type        = map(string)
  description = "Secret Spin variables read verbatim from Secrets Manager (name => secret ARN)."
}

variable "database_variables" {
  type        = map(string)
  description = "Postgres address Spin variables (pg_address_<x> => ARN of the role's {username, password} secret); composed at boot into postgres:// URLs pointing at RDS Proxy."
}

variable "database_host" {
  type        = string
  description = "RDS Proxy endpoint."
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

variable "redis_host" {
  type        = string
  description = "ElastiCache primary endpoint."
}

variable "redis_port" {
  type        = number
  description = "Redis port."
  default     = 6379
}

variable "redis_auth_secret_arn" {
  type        = string
  description = "Secrets Manager ARN of the Redis AUTH token (redis_address is composed from it)."
}

variable "config_generation" {
  type        = number
  description = "Bump to roll the fleet so every instance re-reads its parameters and secrets (after rotating a key)."
  default     = 1
}

variable "otel_exporter_otlp_endpoint" {
  type        = string
  description = "OTLP endpoint for Spin's OpenTelemetry export (e.g. an ADOT collector); empty disables it."
  default     = ""
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the instance metrics the CloudWatch agent publishes."
  default     = "URR/Edge"
}

variable "enable_session_manager" {
  type        = bool
  description = "Allow shell access through SSM Session Manager (there is no SSH)."
  default     = true
}

variable "keep_app_versions" {
  type        = number
  description = "Number of app versions to keep in ECR (rollback targets)."
  default     = 30
}

variable "force_delete_repository" {
  type        = bool
  description = "Allow destroying the ECR repository with artifacts in it (staging teardown)."
  default     = false
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the Spin log group, in days."
  default     = 365
}
