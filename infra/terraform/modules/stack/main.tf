# The whole URR Edge environment: every module, wired together once. The environments
# (envs/staging, envs/prod) call this module with their own settings; what differs between them is
# a variable of this module, never a copy of the wiring.

locals {
  name = "urr-${var.environment}"

  # Every Postgres address is composed from a role secret and the RDS Proxy endpoint.
  database_variables = {
    for suffix, role in module.secrets.database_roles :
    "pg_address_${suffix}" => module.secrets.database_secret_arns[role]
  }

  allowed_origins = coalesce(var.allowed_origins, join(",", concat(
    [for alias in var.aliases : "https://${alias}"],
    ["https://${module.cloudfront.domain_name}"],
  )))
}

module "secrets" {
  source = "../secrets"

  name                        = local.name
  environment                 = var.environment
  recovery_window_days        = var.recovery_window_days
  database_password_version   = var.database_password_version
  redis_auth_token_generation = var.redis_auth_token_generation
  origin_verify_generations   = var.origin_verify_generations
  origin_verify_active        = var.origin_verify_active
}

module "network" {
  source = "../network"

  name               = local.name
  vpc_cidr           = var.vpc_cidr
  az_count           = var.az_count
  single_nat_gateway = var.single_nat_gateway
  kms_key_arn        = module.secrets.kms_key_arn
}

module "alb" {
  source = "../alb"

  name                        = local.name
  vpc_id                      = module.network.vpc_id
  vpc_cidr_block              = module.network.vpc_cidr_block
  public_subnet_ids           = module.network.public_subnet_ids
  origin_domain_name          = var.origin_domain_name
  route53_zone_id             = var.route53_zone_id
  certificate_arn             = var.alb_certificate_arn
  origin_verify_header_values = module.secrets.origin_verify_header_values
  deletion_protection         = var.deletion_protection
  force_destroy_logs          = var.force_destroy_artifacts
}

# CloudFront-scoped WAF lives in us-east-1: the caller passes that provider as aws.us_east_1.
module "waf" {
  source = "../waf"

  providers = {
    aws = aws.us_east_1
  }

  name               = local.name
  rate_limit_per_ip  = var.waf_rate_limit_per_ip
  enable_bot_control = var.waf_enable_bot_control
}

module "cloudfront" {
  source = "../cloudfront"

  name                       = local.name
  alb_origin_domain_name     = module.alb.origin_domain_name
  origin_verify_header_value = module.secrets.origin_verify_active_value
  web_origin                 = var.web_origin
  web_acl_arn                = module.waf.web_acl_arn
  aliases                    = var.aliases
  viewer_certificate_arn     = var.viewer_certificate_arn
  geo_allow_countries        = var.geo_allow_countries
  force_destroy_buckets      = var.force_destroy_artifacts
}

module "redis" {
  source = "../redis"

  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.data_subnet_ids
  client_security_group_ids = [module.spin_fleet.security_group_id]
  auth_token                = module.secrets.redis_auth_token
  kms_key_arn               = module.secrets.kms_key_arn
  node_type                 = var.redis_node_type
  num_cache_clusters        = var.redis_num_cache_clusters
  multi_az                  = var.multi_az
  snapshot_retention_days   = var.redis_snapshot_retention_days
}

module "postgres" {
  source = "../postgres"

  name                             = local.name
  vpc_id                           = module.network.vpc_id
  subnet_ids                       = module.network.data_subnet_ids
  client_security_group_ids        = [module.spin_fleet.security_group_id]
  direct_access_security_group_ids = [module.migrations.security_group_id]
  role_secret_arns                 = module.secrets.database_secret_arns
  kms_key_arn                      = module.secrets.kms_key_arn
  instance_class                   = var.db_instance_class
  multi_az                         = var.multi_az
  backup_retention_days            = var.backup_retention_days
  deletion_protection              = var.deletion_protection
}

module "spin_fleet" {
  source = "../spin_fleet"

