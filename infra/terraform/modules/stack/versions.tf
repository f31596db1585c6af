terraform {
  # 1.11: write-only arguments (modules/secrets), used to keep database passwords out of state.
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
      # The WAF of a CloudFront distribution must be created in us-east-1.
      configuration_aliases = [aws.us_east_1]
    }
  }
}
