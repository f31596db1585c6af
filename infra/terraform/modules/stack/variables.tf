# --- What the environment is: each environment states every one of these -----------------------
# No defaults on purpose: staging and prod each pass their own value, so neither can end up with
# the other's settings by omission.

variable "environment" {
  type        = string
  description = "Environment name, e.g. \"prod\": resources are named urr-<environment>, parameters and secrets live under urr/<environment>/."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.environment))
    error_message = "environment must be lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR of the environment's VPC (/16 or larger; give each environment its own)."
}

variable "az_count" {
  type        = number
  description = "Availability zones the subnets span (2 to 4)."
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for all zones (cheaper) instead of one per zone (survives a zone outage)."
}

variable "multi_az" {
  type        = bool
  description = "Multi-AZ RDS instance and an ElastiCache replica with automatic failover in another zone."
}

variable "deletion_protection" {
  type        = bool
  description = "Deletion protection on the RDS instance and the ALB."
}

variable "backup_retention_days" {
  type        = number
  description = "Days of RDS automated backups (point-in-time recovery), 7 to 35."
}

variable "db_instance_class" {
  type        = string
  description = "RDS PostgreSQL instance class, e.g. \"db.m7g.large\"."
}

variable "redis_node_type" {
  type        = string
  description = "ElastiCache node type, e.g. \"cache.m7g.large\" (production Spin opens a TLS connection per request: prefer non-burstable nodes under load)."
}

variable "redis_num_cache_clusters" {
  type        = number
  description = "ElastiCache nodes: the primary plus replicas (at least 2 with multi_az)."
}

variable "redis_snapshot_retention_days" {
  type        = number
  description = "Days of ElastiCache daily snapshots."
}

variable "recovery_window_days" {
  type        = number
  description = "Days a deleted Secrets Manager secret can be restored (0 deletes at once)."
}

variable "force_destroy_artifacts" {
  type        = bool
  description = "Let `terraform destroy` delete non-empty log buckets, the web bucket and the ECR repositories (disposable environments only)."
}

variable "min_healthy_targets" {
  type        = number
  description = "Alarm when fewer healthy targets than this sit behind the ALB."
}

variable "fleet_instance_type" {
  type        = string
  description = "EC2 instance type of the Spin fleet (its architecture must match fleet_architecture)."
}

variable "fleet_min_size" {
  type        = number
  description = "Minimum (and initial) number of Spin instances."
}

variable "fleet_max_size" {
  type        = number
  description = "Maximum number of Spin instances."
}

# --- Shared settings an environment may override --------------------------------------------------

variable "fleet_architecture" {
  type        = string
  description = "Fleet CPU architecture: arm64 (Graviton) or x86_64; spin_release_sha256 is the checksum of that architecture's tarball."
  default     = "arm64"
}

variable "geo_allow_countries" {
  type        = list(string)
  description = "If not empty, serve only viewers in these countries (ISO 3166 alpha-2, e.g. [\"KR\"])."
  default     = []
}

variable "key_prefix" {
  type        = string
  description = "Spin variable key_prefix: prefix of every Redis key."
  default     = "urr"
}

variable "trusted_client_ip_header" {
  type        = string
  description = "Spin variable trusted_client_ip_header: header carrying the viewer's address (CloudFront sets it; the ALB only admits CloudFront)."
  default     = "cloudfront-viewer-address"
}

variable "waf_rate_limit_per_ip" {
  type        = number
  description = "Requests per IP per 5 minutes before WAF answers 429."
  default     = 2000
}

variable "waf_enable_bot_control" {
  type        = bool
  description = "Enable the AWS Bot Control managed rule group."
  default     = false
}

# --- Deployment inputs: an environment forwards these from its terraform.tfvars ---------------------

variable "origin_domain_name" {
  type        = string
  description = "DNS name CloudFront uses to reach the ALB, e.g. \"origin.urr.example.com\" (a name in route53_zone_id, or one you point at the ALB yourself)."
}

variable "route53_zone_id" {
  type        = string
  description = "Public Route 53 hosted zone of origin_domain_name: gets the ALB alias record and the ACM validation records. Null if you manage DNS and pass alb_certificate_arn."
  default     = null
}

variable "alb_certificate_arn" {
  type        = string
  description = "Existing ACM certificate for origin_domain_name in the environment's region; null creates one validated in route53_zone_id."
  default     = null
}

variable "aliases" {
  type        = list(string)
  description = "Public domain names of the site (e.g. [\"tickets.example.com\"]); empty serves on the *.cloudfront.net name."
  default     = []
}

variable "viewer_certificate_arn" {
  type        = string
  description = "ACM certificate in us-east-1 covering the aliases; null with no aliases."
  default     = null
}

variable "web_origin" {
  type = object({
    type        = string
    domain_name = optional(string)
    origin_path = optional(string, "")
  })
  description = "Web app origin: {type = \"s3\"} (static site in a private bucket) or {type = \"custom\", domain_name = \"...\"} (an SSR server such as URR's Next.js app)."
  default     = { type = "s3" }
}

variable "app_version" {
  type        = string
  description = "App version to run: the tag (or sha256 digest) pushed with `spin registry push`; the migration image carries the same tag. Changing it rolls the fleet."
}

variable "migrations_version" {
  type        = string
  description = "Tag of the migration image the migration task runs; null means app_version. Set it ahead of app_version to expand the schema before the fleet rolls (docs/deploy.md)."
  default     = null
}

