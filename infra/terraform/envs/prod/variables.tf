# Inputs that vary by deployment rather than by environment: they come from terraform.tfvars (or
# -var) and are forwarded to the stack module. What makes the environment staging or prod is in
# main.tf; the stack's own settings and their defaults are in modules/stack/variables.tf.

# --- Where and how it is reached ------------------------------------------------------------------

variable "region" {
  type        = string
  description = "AWS region of the environment (CloudFront's WAF is always in us-east-1)."
  default     = "ap-northeast-2"
}

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
  description = "Existing ACM certificate for origin_domain_name in var.region; null creates one validated in route53_zone_id."
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

# --- What runs ------------------------------------------------------------------------------------

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

# --- Plain Spin variables (secrets are in Secrets Manager, never here) ----------------------------

variable "queue_public_keys" {
  type        = string
  description = "Spin variable queue_public_keys: kid:base64(raw Ed25519 public key) of the queue's entry-token keys, comma-separated, current first."
}

variable "jwt_public_keys" {
  type        = string
  description = "Spin variable jwt_public_keys: kid:base64(raw Ed25519 public key), comma-separated, current key first, then the previous one (public data; the private key is in Secrets Manager)."
}

variable "jwt_signing_kid" {
  type        = string
  description = "Spin variable jwt_signing_kid: key id of the private key in Secrets Manager (jwt_signing_key); its public key must be listed in jwt_public_keys."
}

variable "queue_signing_kid" {
  type        = string
  description = "Spin variable queue_signing_kid: key id of the queue's entry-token key in Secrets Manager (queue_signing_key)."
}

variable "provider_base_url" {
  type        = string
  description = "Spin variable provider_base_url: base URL of the payment provider's API."
}

variable "provider_client_key" {
  type        = string
  description = "Spin variable provider_client_key: the payment provider's public client key."
}

variable "google_client_id" {
  type        = string
  description = "Spin variable google_client_id: the OAuth client id Google ID tokens must name as aud (the web app's NEXT_PUBLIC_GOOGLE_CLIENT_ID); \"off\" turns Google sign-in off (POST /auth/google answers 501)."
  default     = "off"
}

variable "allowed_origins" {
  type        = string
  description = "Spin variable allowed_origins: comma-separated web origins; null allows the aliases and the CloudFront domain."
  default     = null
}

# --- Alerts ---------------------------------------------------------------------------------------

variable "alarm_emails" {
  type        = list(string)
  description = "E-mail addresses that receive CloudWatch alarms."
  default     = []
}

# --- Rotation knobs (see docs/deploy.md, "Rotating secrets") --------------------------------------

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