  name                    = local.name
  environment             = var.environment
  vpc_id                  = module.network.vpc_id
  vpc_cidr_block          = module.network.vpc_cidr_block
  subnet_ids              = module.network.private_subnet_ids
  alb_security_group_id   = module.alb.security_group_id
  target_group_arn        = module.alb.target_group_arn
  alb_arn_suffix          = module.alb.arn_suffix
  target_group_arn_suffix = module.alb.target_group_arn_suffix
  kms_key_arn             = module.secrets.kms_key_arn

  spin_version        = var.spin_version
  spin_release_sha256 = var.spin_release_sha256
  app_version         = var.app_version
  architecture        = var.fleet_architecture
  instance_type       = var.fleet_instance_type
  min_size            = var.fleet_min_size
  max_size            = var.fleet_max_size
  desired_capacity    = var.fleet_min_size
  config_generation   = var.config_generation

  # Spin variables. spin.toml is the source of truth for the names; docs/deploy.md maps each one.
  plain_variables = {
    key_prefix               = var.key_prefix
    jwt_public_keys          = var.jwt_public_keys
    jwt_signing_kid          = var.jwt_signing_kid
    rate_limits              = var.rate_limits
    refresh_grace_ms         = var.refresh_grace_ms
    queue_settings           = var.queue_settings
    queue_signing_kid        = var.queue_signing_kid
    queue_public_keys        = var.queue_public_keys
    hold_ttl_secs            = var.hold_ttl_secs
    reservation_ttl_secs     = var.reservation_ttl_secs
    cancel_cutoff_secs       = var.cancel_cutoff_secs
    hold_limits              = var.hold_limits
    purchase_limits          = var.purchase_limits
    provider_base_url        = var.provider_base_url
    provider_client_key      = var.provider_client_key
    provider_timeout_ms      = var.provider_timeout_ms
    google_client_id         = var.google_client_id
    google_jwks_url          = var.google_jwks_url
    google_jwks_origin       = var.google_jwks_origin
    allowed_origins          = local.allowed_origins
    trusted_client_ip_header = var.trusted_client_ip_header
    # Never true in a deployment: it admits the mock provider's published keys (docs/configuration.md).
    development_mode = "false"
    # host:port for allowed_outbound_hosts (no credentials).
    redis_host = "${module.redis.primary_endpoint_address}:${module.redis.port}"
    pg_host    = "${module.postgres.proxy_endpoint}:${module.postgres.port}"
  }
  secret_variables      = module.secrets.external_secret_arns
  database_variables    = local.database_variables
  database_host         = module.postgres.proxy_endpoint
  database_port         = module.postgres.port
  database_name         = module.postgres.database_name
  redis_host            = module.redis.primary_endpoint_address
  redis_port            = module.redis.port
  redis_auth_secret_arn = module.secrets.redis_auth_secret_arn

  force_delete_repository = var.force_destroy_artifacts
}

module "migrations" {
  source = "../migrations"

  name                    = local.name
  vpc_id                  = module.network.vpc_id
  vpc_cidr_block          = module.network.vpc_cidr_block
  subnet_ids              = module.network.private_subnet_ids
  kms_key_arn             = module.secrets.kms_key_arn
  database_host           = module.postgres.instance_address
  database_port           = module.postgres.port
  database_name           = module.postgres.database_name
  master_secret_arn       = module.postgres.master_user_secret_arn
  role_secret_arns        = module.secrets.database_secret_arns
  image_tag               = coalesce(var.migrations_version, var.app_version)
  force_delete_repository = var.force_destroy_artifacts
}

module "monitoring" {
  source = "../monitoring"

  name                    = local.name
  kms_key_arn             = module.secrets.kms_key_arn
  alarm_emails            = var.alarm_emails
  alb_arn_suffix          = module.alb.arn_suffix
  target_group_arn_suffix = module.alb.target_group_arn_suffix
  autoscaling_group_name  = module.spin_fleet.autoscaling_group_name
  fleet_metrics_namespace = module.spin_fleet.metrics_namespace
  db_instance_identifier  = module.postgres.instance_identifier
  db_proxy_name           = module.postgres.proxy_name
  redis_cluster_ids       = module.redis.member_cluster_ids
  min_healthy_targets     = var.min_healthy_targets
}
