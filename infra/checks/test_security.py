"""Security and reliability properties of the configuration, asserted on the parsed Terraform
(and, for environment-specific settings, on the values each environment really passes: its
module "stack" arguments, followed through the stack module's wiring to the module that uses them).

The wiring between modules lives once, in the stack module, and every environment calls only that
module (test_layout.test_environments_are_thin_and_call_only_the_stack), so the wiring assertions
below hold for every environment."""

import fnmatch

import pytest

from tfconfig import (
    EXPECTED_ENVS,
    STACK,
    all_dirs,
    blocks,
    dynamic_blocks,
    egress_rules,
    env,
    env_value,
    ingress_rules,
    module,
    module_default,
    one,
    ref,
    stack,
)

OPEN_CIDRS = {"0.0.0.0/0", "::/0"}


# --- Network exposure ------------------------------------------------------------------------


def test_nothing_admits_the_whole_internet():
    for tf in all_dirs():
        for rule in ingress_rules(tf):
            for key in ("cidr_ipv4", "cidr_ipv6"):
                assert one(rule.body.get(key)) not in OPEN_CIDRS, f"{tf.path.name}: {rule.address} admits {key} from anywhere"
        # No inline or legacy rules that could slip past the check above.
        assert not tf.resources("aws_security_group_rule"), f"{tf.path.name}: use aws_vpc_security_group_*_rule"
        for group in tf.resources("aws_security_group"):
            assert "ingress" not in group.body and "egress" not in group.body, f"{tf.path.name}: inline rules in {group.address}"


def test_alb_admits_only_the_cloudfront_prefix_list():
    alb = module("alb")
    prefix_list = alb.resource("aws_ec2_managed_prefix_list", "cloudfront", kind="data")
    assert one(prefix_list.body["name"]) == "com.amazonaws.global.cloudfront.origin-facing"
    rules = ingress_rules(alb)
    assert {(one(r.body["from_port"]), one(r.body["to_port"])) for r in rules} == {(443, 443), (80, 80)}
    for rule in rules:
        assert ref(rule.body["prefix_list_id"]) == "data.aws_ec2_managed_prefix_list.cloudfront.id"
        assert not {"cidr_ipv4", "cidr_ipv6", "referenced_security_group_id"} & set(rule.body)


@pytest.mark.parametrize("name", ["spin_fleet", "redis", "postgres"])
def test_fleet_redis_and_postgres_admit_only_other_security_groups(name):
    rules = ingress_rules(module(name))
    assert rules
    for rule in rules:
        assert "referenced_security_group_id" in rule.body, f"{name}: {rule.address} admits something other than a security group"
        assert not {"cidr_ipv4", "cidr_ipv6", "prefix_list_id"} & set(rule.body)


def test_fleet_is_admitted_only_from_the_alb():
    rule = module("spin_fleet").resource("aws_vpc_security_group_ingress_rule", "from_alb")
    assert ref(rule.body["referenced_security_group_id"]) == "var.alb_security_group_id"
    assert ref(stack().modules["spin_fleet"]["alb_security_group_id"]) == "module.alb.security_group_id"


def test_data_stores_are_reached_only_by_the_fleet_and_the_migration_task():
    calls = stack().modules
    assert one(calls["redis"]["client_security_group_ids"]) == ["${module.spin_fleet.security_group_id}"]
    assert one(calls["postgres"]["client_security_group_ids"]) == ["${module.spin_fleet.security_group_id}"]
    assert one(calls["postgres"]["direct_access_security_group_ids"]) == ["${module.migrations.security_group_id}"]
    # The instance itself admits only the proxy and the direct-access groups.
    postgres = module("postgres")
    db_rules = [r for r in ingress_rules(postgres) if ref(r.body["security_group_id"]) == "aws_security_group.db.id"]
    sources = {ref(r.body["referenced_security_group_id"]) for r in db_rules}
    assert sources == {"aws_security_group.proxy.id", "var.direct_access_security_group_ids[count.index]"}


