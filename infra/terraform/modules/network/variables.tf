variable "name" {
  type        = string
  description = "Name prefix for every resource, e.g. \"urr-prod\"."
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR of the VPC. A /16 leaves room for /20 app subnets."
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 16
    error_message = "vpc_cidr must be a valid IPv4 CIDR of size /16 or larger."
  }
}

variable "az_count" {
  type        = number
  description = "Number of availability zones to spread subnets over (at least 2: the ALB, RDS Multi-AZ and ElastiCache failover all need two)."
  default     = 3

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be between 2 and 4."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "Candidate zone names, in order of preference; null uses <region>a, b, c and d. The first az_count available ones are used."
  default     = null
}

variable "enable_nat_gateway" {
  type        = bool
  description = "Create NAT gateways for the app subnets. The fleet needs egress to the payment provider and to the Spin release download."
  default     = true
}

variable "single_nat_gateway" {
  type        = bool
  description = "Use one NAT gateway for all AZs (cheaper, but egress then depends on one AZ). Use false in prod."
  default     = false
}

variable "interface_endpoint_services" {
  type        = list(string)
  description = "Interface VPC endpoints to create (service suffixes after com.amazonaws.<region>.). Empty list: all AWS API traffic goes through NAT."
  default = [
    "ecr.api",
    "ecr.dkr",
    "secretsmanager",
    "ssm",
    "ssmmessages",
    "ec2messages",
    "logs",
    "monitoring",
    "sts",
  ]
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of the customer managed KMS key that encrypts the flow-log group."
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the VPC flow logs, in days."
  default     = 365
}
