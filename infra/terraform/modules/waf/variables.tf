variable "name" {
  type        = string
  description = "Name of the web ACL and prefix of its metrics, e.g. \"urr-prod\"."
}

variable "rate_limit_per_ip" {
  type        = number
  description = "Requests one IP may send within rate_limit_window_secs before WAF answers 429. Size it for a waiting room: a queued client polls status every few seconds."
  default     = 2000

  validation {
    condition     = var.rate_limit_per_ip >= 10
    error_message = "WAF rate-based rules need a limit of at least 10."
  }
}

variable "rate_limit_window_secs" {
  type        = number
  description = "Evaluation window of the per-IP rate rule, in seconds (60, 120, 300 or 600)."
  default     = 300

  validation {
    condition     = contains([60, 120, 300, 600], var.rate_limit_window_secs)
    error_message = "rate_limit_window_secs must be 60, 120, 300 or 600."
  }
}

variable "enable_bot_control" {
  type        = bool
  description = "Add the AWS Bot Control managed rule group (extra cost per request)."
  default     = false
}

variable "bot_control_inspection_level" {
  type        = string
  description = "Bot Control inspection level: COMMON or TARGETED."
  default     = "COMMON"

  validation {
    condition     = contains(["COMMON", "TARGETED"], var.bot_control_inspection_level)
    error_message = "bot_control_inspection_level must be COMMON or TARGETED."
  }
}

variable "block_anonymous_vpn_ips" {
  type        = bool
  description = "Block (instead of count) requests from VPNs, Tor and open proxies. Hosting-provider addresses are always blocked."
  default     = false
}

variable "webhook_path_fragment" {
  type        = string
  description = "URI path fragment of the payment provider's webhook, exempt from the anonymous-IP and bot rules (the provider calls from servers)."
  default     = "/payments/webhook"
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the WAF log group, in days."
  default     = 365
}
