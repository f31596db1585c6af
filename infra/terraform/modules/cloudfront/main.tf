# CloudFront in front of everything: the web app (S3 static site or an SSR server such as URR's
# Next.js app) on the default behaviour, the Spin API on /api/* and /health*.
#
# Caching rule: only GET/HEAD of the public event catalog (/api/v1/events*) is cached, briefly,
# keyed on the query string, and that behaviour forwards no cookies and no Authorization (so it
# cannot cache anything personal or anything that sets a cookie). Every other API path uses
# CachingDisabled and forwards cookies, Authorization, x-queue-entry-token, Idempotency-Key and
# Origin.

data "aws_caller_identity" "current" {}

# Managed policies, looked up by name.
data "aws_cloudfront_cache_policy" "caching_disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_cache_policy" "caching_optimized" {
  name = "Managed-CachingOptimized"
}

# Forwards every viewer header except Host (so CloudFront validates the origin certificate against
# the origin's own name), every cookie and query string, plus CloudFront's viewer headers such as
# CloudFront-Viewer-Address (the app's trusted client IP header). With caching disabled this is
# also the only way to forward Authorization.
data "aws_cloudfront_origin_request_policy" "all_viewer_except_host" {
  name = "Managed-AllViewerExceptHostHeader"
}

locals {
  alb_origin_id = "spin-alb"
  web_origin_id = "web"
  web_is_s3     = var.web_origin.type == "s3"

  # API paths that never touch the cache. Order matters: CloudFront takes the first match, and the
  # cached events behaviour comes before these.
  uncached_api_paths = ["/api/*", "/health*"]
}

# --- Cache and origin request policies for the one cached API path -----------------------------

resource "aws_cloudfront_cache_policy" "events" {
  name        = "${var.name}-public-events"
  comment     = "Public event reads: short TTL, keyed on the full query string and Origin (CORS)"
  min_ttl     = 0
  default_ttl = var.events_cache_ttl_secs
  max_ttl     = var.events_cache_max_ttl_secs

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_brotli = true
    enable_accept_encoding_gzip   = true

    query_strings_config {
      query_string_behavior = "all"
    }

    headers_config {
      header_behavior = "whitelist"

      headers {
        items = ["Origin"]
      }
    }

    # No cookies: a cached public read never sees (or sets) a session.
    cookies_config {
      cookie_behavior = "none"
    }
  }
}

resource "aws_cloudfront_origin_request_policy" "events" {
  name    = "${var.name}-public-events"
  comment = "Public event reads: CORS preflight headers and the viewer address; no cookies"

  cookies_config {
    cookie_behavior = "none"
  }

  headers_config {
    header_behavior = "whitelist"

    headers {
      items = [
        "Access-Control-Request-Headers",
        "Access-Control-Request-Method",
        "CloudFront-Viewer-Address",
      ]
    }
  }

  query_strings_config {
    query_string_behavior = "none"
  }
}

# --- Response headers --------------------------------------------------------------------------

resource "aws_cloudfront_response_headers_policy" "security" {
  name    = "${var.name}-security-headers"
  comment = "HSTS (1 year, preload), nosniff, frame DENY, referrer policy"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }

    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "DENY"
      override     = true
    }

    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
  }
}

# --- Web origin: S3 static site ---------------------------------------------------------------

