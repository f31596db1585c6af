# Remote state. State holds the Redis AUTH token and the CloudFront origin-verify values (never the
# database passwords or the signing keys), so the bucket must be private, versioned and encrypted,
# and readable only by the people and pipelines that run Terraform.
#
# Create the bucket and the lock table once per AWS account (see docs/deploy.md, "Before the
# first apply"), then uncomment this block and run `terraform init -migrate-state`.
#
# terraform {
#   backend "s3" {
#     bucket         = "urr-terraform-state-<account-id>"
#     key            = "urr-edge/prod/terraform.tfstate"
#     region         = "ap-northeast-2"
#     encrypt        = true
#     kms_key_id     = "alias/urr-terraform-state"
#     dynamodb_table = "urr-terraform-locks"
#     # Terraform 1.10+ can lock with an S3 lock file instead of DynamoDB:
#     # use_lockfile = true
#   }
# }
