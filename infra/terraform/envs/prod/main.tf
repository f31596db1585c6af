# URR Edge, production: the stack module (modules/stack) with production's settings. Staging calls
# the same module; the two differ only in the settings block below.

locals {
  environment = "prod"

  default_tags = {
    Project     = "urr-edge"
    Environment = local.environment
    ManagedBy   = "terraform"
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.default_tags
  }
}

# CloudFront-scoped WAF (and anything else global) lives in us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.default_tags
  }
}

module "stack" {
  source = "../../modules/stack"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  environment = local.environment

  # --- What makes this environment production -----------------------------------------------
  vpc_cidr                      = "10.40.0.0/16"
  az_count                      = 3
  single_nat_gateway            = false
  multi_az                      = true
  deletion_protection           = true
  backup_retention_days         = 14
  db_instance_class             = "db.m7g.large"
  redis_node_type               = "cache.m7g.large"
  redis_num_cache_clusters      = 2
  redis_snapshot_retention_days = 7
  recovery_window_days          = 30
  force_destroy_artifacts       = false
  min_healthy_targets           = 2
  fleet_instance_type           = "c7g.large"
  fleet_min_size                = 3
  fleet_max_size                = 12

  # --- Deployment inputs, from terraform.tfvars (variables.tf) -------------------------------
  origin_domain_name          = var.origin_domain_name
  route53_zone_id             = var.route53_zone_id
  alb_certificate_arn         = var.alb_certificate_arn
  aliases                     = var.aliases
  viewer_certificate_arn      = var.viewer_certificate_arn
  web_origin                  = var.web_origin
  allowed_origins             = var.allowed_origins
  app_version                 = var.app_version
  migrations_version          = var.migrations_version
  spin_version                = var.spin_version
  spin_release_sha256         = var.spin_release_sha256
  jwt_public_keys             = var.jwt_public_keys
  queue_public_keys           = var.queue_public_keys
  jwt_signing_kid             = var.jwt_signing_kid
  queue_signing_kid           = var.queue_signing_kid
  provider_base_url           = var.provider_base_url
  provider_client_key         = var.provider_client_key
  google_client_id            = var.google_client_id
  alarm_emails                = var.alarm_emails
  database_password_version   = var.database_password_version
  redis_auth_token_generation = var.redis_auth_token_generation
  origin_verify_generations   = var.origin_verify_generations
  origin_verify_active        = var.origin_verify_active
  config_generation           = var.config_generation
}
