variable "name" {
  type        = string
  description = "Name prefix of the alarms and the SNS topic, e.g. \"urr-prod\"."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer managed KMS key encrypting the SNS topic (its policy lets CloudWatch publish)."
}

variable "alarm_emails" {
  type        = list(string)
  description = "E-mail addresses subscribed to the alarm topic (each must confirm once)."
  default     = []
}

variable "alb_arn_suffix" {
  type        = string
  description = "ARN suffix of the ALB."
}

variable "target_group_arn_suffix" {
  type        = string
  description = "ARN suffix of the Spin target group."
}

variable "autoscaling_group_name" {
  type        = string
  description = "Name of the fleet's auto-scaling group (dimension of the agent's memory metric)."
}

variable "fleet_metrics_namespace" {
  type        = string
  description = "CloudWatch namespace the fleet's CloudWatch agent publishes to."
  default     = "URR/Edge"
}

variable "db_instance_identifier" {
  type        = string
  description = "RDS instance identifier."
}

variable "db_proxy_name" {
  type        = string
  description = "RDS Proxy name."
}

variable "redis_cluster_ids" {
  type        = list(string)
  description = "ElastiCache node (cache cluster) IDs to alarm on."
}

variable "http_5xx_rate_percent" {
  type        = number
  description = "Alarm when more than this percentage of requests answer 5xx."
  default     = 1
}

variable "http_5xx_min_requests" {
  type        = number
  description = "Ignore the 5xx rate in minutes with at most this many requests (one error in three requests is not an incident)."
  default     = 50
}

variable "min_healthy_targets" {
  type        = number
  description = "Alarm when fewer Spin instances than this are healthy."
  default     = 2
}

variable "fleet_memory_percent" {
  type        = number
  description = "Alarm when the fleet's average memory use exceeds this percentage."
  default     = 85
}

variable "rds_cpu_percent" {
  type        = number
  description = "Alarm when RDS CPU exceeds this percentage."
  default     = 80
}

variable "rds_freeable_memory_bytes" {
  type        = number
  description = "Alarm when RDS freeable memory falls below this many bytes."
  default     = 536870912
}

variable "rds_max_connections" {
  type        = number
  description = "Alarm when RDS server connections exceed this number (set it to ~80% of the instance's max_connections)."
  default     = 400
}

variable "rds_free_storage_bytes" {
  type        = number
  description = "Alarm when RDS free storage falls below this many bytes."
  default     = 10737418240
}

variable "rds_proxy_max_client_connections" {
  type        = number
  description = "Alarm when client connections to RDS Proxy exceed this number."
  default     = 4000
}

variable "redis_cpu_percent" {
  type        = number
  description = "Alarm when an ElastiCache node's host CPU exceeds this percentage."
  default     = 80
}

variable "redis_engine_cpu_percent" {
  type        = number
  description = "Alarm when a Redis engine thread's CPU exceeds this percentage."
  default     = 80
}

variable "redis_memory_percent" {
  type        = number
  description = "Alarm when Redis memory use exceeds this percentage of maxmemory."
  default     = 80
}

variable "redis_max_connections" {
  type        = number
  description = "Alarm when open Redis connections on a node exceed this number."
  default     = 20000
}

variable "redis_max_new_connections_per_5min" {
  type        = number
  description = "Alarm when a node accepts more new connections than this in 5 minutes (one per request)."
  default     = 1500000
}