def test_redis_and_postgres_never_open_connections_outward():
    for name, group in (("redis", "aws_security_group.this.id"), ("postgres", "aws_security_group.db.id")):
        for rule in egress_rules(module(name)):
            assert ref(rule.body["security_group_id"]) != group, f"{name}: data store with egress rule {rule.address}"


def test_data_subnets_have_no_route_to_the_internet():
    network = module("network")
    routes = network.resources("aws_route")
    assert all(ref(r.body["route_table_id"]).startswith(("aws_route_table.public", "aws_route_table.private")) for r in routes)
    calls = stack().modules
    for store in ("redis", "postgres"):
        assert ref(calls[store]["subnet_ids"]) == "module.network.data_subnet_ids"


def test_network_spans_at_least_two_zones_with_endpoints_for_aws_apis():
    network = module("network")
    validation = one(network.variables["az_count"]["validation"])
    assert "var.az_count >= 2" in ref(validation["condition"])
    for name in EXPECTED_ENVS:
        assert env_value(name, "network", "az_count") >= 2
    services = set(module_default("network", "interface_endpoint_services"))
    assert {"ecr.api", "ecr.dkr", "secretsmanager", "ssm", "logs", "monitoring"} <= services
    assert network.resource("aws_vpc_endpoint", "s3").body["vpc_endpoint_type"] == ["Gateway"]


# --- ALB -------------------------------------------------------------------------------------------


def test_alb_health_check_is_the_shallow_one():
    group = module("alb").resource("aws_lb_target_group", "spin")
    check = one(blocks(group.body, "health_check"))
    # /health/ready checks Redis and Postgres: a Redis blip would pull every instance out.
    assert one(check["path"]) == "/health"
    assert one(check["matcher"]) == "200"
    assert one(group.body["deregistration_delay"]) == "${var.deregistration_delay_secs}"
    assert module_default("alb", "deregistration_delay_secs") <= 30


def test_alb_listeners_use_tls_1_2_and_1_3_and_redirect_http():
    alb = module("alb")
    https = alb.resource("aws_lb_listener", "https")
    assert one(https.body["protocol"]) == "HTTPS"
    assert module_default("alb", "ssl_policy") == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    http = alb.resource("aws_lb_listener", "http")
    redirect = one(blocks(one(http.body["default_action"]), "redirect"))
    assert one(redirect["protocol"]) == "HTTPS" and one(redirect["status_code"]) == "HTTP_301"


def test_alb_forwards_only_requests_with_the_origin_header():
    alb = module("alb")
    default = one(alb.resource("aws_lb_listener", "https").body["default_action"])
    assert one(default["type"]) == "fixed-response"
    assert one(one(default["fixed_response"])["status_code"]) == "403"
    rule = alb.resource("aws_lb_listener_rule", "from_cloudfront")
    header = one(one(one(rule.body["condition"])["http_header"]))
    assert ref(header["http_header_name"]) == "var.origin_verify_header_name"
    assert ref(header["values"]) == "var.origin_verify_header_values"
    assert one(one(rule.body["action"])["type"]) == "forward"
    assert one(alb.variables["origin_verify_header_values"]["sensitive"]) is True


def test_alb_drops_invalid_headers_and_writes_access_logs():
    lb = module("alb").resource("aws_lb", "this")
    assert one(lb.body["drop_invalid_header_fields"]) is True
    logs = one(lb.body["access_logs"])
    assert one(logs["enabled"]) is True


# --- CloudFront ----------------------------------------------------------------------------------

CACHING_DISABLED = "data.aws_cloudfront_cache_policy.caching_disabled.id"
ALL_VIEWER_EXCEPT_HOST = "data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id"
# Paths that set or read session cookies (refresh-token cookie, login) and personal data.
COOKIE_OR_PERSONAL_PATHS = [
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/reservations/my",
    "/api/v1/payments/user/me",
    "/api/v1/queue/check/1",
    "/api/v1/seats/events/1",
    "/health",
    "/health/ready",
]