variable "spin_version" {
  type        = string
  description = "Spin release installed on the fleet (WASI 0.3 support: 4.1.0 or newer)."
  default     = "4.1.0"
}

variable "spin_release_sha256" {
  type        = string
  description = "SHA-256 of spin-v<spin_version>-linux-<arch>.tar.gz from the release's checksums file."
}

variable "jwt_public_keys" {
  type        = string
  description = "Spin variable jwt_public_keys: kid:base64(raw Ed25519 public key), comma-separated, current key first, then the previous one (public data; the private key is in Secrets Manager)."
}

variable "jwt_signing_kid" {
  type        = string
  description = "Spin variable jwt_signing_kid: key id of the private key in Secrets Manager (jwt_signing_key); its public key must be listed in jwt_public_keys."
}

variable "rate_limits" {
  type        = string
  description = "Spin variable rate_limits: per-minute quotas per user (else per client IP) by category, e.g. auth=60,queue=120,booking=30,default=3000."
  default     = "auth=60,queue=120,booking=30,default=3000"
}

variable "refresh_grace_ms" {
  type        = string
  description = "Spin variable refresh_grace_ms: how long a just-spent refresh token still returns the same child (two tabs), in milliseconds (at most 60000)."
  default     = "10000"
}

variable "queue_settings" {
  type        = string
  description = "Spin variable queue_settings: the waiting room's defaults (docs/queue.md), e.g. threshold=1000,rate=100,slot_secs=600,slot_max_secs=1800,waiter_timeout_secs=60,open_lead_secs=600; any subset."
  default     = "threshold=1000,rate=100,slot_secs=600,slot_max_secs=1800,waiter_timeout_secs=60,open_lead_secs=600"
}

variable "queue_signing_kid" {
  type        = string
  description = "Spin variable queue_signing_kid: key id of the queue's entry-token key in Secrets Manager (queue_signing_key)."
}

variable "queue_public_keys" {
  type        = string
  description = "Spin variable queue_public_keys: kid:base64(raw Ed25519 public key) of the queue's entry-token keys, comma-separated, current first (public data; the private key is in Secrets Manager)."
}

variable "hold_ttl_secs" {
  type        = string
  description = "Spin variable hold_ttl_secs: seat-hold lifetime in seconds (1..3600)."
  default     = "420"
}

variable "reservation_ttl_secs" {
  type        = string
  description = "Spin variable reservation_ttl_secs: pending-reservation lifetime in seconds (1..3600); its seats are free again at that instant."
  default     = "300"
}

variable "cancel_cutoff_secs" {
  type        = string
  description = "Spin variable cancel_cutoff_secs: how long before an event's start a buyer's cancel (and refund) closes, in seconds (0..2592000; 0: at the start)."
  default     = "0"
}

variable "hold_limits" {
  type        = string
  description = "Spin variable hold_limits: per user per event, seats held at once and hold calls per minute, e.g. seats=4,per_minute=20."
  default     = "seats=4,per_minute=20"
}

variable "purchase_limits" {
  type        = string
  description = "Spin variable purchase_limits: per-person cap per event across live reservations, e.g. seats=4,standing=10."
  default     = "seats=4,standing=10"
}

variable "provider_base_url" {
  type        = string
  description = "Spin variable provider_base_url: base URL of the payment provider's API."
}

variable "google_client_id" {
  type        = string
  description = "Spin variable google_client_id: the OAuth client id Google ID tokens must name as aud (the web app's NEXT_PUBLIC_GOOGLE_CLIENT_ID); \"off\" turns Google sign-in off (POST /auth/google answers 501)."
  default     = "off"
}

variable "google_jwks_url" {
  type        = string
  description = "Spin variable google_jwks_url: URL of Google's published signing keys (JWKS) that ID tokens are verified against."
  default     = "https://www.googleapis.com/oauth2/v3/certs"
}

variable "google_jwks_origin" {
  type        = string
  description = "Spin variable google_jwks_origin: scheme://host[:port] of google_jwks_url, the auth component's allowed outbound host."
  default     = "https://www.googleapis.com"
}

variable "provider_timeout_ms" {
  type        = string
  description = "Spin variable provider_timeout_ms: how long pay and payments wait for the payment provider before answering 504 (100 to 10000 ms); the outcome is then reconciled."
  default     = "5000"
}

variable "provider_client_key" {
  type        = string
  description = "Spin variable provider_client_key: the payment provider's public client key."
}

variable "allowed_origins" {
  type        = string
  description = "Spin variable allowed_origins: comma-separated web origins; null allows the aliases and the CloudFront domain."
  default     = null
}

variable "alarm_emails" {
  type        = list(string)
  description = "E-mail addresses that receive CloudWatch alarms."
  default     = []
}

# --- Rotation knobs (see docs/deploy.md, "Rotating secrets") ---------------------------------------

variable "database_password_version" {
  type        = number
  description = "Bump to generate new passwords for every Postgres component role."
  default     = 1
}

variable "redis_auth_token_generation" {
  type        = number
  description = "Bump to rotate the Redis AUTH token."
  default     = 1
}

variable "origin_verify_generations" {
  type        = object({ a = number, b = number })
  description = "Generation of each origin-verify slot; bump the inactive one to rotate it."
  default     = { a = 1, b = 1 }
}

variable "origin_verify_active" {
  type        = string
  description = "Origin-verify slot CloudFront sends (\"a\" or \"b\")."
  default     = "a"
}

variable "config_generation" {
  type        = number
  description = "Bump to roll the fleet so it re-reads every parameter and secret."
  default     = 1
}