resource "aws_s3_bucket" "web" {
  count = local.web_is_s3 ? 1 : 0

  bucket        = "${var.name}-web-${data.aws_caller_identity.current.account_id}"
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket_ownership_controls" "web" {
  count = local.web_is_s3 ? 1 : 0

  bucket = aws_s3_bucket.web[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "web" {
  count = local.web_is_s3 ? 1 : 0

  bucket                  = aws_s3_bucket.web[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "web" {
  count = local.web_is_s3 ? 1 : 0

  bucket = aws_s3_bucket.web[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "web" {
  count = local.web_is_s3 ? 1 : 0

  bucket = aws_s3_bucket.web[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "web" {
  count = local.web_is_s3 ? 1 : 0

  bucket = aws_s3_bucket.web[0].id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_cloudfront_origin_access_control" "web" {
  count = local.web_is_s3 ? 1 : 0

  name                              = "${var.name}-web"
  description                       = "CloudFront reads the URR web bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

data "aws_iam_policy_document" "web" {
  count = local.web_is_s3 ? 1 : 0

  statement {
    sid       = "CloudFrontReadsThroughOac"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.web[0].arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.this.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.web[0].arn, "${aws_s3_bucket.web[0].arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "web" {
  count = local.web_is_s3 ? 1 : 0

  bucket = aws_s3_bucket.web[0].id
  policy = data.aws_iam_policy_document.web[0].json

  depends_on = [aws_s3_bucket_public_access_block.web]
}

# --- Standard logs -------------------------------------------------------------------------------
# CloudFront standard logging writes through bucket ACLs, so this bucket keeps ACLs enabled
# (BucketOwnerPreferred) and uses SSE-S3.

resource "aws_s3_bucket" "logs" {
  bucket        = "${var.name}-cloudfront-logs-${data.aws_caller_identity.current.account_id}"
  force_destroy = var.force_destroy_buckets
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.log_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# --- Distribution ------------------------------------------------------------------------------

resource "aws_cloudfront_distribution" "this" {
  enabled             = true
  comment             = "URR Edge ${var.name}"
  is_ipv6_enabled     = true
  http_version        = "http2and3"
  price_class         = var.price_class
  aliases             = var.aliases
  web_acl_id          = var.web_acl_arn
  default_root_object = local.web_is_s3 ? "index.html" : null

  origin {
    origin_id   = local.alb_origin_id
    domain_name = var.alb_origin_domain_name

    custom_origin_config {
      http_port                = 80
      https_port               = 443
      origin_protocol_policy   = "https-only"
      origin_ssl_protocols     = ["TLSv1.2"]
      origin_read_timeout      = 30
      origin_keepalive_timeout = 5
    }

    # Proves to the ALB that the request came through this distribution.
    custom_header {
      name  = var.origin_verify_header_name
      value = var.origin_verify_header_value
    }
  }

  dynamic "origin" {
    for_each = local.web_is_s3 ? [1] : []

    content {
      origin_id                = local.web_origin_id
      domain_name              = aws_s3_bucket.web[0].bucket_regional_domain_name
      origin_access_control_id = aws_cloudfront_origin_access_control.web[0].id
    }
  }

  dynamic "origin" {
    for_each = local.web_is_s3 ? [] : [1]

    content {
      origin_id   = local.web_origin_id
      domain_name = var.web_origin.domain_name
      origin_path = var.web_origin.origin_path

      custom_origin_config {
        http_port              = 80
        https_port             = 443
        origin_protocol_policy = "https-only"
        origin_ssl_protocols   = ["TLSv1.2"]
      }
    }
  }

  # 1. The only cached API path: public event reads.
  ordered_cache_behavior {
    path_pattern               = "/api/v1/events*"
    target_origin_id           = local.alb_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = aws_cloudfront_cache_policy.events.id
    origin_request_policy_id   = aws_cloudfront_origin_request_policy.events.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
  }

  # 2. Everything else of the API and the health endpoints: never cached, full request forwarded.
  dynamic "ordered_cache_behavior" {
    for_each = local.uncached_api_paths

    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = local.alb_origin_id
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      cache_policy_id            = data.aws_cloudfront_cache_policy.caching_disabled.id
      origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id
      response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
    }
  }

  # 3. The web app. A static site is cached; an SSR server (cookies, sessions) is not.
  default_cache_behavior {
    target_origin_id           = local.web_origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = local.web_is_s3 ? ["GET", "HEAD", "OPTIONS"] : ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.web_is_s3 ? data.aws_cloudfront_cache_policy.caching_optimized.id : data.aws_cloudfront_cache_policy.caching_disabled.id
    origin_request_policy_id   = local.web_is_s3 ? null : data.aws_cloudfront_origin_request_policy.all_viewer_except_host.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
  }

  restrictions {
    geo_restriction {
      restriction_type = length(var.geo_allow_countries) > 0 ? "whitelist" : "none"
      locations        = var.geo_allow_countries
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = var.viewer_certificate_arn == null
    acm_certificate_arn            = var.viewer_certificate_arn
    ssl_support_method             = var.viewer_certificate_arn == null ? null : "sni-only"
    minimum_protocol_version       = var.viewer_certificate_arn == null ? "TLSv1" : "TLSv1.2_2021"
  }

  logging_config {
    bucket          = aws_s3_bucket.logs.bucket_domain_name
    prefix          = "cloudfront/"
    include_cookies = false
  }

  lifecycle {
    precondition {
      condition     = local.web_is_s3 || try(length(var.web_origin.domain_name) > 0, false)
      error_message = "A custom web origin needs web_origin.domain_name."
    }

    precondition {
      condition     = length(var.aliases) == 0 || var.viewer_certificate_arn != null
      error_message = "Aliases need viewer_certificate_arn (an ACM certificate in us-east-1)."
    }
  }

  depends_on = [aws_s3_bucket_ownership_controls.logs]
}