def cloudfront_behaviours():
    """Ordered behaviours as CloudFront evaluates them, then the default one."""
    cloudfront = module("cloudfront")
    distribution = cloudfront.resource("aws_cloudfront_distribution", "this").body
    ordered = []
    # Static behaviours come first in the file, then the dynamic ones (expanded from the local).
    for behaviour in blocks(distribution, "ordered_cache_behavior"):
        ordered.append((one(behaviour["path_pattern"]), behaviour))
    for dynamic in dynamic_blocks(distribution, "ordered_cache_behavior"):
        local = ref(dynamic["for_each"]).removeprefix("local.")
        for path in one(cloudfront.locals[local]):
            ordered.append((path, one(dynamic["content"])))
    return ordered, one(distribution["default_cache_behavior"])


def behaviour_for(path):
    ordered, default = cloudfront_behaviours()
    for pattern, behaviour in ordered:
        if fnmatch.fnmatchcase(path, pattern):
            return pattern, behaviour
    return "default", default


def test_cloudfront_sends_api_and_health_to_the_alb_and_the_rest_to_the_web_origin():
    ordered, default = cloudfront_behaviours()
    assert [p for p, _ in ordered] == ["/api/v1/events*", "/api/*", "/health*"]
    for _, behaviour in ordered:
        assert ref(behaviour["target_origin_id"]) == "local.alb_origin_id"
        assert one(behaviour["viewer_protocol_policy"]) == "redirect-to-https"
    assert ref(default["target_origin_id"]) == "local.web_origin_id"


def test_cloudfront_caches_only_public_event_reads():
    ordered, _ = cloudfront_behaviours()
    cached = [(p, b) for p, b in ordered if ref(b["cache_policy_id"]) != CACHING_DISABLED]
    assert [p for p, _ in cached] == ["/api/v1/events*"]
    _, events = cached[0]
    assert one(events["allowed_methods"]) == ["GET", "HEAD", "OPTIONS"]
    assert one(events["cached_methods"]) == ["GET", "HEAD"]
    cloudfront = module("cloudfront")
    policy = cloudfront.resource("aws_cloudfront_cache_policy", "events").body
    key = one(policy["parameters_in_cache_key_and_forwarded_to_origin"])
    assert one(one(key["cookies_config"])["cookie_behavior"]) == "none"
    assert one(one(key["query_strings_config"])["query_string_behavior"]) == "all"
    assert "Authorization" not in str(key["headers_config"])
    assert ref(policy["max_ttl"]) == "var.events_cache_max_ttl_secs"
    assert module_default("cloudfront", "events_cache_max_ttl_secs") <= 60
    request = cloudfront.resource("aws_cloudfront_origin_request_policy", "events").body
    assert one(one(request["cookies_config"])["cookie_behavior"]) == "none"
    assert "Authorization" not in str(request["headers_config"])


@pytest.mark.parametrize("path", COOKIE_OR_PERSONAL_PATHS)
def test_cloudfront_never_caches_a_path_that_sets_cookies(path):
    pattern, behaviour = behaviour_for(path)
    assert pattern != "default", f"{path} would go to the web origin"
    assert ref(behaviour["cache_policy_id"]) == CACHING_DISABLED, f"{path} is cached by {pattern}"


def test_cloudfront_forwards_cookies_authorization_and_app_headers_on_the_api():
    ordered, _ = cloudfront_behaviours()
    for pattern, behaviour in ordered[1:]:
        # With caching disabled, AllViewerExceptHostHeader forwards every viewer header (cookies,
        # Authorization, x-queue-entry-token, Idempotency-Key, Origin), every query string and
        # CloudFront-Viewer-Address; not Host, so the ALB certificate is checked against its name.
        assert ref(behaviour["origin_request_policy_id"]) == ALL_VIEWER_EXCEPT_HOST, pattern
        assert "POST" in one(behaviour["allowed_methods"]), pattern
    data = module("cloudfront").resource("aws_cloudfront_origin_request_policy", "all_viewer_except_host", kind="data")
    assert one(data.body["name"]) == "Managed-AllViewerExceptHostHeader"


def test_cloudfront_security_headers_policy():
    policy = module("cloudfront").resource("aws_cloudfront_response_headers_policy", "security").body
    headers = one(policy["security_headers_config"])
    hsts = one(headers["strict_transport_security"])
    assert one(hsts["access_control_max_age_sec"]) == 31536000
    assert one(hsts["preload"]) is True and one(hsts["include_subdomains"]) is True
    assert one(headers["content_type_options"]) == {"override": [True]}
    assert one(one(headers["frame_options"])["frame_option"]) == "DENY"
    assert one(one(headers["referrer_policy"])["referrer_policy"])
    ordered, default = cloudfront_behaviours()
    for _, behaviour in ordered + [("default", default)]:
        assert ref(behaviour["response_headers_policy_id"]) == "aws_cloudfront_response_headers_policy.security.id"


def test_cloudfront_uses_waf_http3_logging_and_a_secret_https_only_origin():
    cloudfront = module("cloudfront")
    distribution = cloudfront.resource("aws_cloudfront_distribution", "this").body
    assert one(distribution["http_version"]) == "http2and3"
    assert ref(distribution["web_acl_id"]) == "var.web_acl_arn"
    assert one(distribution["logging_config"])
    alb_origin = one(blocks(distribution, "origin"))
    config = one(alb_origin["custom_origin_config"])
    assert one(config["origin_protocol_policy"]) == "https-only"
    assert one(config["origin_ssl_protocols"]) == ["TLSv1.2"]
    header = one(alb_origin["custom_header"])
    assert ref(header["value"]) == "var.origin_verify_header_value"
    assert one(cloudfront.variables["origin_verify_header_value"]["sensitive"]) is True
    oac = cloudfront.resource("aws_cloudfront_origin_access_control", "web").body
    assert one(oac["signing_behavior"]) == "always"


def test_buckets_are_private_and_encrypted():
    for name in ("alb", "cloudfront"):
        tf = module(name)
        buckets = {r.name for r in tf.resources("aws_s3_bucket")}
        assert {r.name for r in tf.resources("aws_s3_bucket_public_access_block")} == buckets
        assert {r.name for r in tf.resources("aws_s3_bucket_server_side_encryption_configuration")} == buckets
        for block in tf.resources("aws_s3_bucket_public_access_block"):
            for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
                assert one(block.body[key]) is True
        for ownership in tf.resources("aws_s3_bucket_ownership_controls"):
            expected = "BucketOwnerPreferred" if (name, ownership.name) == ("cloudfront", "logs") else "BucketOwnerEnforced"
            assert one(one(ownership.body["rule"])["object_ownership"]) == expected


# --- WAF ---------------------------------------------------------------------------------------------


def test_waf_has_the_rate_rule_and_managed_groups():
    acl = module("waf").resource("aws_wafv2_web_acl", "this").body
    assert one(acl["scope"]) == "CLOUDFRONT"
    rules = blocks(acl, "rule")
    rate = [r for r in rules if "rate_based_statement" in one(r["statement"])]
    assert len(rate) == 1
    statement = one(one(rate[0]["statement"])["rate_based_statement"])
    assert ref(statement["limit"]) == "var.rate_limit_per_ip"
    assert one(statement["aggregate_key_type"]) == "IP"
    groups = {
        one(one(one(r["statement"])["managed_rule_group_statement"])["name"])
        for r in rules
        if "managed_rule_group_statement" in one(r["statement"])
    }
    assert {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesAnonymousIpList",
    } <= groups
    (bot,) = dynamic_blocks(acl, "rule")
    assert ref(bot["for_each"]) == "var.enable_bot_control ? [1] : []"
    assert "AWSManagedRulesBotControlRuleSet" in str(bot["content"])


def test_waf_is_created_in_us_east_1_and_attached_to_cloudfront():
    calls = stack().modules
    assert one(calls["waf"]["providers"]) == {"aws": "${aws.us_east_1}"}
    assert ref(calls["cloudfront"]["web_acl_arn"]) == "module.waf.web_acl_arn"
    for name in EXPECTED_ENVS:
        tf = env(name)
        providers = [p["aws"] for p in tf._top("provider") if "aws" in p]
        assert any(one(p.get("alias")) == "us_east_1" and one(p.get("region")) == "us-east-1" for p in providers)
        assert one(tf.modules[STACK]["providers"]) == {"aws": "${aws}", "aws.us_east_1": "${aws.us_east_1}"}


# --- Redis -------------------------------------------------------------------------------------------


def test_redis_is_encrypted_authenticated_and_never_evicts():
    redis = module("redis")
    group = redis.resource("aws_elasticache_replication_group", "this").body
    assert one(group["transit_encryption_enabled"]) is True
    assert one(group["transit_encryption_mode"]) == "required"
    assert one(group["at_rest_encryption_enabled"]) is True
    assert ref(group["auth_token"]) == "var.auth_token"
    assert one(redis.variables["auth_token"]["sensitive"]) is True
    # Spin has no Redis Cluster client.
    assert one(group["cluster_mode"]) == "disabled"
    assert "num_node_groups" not in group
    assert ref(group["multi_az_enabled"]) == "var.multi_az"
    assert ref(group["automatic_failover_enabled"]) == "var.multi_az"
    parameters = {one(p["name"]): one(p["value"]) for p in blocks(redis.resource("aws_elasticache_parameter_group", "this").body, "parameter")}
    assert parameters["maxmemory-policy"] == "noeviction"
    assert ref(stack().modules["redis"]["auth_token"]) == "module.secrets.redis_auth_token"


def test_prod_redis_fails_over_across_zones():
    assert env_value("prod", "redis", "multi_az") is True
    assert env_value("prod", "redis", "num_cache_clusters") >= 2


# --- Postgres ----------------------------------------------------------------------------------------


def test_postgres_is_encrypted_private_backed_up_and_tls_only():
    postgres = module("postgres")
    instance = postgres.resource("aws_db_instance", "this").body
    assert one(instance["storage_encrypted"]) is True
    assert ref(instance["kms_key_id"]) == "var.kms_key_arn"
    assert one(instance["publicly_accessible"]) is False
    assert one(instance["manage_master_user_password"]) is True
    assert "password" not in instance
    assert ref(instance["multi_az"]) == "var.multi_az"
    assert ref(instance["deletion_protection"]) == "var.deletion_protection"
    assert ref(instance["backup_retention_period"]) == "var.backup_retention_days"
    assert one(instance["skip_final_snapshot"]) is False
    validation = one(postgres.variables["backup_retention_days"]["validation"])
    assert "var.backup_retention_days >= 7" in ref(validation["condition"])
    parameters = {one(p["name"]): one(p["value"]) for p in blocks(postgres.resource("aws_db_parameter_group", "this").body, "parameter")}
    assert parameters["rds.force_ssl"] == "1"
    proxy = postgres.resource("aws_db_proxy", "this").body
    assert one(proxy["require_tls"]) is True
    assert one(proxy["vpc_security_group_ids"]) == ["${aws_security_group.proxy.id}"]


@pytest.mark.parametrize("name", EXPECTED_ENVS)
def test_every_environment_keeps_a_week_of_point_in_time_recovery(name):
    assert env_value(name, "postgres", "backup_retention_days") >= 7


def test_prod_protects_its_stateful_and_edge_resources():
    assert env_value("prod", "postgres", "multi_az") is True
    assert env_value("prod", "postgres", "deletion_protection") is True
    assert env_value("prod", "alb", "deletion_protection") is True
    assert env_value("prod", "secrets", "recovery_window_days") >= 7


def test_the_fleet_reaches_postgres_only_through_rds_proxy():
    calls = stack().modules
    assert ref(calls["spin_fleet"]["database_host"]) == "module.postgres.proxy_endpoint"
    assert ref(calls["migrations"]["database_host"]) == "module.postgres.instance_address"


# --- Spin fleet ------------------------------------------------------------------------------------


def test_fleet_requires_imdsv2_and_encrypted_disks():
    template = module("spin_fleet").resource("aws_launch_template", "this").body
    metadata = one(template["metadata_options"])
    assert one(metadata["http_tokens"]) == "required"
    assert one(metadata["http_put_response_hop_limit"]) == 1
    ebs = one(one(template["block_device_mappings"])["ebs"])
    assert one(ebs["encrypted"]) is True


def test_fleet_receives_no_secret_values_at_all():
    fleet = module("spin_fleet")
    # Names, ARNs and endpoints only: nothing sensitive can reach the user data.
    assert not [n for n, v in fleet.variables.items() if one(v.get("sensitive"))]
    for argument, value in stack().modules["spin_fleet"].items():
        assert "redis_auth_token" not in str(value) and "origin_verify" not in str(value), argument


def test_fleet_instance_role_is_least_privilege():
    document = module("spin_fleet").resource("aws_iam_policy_document", "instance", kind="data").body
    wildcard_ok = {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData", "ec2:DescribeTags"}
    for statement in blocks(document, "statement"):
        actions = one(statement["actions"])
        resources = one(statement["resources"])
        assert all("*" not in a for a in actions), actions
        if resources == ["*"]:
            assert set(actions) <= wildcard_ok, actions
        if "secretsmanager:GetSecretValue" in actions:
            assert "*" not in str(resources)
        if "kms:Decrypt" in actions:
            assert "kms:ViaService" in str(statement["condition"])


def test_fleet_shell_access_is_session_manager_only():
    fleet = module("spin_fleet")
    assert not fleet.resources("aws_iam_role_policy_attachment"), "no managed policies on the instance role"
    document = fleet.resource("aws_iam_policy_document", "session_manager", kind="data").body
    actions = {a for statement in blocks(document, "statement") for a in one(statement["actions"])}
    assert actions <= {"ssm:UpdateInstanceInformation"} | {
        f"ssmmessages:{verb}{kind}Channel" for verb in ("Create", "Open") for kind in ("Control", "Data")
    }
    template = fleet.resource("aws_launch_template", "this").body
    assert "key_name" not in template


def test_fleet_scales_on_requests_per_target_and_deploys_by_instance_refresh():
    fleet = module("spin_fleet")
    policy = fleet.resource("aws_autoscaling_policy", "requests_per_target").body
    tracking = one(policy["target_tracking_configuration"])
    assert one(one(tracking["predefined_metric_specification"])["predefined_metric_type"]) == "ALBRequestCountPerTarget"
    group = fleet.resource("aws_autoscaling_group", "this").body
    assert one(group["health_check_type"]) == "ELB"
    refresh = one(group["instance_refresh"])
    assert one(refresh["strategy"]) == "Rolling"
    preferences = one(refresh["preferences"])
    assert one(preferences["auto_rollback"]) is True
    assert one(preferences["min_healthy_percentage"]) == 100
    assert ref(one(group["launch_template"])["version"]) == "aws_launch_template.this.latest_version"
    assert ref(group["vpc_zone_identifier"]) == "var.subnet_ids"
    assert ref(stack().modules["spin_fleet"]["subnet_ids"]) == "module.network.private_subnet_ids"


def test_fleet_runs_a_spin_release_with_wasi_0_3():
    default = module_default("spin_fleet", "spin_version")
    major, minor, _ = (int(x) for x in default.split("."))
    assert (major, minor) >= (4, 1)
    validation = ref(one(module("spin_fleet").variables["spin_version"]["validation"])["condition"])
    assert ">= 1" in validation and "== 4" in validation


# --- Encryption at rest everywhere -------------------------------------------------------------------


def test_logs_secrets_parameters_and_repositories_use_the_customer_key():
    for tf in all_dirs():
        for group in tf.resources("aws_cloudwatch_log_group"):
            assert "kms_key_id" in group.body, f"{tf.path.name}: {group.address} is not KMS-encrypted"
        for secret in tf.resources("aws_secretsmanager_secret"):
            assert ref(secret.body["kms_key_id"]) == "aws_kms_key.this.arn"
        for parameter in tf.resources("aws_ssm_parameter"):
            assert one(parameter.body["type"]) == "SecureString"
        for repository in tf.resources("aws_ecr_repository"):
            assert one(repository.body["image_tag_mutability"]) == "IMMUTABLE"
            assert one(one(repository.body["encryption_configuration"])["encryption_type"]) == "KMS"
